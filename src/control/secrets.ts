// Secret references in specs: `{ref: "env:NAME"}`, `{ref: "file:/path"}`, or (local mode
// only) `{value: "…"}`. Resolved at use, never logged, never echoed back.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ErrorCode, TributaryError } from '../errors.js';

export const secretRefSchema = z.union([
  z.strictObject({ ref: z.string().regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/, 'must be env:NAME or file:/absolute/path') }),
  z.strictObject({ value: z.string().min(1) }),
]);
export type SecretRef = z.infer<typeof secretRefSchema>;

export function isInline(ref: SecretRef): ref is { value: string } {
  return 'value' in ref;
}

/** What may be shown of a reference: its kind and name, never a value. */
export function describeSecret(ref: SecretRef): string {
  return isInline(ref) ? '(inline value)' : ref.ref;
}

export async function resolveSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (isInline(ref)) return ref.value;
  if (ref.ref.startsWith('env:')) {
    const name = ref.ref.slice(4);
    const v = env[name];
    if (v === undefined || v === '') {
      throw new TributaryError(ErrorCode.secretUnresolved, `secret ${ref.ref}: environment variable ${name} is not set`);
    }
    return v;
  }
  const path = ref.ref.slice(5);
  try {
    const v = (await readFile(path, 'utf8')).trim();
    if (!v) throw new Error('file is empty');
    return v;
  } catch (err) {
    throw new TributaryError(ErrorCode.secretUnresolved, `secret ${ref.ref}: cannot read (${(err as Error).message})`);
  }
}

/** Replaces every secret-shaped object in a spec by its description, for echoing specs back. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (typeof value !== 'object' || value === null) return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && keys[0] === 'value' && typeof obj.value === 'string') return { value: '[redacted]' };
  return Object.fromEntries(keys.map((k) => [k, redactSecrets(obj[k])]));
}
