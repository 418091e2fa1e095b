// One record of the control topic decoded into what it asks for: run this spec, delete this
// integration, or nothing (rejected, with the reason and every problem's path). Pure.
import { ConfigError, errorMessage } from '../errors.js';
import { redactSecrets } from './secrets.js';
import { MAX_SPEC_BYTES, parseSpec, type IntegrationSpec, type SpecValidationOptions } from './spec.js';

export interface ControlRecord {
  partition: number;
  /** Kafka offset, decimal. */
  offset: string;
  key: string | null;
  /** null: a tombstone. */
  value: Buffer | null;
  /** Kafka record timestamp (ms since epoch, decimal). */
  timestamp: string;
}

export interface Issue {
  path: string;
  message: string;
}

export type Decoded =
  | { kind: 'spec'; id: string; spec: IntegrationSpec; json: string }
  | { kind: 'tombstone'; id: string }
  | { kind: 'invalid'; id: string | null; reason: string; issues: Issue[] };

/** Where a record sits, as stored in `lastRejection.at` and used to record each rejection once. */
export function positionOf(r: Pick<ControlRecord, 'partition' | 'offset'>): string {
  return `${r.partition}:${r.offset}`;
}

export function decodeControlRecord(r: ControlRecord, o: SpecValidationOptions): Decoded {
  const key = r.key;
  if (key === null || key === '') return { kind: 'invalid', id: null, reason: 'record has no key (the key must be the integration id)', issues: [] };
  if (r.value === null) return { kind: 'tombstone', id: key };
  let spec: IntegrationSpec;
  try {
    spec = parseSpec(r.value, o);
  } catch (err) {
    if (err instanceof ConfigError) {
      const issues = err.issues.map((i) => ({ path: i.path, message: i.message }));
      const reason = r.value.length > MAX_SPEC_BYTES ? 'document too large' : issues.some((i) => /not valid JSON/.test(i.message)) ? 'not valid JSON' : 'invalid spec';
      return { kind: 'invalid', id: key, reason, issues };
    }
    return { kind: 'invalid', id: key, reason: `cannot validate: ${errorMessage(err)}`, issues: [] };
  }
  if (spec.id !== key) {
    return { kind: 'invalid', id: key, reason: 'id does not match the record key', issues: [{ path: 'id', message: `is "${spec.id}" but the record key is "${key.slice(0, 130)}"` }] };
  }
  return { kind: 'spec', id: key, spec, json: JSON.stringify(spec) };
}

export const RAW_SHOWN_BYTES = 1_024;

/**
 * The head of a rejected document, safe to store and show: inline secret values are masked
 * (structurally when it parses, by pattern when it does not) before truncating.
 */
export function redactRaw(value: Buffer | null): string | null {
  if (value === null) return null;
  if (value.length <= MAX_SPEC_BYTES) {
    try {
      return truncate(JSON.stringify(redactSecrets(JSON.parse(value.toString('utf8')))));
    } catch {
      // not JSON: fall through to the pattern
    }
  }
  const head = value.subarray(0, 4 * RAW_SHOWN_BYTES).toString('utf8');
  return truncate(head.replace(/("value"\s*:\s*")((?:[^"\\]|\\.)*)("?)/g, '$1[redacted]$3'));
}

function truncate(s: string): string {
  return s.length > RAW_SHOWN_BYTES ? `${s.slice(0, RAW_SHOWN_BYTES)}…` : s;
}
