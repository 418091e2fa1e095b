// The webhook sink's configuration: one zod schema for type, defaults and messages, and a pure
// `validate` that adds what a schema cannot say alone (URL policy, local-only inline secrets).
import { z } from 'zod';
import { ConfigError, ErrorCode } from '../../errors.js';
import { zodIssues } from '../../config/zod-issues.js';
import { isInline, secretRefSchema } from '../../control/secrets.js';
import type { ValidateContext } from '../types.js';
import { checkSinkUrl } from '../http/url-policy.js';

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name');
const headerValue = z.string().max(4096).regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'must not contain control characters');

/** Headers Tributary sets itself, or that carry credentials and so belong in `auth`. */
const reservedHeader = (name: string): boolean =>
  /^(content-type|content-encoding|content-length|transfer-encoding|host|connection|keep-alive|upgrade|te|trailer|expect|authorization|proxy-authorization|cookie|x-tributary-.*)$/i.test(name);

const authSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({ type: z.literal('bearer'), token: secretRefSchema }),
  z.strictObject({ type: z.literal('basic'), username: z.string().min(1).regex(/^[^:]*$/, 'must not contain ":"'), password: secretRefSchema }),
  z.strictObject({
    type: z.literal('header'),
    name: headerName.refine((n) => !/^(content-|host$|connection$|transfer-encoding$|x-tributary-)/i.test(n), 'is set by Tributary'),
    value: secretRefSchema,
  }),
]);

export const webhookConfigSchema = z.strictObject({
  type: z.literal('webhook'),
  /** Where batches are POSTed: https (http to loopback in local mode only). */
  url: z.string().min(1).max(2048),
  /** `ndjson`: one event per line; `json-array`: one JSON array of events. */
  format: z.enum(['ndjson', 'json-array']).default('ndjson'),
  /** Gzip the body (Content-Encoding: gzip). */
  gzip: z.boolean().default(false),
  auth: authSchema.default({ type: 'none' }),
  /** HMAC-SHA256 request signing (X-Tributary-Signature). */
  signing: z.strictObject({ secret: secretRefSchema }).optional(),
  /** Whole-request deadline: connect, send, response headers and the bounded body read. */
  timeoutMs: z.number().int().min(100).max(300_000).default(30_000),
  maxBatchEvents: z.number().int().min(1).max(10_000).default(500),
  maxBatchBytes: z.number().int().min(1024).max(50 * 1024 * 1024).default(1024 * 1024),
  /** Parallel connections to the receiver. */
  maxConnections: z.number().int().min(1).max(64).default(4),
  retry: z
    .strictObject({
      initialMs: z.number().int().min(1).max(600_000).default(500),
      maxMs: z.number().int().min(1).max(3_600_000).default(60_000),
      multiplier: z.number().min(1).max(10).default(2),
      /** After retrying this long, the records are rejected (DLQ) with sink_retries_exhausted. */
      maxRetryAgeMs: z.number().int().min(0).max(7 * 24 * 3_600_000).default(6 * 3_600_000),
      /** Retry-After is honoured up to this. */
      maxRetryAfterMs: z.number().int().min(0).max(24 * 3_600_000).default(15 * 60_000),
    })
    .prefault({}),
  /** Static, non-secret headers added to every request. */
  headers: z.record(headerName, headerValue).default({}),
});

export type WebhookConfig = z.infer<typeof webhookConfigSchema>;
export type WebhookAuth = WebhookConfig['auth'];

type Issue = { path: string; message: string };

const prefixed = (issues: readonly Issue[]): Issue[] => issues.map((i) => ({ path: i.path ? `sink.${i.path}` : 'sink', message: i.message }));

/** Pure: validates a raw `sink` object (with `type: "webhook"`); throws ConfigError naming each bad key. */
export function validateWebhookConfig(raw: unknown, ctx: ValidateContext): WebhookConfig {
  const parsed = webhookConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(ErrorCode.configInvalid, 'invalid webhook sink', prefixed(zodIssues(parsed.error)));
  const config = parsed.data;
  const issues: Issue[] = [];

  const url = checkSinkUrl(config.url, { local: ctx.local });
  if (!url.ok) issues.push({ path: 'url', message: url.problem });

  for (const name of Object.keys(config.headers)) {
    if (reservedHeader(name)) issues.push({ path: `headers.${name}`, message: 'is reserved (set by Tributary, or a credential: use auth)' });
  }
  if (config.auth.type === 'header') {
    const authName = config.auth.name.toLowerCase();
    if (Object.keys(config.headers).some((h) => h.toLowerCase() === authName)) {
      issues.push({ path: 'auth.name', message: 'is also a static header; the secret would be ambiguous' });
    }
  }
  if (config.retry.maxMs < config.retry.initialMs) issues.push({ path: 'retry.maxMs', message: 'must be at least retry.initialMs' });

  // Inline secret values are for local experiments; in production a spec carries references only.
  if (!ctx.local) {
    const secrets: [string, unknown][] = [['signing.secret', config.signing?.secret]];
    if (config.auth.type === 'bearer') secrets.push(['auth.token', config.auth.token]);
    if (config.auth.type === 'basic') secrets.push(['auth.password', config.auth.password]);
    if (config.auth.type === 'header') secrets.push(['auth.value', config.auth.value]);
    for (const [path, ref] of secrets) {
      if (ref && isInline(ref as Parameters<typeof isInline>[0])) issues.push({ path, message: 'inline secret values are allowed in local mode only; use {"ref": "env:NAME"} or {"ref": "file:/path"}' });
    }
  }
  if (issues.length) throw new ConfigError(ErrorCode.configInvalid, 'invalid webhook sink', prefixed(issues));
  return config;
}
