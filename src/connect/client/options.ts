// The Connect client's options: one zod schema gives the type, the defaults and messages that
// name the bad key; `compileConnectClientOptions` validates once, at construction.
import { z } from 'zod';
import { ConfigError, ErrorCode } from '../../errors.js';
import { zodIssues } from '../../config/zod-issues.js';
import { defaultBackoff } from './backoff.js';
import { connectHosts } from './host-policy.js';
import { defaultHeadBytes, defaultMaxLineBytes } from './line-splitter.js';
import { defaultPoisonRawBytes } from './line-parser.js';

const ms = z.number().int().positive();
const decimalOffset = z.string().regex(/^\d{1,30}$/, 'must be a decimal offset string');

/** A filter object is passed through as written (CONNECT_API.md §1); Connect validates its keys. */
const filter = z.record(z.string(), z.unknown()).refine((f) => Object.keys(f).length > 0, 'a filter must not be empty');

const subset = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('SAMPLE'), proportion: z.number().min(0).max(1) }),
  z.strictObject({ type: z.literal('PARTITION'), count: z.number().int().positive(), selection: z.number().int().min(0) }),
]);

export const connectClientOptionsSchema = z
  .strictObject({
    /** Connect base URL: https://connect.urbanairship.com (NA) or https://connect.asnapieu.com (EU). */
    baseUrl: z.string().min(1).default('https://connect.urbanairship.com'),
    /** Path of the event stream; `/api/events` and `/api/events/` are equivalent. */
    path: z.string().startsWith('/').default('/api/events'),
    appKey: z.string().min(1),
    /** The RTDS bearer token. A secret: never logged, sent only to baseUrl's host. */
    token: z.string().min(1),
    /** Where to start when the caller has confirmed no offset (and gave no resumeOffset). */
    start: z.enum(['EARLIEST', 'LATEST']).default('LATEST'),
    /** The last durable offset from a previous run (the checkpoint); counts as confirmed. */
    resumeOffset: decimalOffset.optional(),
    filters: z.array(filter).min(1, 'an empty filters array is a 400 at Connect: omit it instead').optional(),
    subset: subset.optional(),
    enableOffsetUpdates: z.boolean().default(false),
    /** Local emulators and tests only: any host, http allowed. */
    allowAnyHost: z.boolean().default(false),
    allowedHosts: z.array(z.string().min(1)).min(1).default([...connectHosts]),
    userAgent: z.string().min(1).default('tributary-connect-client'),
    connectTimeoutMs: ms.default(10_000),
    headersTimeoutMs: ms.default(30_000),
    /** No complete line and no keep-alive for this long while waiting for data ⇒ reconnect. */
    idleTimeoutMs: ms.default(30_000),
    /** A connection that lived this long counts as healthy even without events (resets backoff). */
    healthyAfterMs: ms.default(10_000),
    maxLineBytes: ms.default(defaultMaxLineBytes),
    poisonHeadBytes: ms.default(defaultHeadBytes),
    poisonRawBytes: ms.default(defaultPoisonRawBytes),
    /** This many bad lines in a row (corrupt bytes reaching the parser) ⇒ drop the connection. */
    maxConsecutiveBadLines: ms.default(5),
    /** Consecutive 307s followed at once; past this the client backs off before each try. */
    maxRedirects: z.number().int().min(0).default(5),
    backoff: z
      .strictObject({
        initialMs: ms.default(defaultBackoff.initialMs),
        multiplier: z.number().min(1).default(defaultBackoff.multiplier),
        maxMs: ms.default(defaultBackoff.maxMs),
      })
      .prefault({}),
    /** Longest Retry-After honoured; a larger value is clamped (a typo must not park us for days). */
    maxRetryAfterMs: ms.default(15 * 60_000),
    /** Decompressed chunk size; larger chunks mean fewer iterations per MB. */
    chunkBytes: z.number().int().min(1024).max(1024 * 1024).default(64 * 1024),
  })
  .refine((o) => o.poisonHeadBytes <= o.maxLineBytes, { message: 'must not exceed maxLineBytes', path: ['poisonHeadBytes'] });

export type ConnectClientOptionsInput = z.input<typeof connectClientOptionsSchema>;
export type ConnectClientOptions = z.output<typeof connectClientOptionsSchema>;

/** Validates options; throws a ConfigError naming every bad key (the token's value is never echoed). */
export function compileConnectClientOptions(input: ConnectClientOptionsInput): ConnectClientOptions {
  const parsed = connectClientOptionsSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(ErrorCode.configInvalid, 'invalid Connect client options', zodIssues(parsed.error));
  return parsed.data;
}
