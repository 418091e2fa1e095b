// The emulator's options and apps file as one zod schema: types, defaults, and messages that
// name the bad key (`apps.2.rate: …`). Fault knobs share the schema used by the admin API.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, ErrorCode } from '../../errors.js';
import { zodIssues } from '../../config/zod-issues.js';
import { eventTypeSpecs } from './event-bodies.js';
import { sizeTiers } from './event-generator.js';

const generatableTypes = new Set(eventTypeSpecs.map((s) => s.type));

const count = z.number().int().min(0);
const probability = z.number().min(0).max(1);
const eventType = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must be an upper-case event type such as CUSTOM');

/** Statuses a fault may answer with instead of a stream. */
export const faultStatuses = [400, 401, 402, 403, 404, 406, 429, 500, 502, 503, 504] as const;

export const faultSchema = z.strictObject({
  /** End the stream cleanly (gzip finished) after this many events. */
  closeAfterEvents: count.optional(),
  /** End the stream cleanly this long after it started. */
  closeAfterMs: count.optional(),
  /** After this many events, send half of the next line's compressed bytes and stop mid-gzip-member. */
  truncateAfterEvents: count.optional(),
  /** `end`: finish the HTTP response (chunked terminator) with the gzip unfinished; `reset`: destroy the socket. */
  truncateMode: z.enum(['end', 'reset']).optional(),
  /** After this many events, send a deflate block that cannot decode, then end the response. */
  corruptAfterEvents: count.optional(),
  /** After this many events, send `malformedLine` as one line (default `{"id":`), then go on. */
  malformedLineAfterEvents: count.optional(),
  malformedLine: z.string().refine((s) => !s.includes('\n'), 'must not contain a newline').optional(),
  /** After this many events, send one line of `longLineBytes` bytes (streamed, never held in memory), then go on. */
  longLineAfterEvents: count.optional(),
  longLineBytes: z.number().int().min(1).max(4 * 1024 ** 3).optional(),
  /** Probability that a newly generated entry repeats a recent event (same id, new offset and processed). */
  duplicateProbability: probability.optional(),
  /** Probability that a newly generated event's `occurred` lies minutes to hours before its neighbours'. */
  outOfOrderProbability: probability.optional(),
  /** Answer the next `count` requests with this status instead of a stream. */
  status: z
    .strictObject({
      code: z.union(faultStatuses.map((c) => z.literal(c)), { error: `must be one of ${faultStatuses.join(', ')}` }),
      count: z.number().int().min(1).default(1),
      retryAfterSeconds: count.optional(),
      message: z.string().optional(),
    })
    .optional(),
  /** Answer every request with 307 + a new SRV cookie, even when a valid cookie is echoed. */
  redirectForever: z.boolean().optional(),
  /** Send the response `bytes` at a time, one write every `everyMs`. */
  trickle: z.strictObject({ bytes: z.number().int().min(1).default(1), everyMs: z.number().int().min(1) }).optional(),
  /** Stream faults (close, truncate, corrupt, malformed, long line, trickle) apply to this many streams, then lapse. */
  connections: z.number().int().min(1).optional(),
});
export type Fault = z.infer<typeof faultSchema>;
export type FaultInput = z.input<typeof faultSchema>;

export const appSchema = z.strictObject({
  /** The app key clients send in X-UA-Appkey. */
  key: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -'),
  /** The RTDS bearer token. */
  token: z.string().min(1),
  /** Enables the compliance stream (/api/events/general, Basic key:masterSecret) and COMPLIANCE events. */
  masterSecret: z.string().min(1).optional(),
  size: z.enum(sizeTiers).default('medium'),
  /** Average events per second (small apps arrive in bursts), or `max`: as fast as a client reads. */
  rate: z.union([z.number().positive(), z.literal('max')], { error: 'must be a positive number of events per second or "max"' }).optional(),
  /** Seed of this app's events; derived from the emulator seed and the key when absent. */
  seed: z.number().int().min(0).max(0xffffffff).optional(),
  /** Produce this many log entries (duplicates included), then nothing more. */
  totalEvents: count.optional(),
  /** Entries already in the retention window at start (timestamped in the past). */
  initialEvents: count.default(0),
  /** Pads CUSTOM events to about this many bytes per line. */
  eventBytes: z.number().int().min(256).max(16 * 1024 * 1024).optional(),
  /** Only these event types are generated. */
  eventTypes: z.array(eventType).min(1).optional(),
  /** Retention window, in entries: EARLIEST is the oldest retained. */
  retainEvents: z.number().int().min(1).max(10_000_000).default(10_000),
  /** Offset of the app's first entry. */
  firstOffset: count.default(1_000_000),
  /** Overrides the emulator-wide `affinity`. */
  affinity: z.boolean().optional(),
  /** More concurrent streams than this are answered 402. */
  maxConnections: z.number().int().min(1).optional(),
  /** Requesting these types in `filters[].types` is answered 403; unfiltered streams skip them. */
  notEntitledTypes: z.array(eventType).optional(),
  /** The server ends each stream after this long (clients must resume), like real Connect sessions. */
  sessionMaxMs: z.number().int().min(1).optional(),
  duplicateProbability: probability.default(0),
  outOfOrderProbability: probability.default(0),
  /**
   * Keep each batch's compressed bytes once served, and send them again to any stream that reads
   * the same events: a benchmark reads an app's events once before the measured run, so the node
   * is served without the emulator compressing them again (Airship's CPU in production, not ours).
   */
  cacheBatches: z.boolean().default(false),
});
export type AppOptions = z.infer<typeof appSchema>;
export type AppInput = z.input<typeof appSchema>;

export const emulatorOptionsSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(0),
    /** Seed of every app that sets none (each app's seed mixes in its key). */
    seed: z.number().int().min(0).max(0xffffffff).default(1),
    /** Idle time after which a stream gets a blank line (or OFFSET_UPDATE). */
    keepAliveMs: z.number().int().min(10).default(1_000),
    /** Answer 307 + SRV cookie to requests without a valid cookie (per-app `affinity` overrides). */
    affinity: z.boolean().default(false),
    apps: z.array(appSchema).min(1, 'needs at least one app'),
    /** Faults in force at start, by app key or `*` for every app. */
    faults: z.record(z.string(), faultSchema).default({}),
    /** Served-event entries kept in memory per app (the oldest are dropped beyond it). */
    servedLimit: z.number().int().min(0).default(200_000),
    /** Append every served event as an NDJSON line to this file. */
    servedFile: z.string().min(1).optional(),
    /** gzip level of streams (1 is fastest; benchmarks that measure the client may want it). */
    gzipLevel: z.number().int().min(0).max(9).default(6),
    /** Serve the admin API under /_admin. */
    admin: z.boolean().default(true),
  })
  .superRefine((o, ctx) => {
    const seen = new Set<string>();
    o.apps.forEach((a, i) => {
      if (seen.has(a.key)) ctx.addIssue({ code: 'custom', path: ['apps', i, 'key'], message: `duplicate app key "${a.key}"` });
      seen.add(a.key);
      for (const [j, t] of (a.eventTypes ?? []).entries()) {
        if (!generatableTypes.has(t)) {
          ctx.addIssue({ code: 'custom', path: ['apps', i, 'eventTypes', j], message: `"${t}" is not a type the generator produces (${[...generatableTypes].join(', ')})` });
        }
      }
      if (a.eventTypes?.includes('COMPLIANCE') && !a.masterSecret) {
        ctx.addIssue({ code: 'custom', path: ['apps', i, 'eventTypes'], message: 'COMPLIANCE events need a masterSecret' });
      }
    });
    for (const key of Object.keys(o.faults)) {
      if (key !== '*' && !seen.has(key)) ctx.addIssue({ code: 'custom', path: ['faults', key], message: 'no app has this key (use "*" for every app)' });
    }
  });
export type EmulatorOptions = z.infer<typeof emulatorOptionsSchema>;
export type EmulatorInput = z.input<typeof emulatorOptionsSchema>;

/** Validates options (a bare array is taken as the `apps` list), or throws a ConfigError naming every bad key. */
export function parseEmulatorOptions(raw: unknown, source = 'emulator options'): EmulatorOptions {
  const input = Array.isArray(raw) ? { apps: raw } : raw;
  const result = emulatorOptionsSchema.safeParse(input);
  if (!result.success) throw new ConfigError(ErrorCode.configInvalid, `invalid ${source}`, zodIssues(result.error));
  return result.data;
}

export function parseFault(raw: unknown, source = 'fault'): Fault {
  const result = faultSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(ErrorCode.configInvalid, `invalid ${source}`, zodIssues(result.error));
  return result.data;
}

/** Reads an apps file (JSON); the caller merges CLI flags and then calls parseEmulatorOptions. */
export function readAppsFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(ErrorCode.configInvalid, `cannot read apps file ${path}`, [{ path: '', message: (err as Error).message }]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(ErrorCode.configInvalid, `apps file ${path} is not valid JSON`, [{ path: '', message: (err as Error).message }]);
  }
  if (Array.isArray(parsed)) return { apps: parsed };
  if (typeof parsed !== 'object' || parsed === null) {
    throw new ConfigError(ErrorCode.configInvalid, `apps file ${path}`, [{ path: '', message: 'must be a JSON object with "apps" or an array of apps' }]);
  }
  return parsed as Record<string, unknown>;
}
