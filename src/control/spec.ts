// Integration spec v1: the desired state of one integration, as customers write it to the
// control topic (or, before the control plane, in a spec file). One zod schema gives the type,
// defaults, per-tier settings and error messages with the path of each problem.
import { z } from 'zod';
import { ConfigError, ErrorCode } from '../errors.js';
import { integrationIdSchema } from '../kafka/topics.js';
import { zodIssues } from '../config/zod-issues.js';
import { secretRefSchema } from './secrets.js';
import { flagValuesSchema } from './flags.js';

export const MAX_SPEC_BYTES = 64 * 1024;

export const tiers = ['small', 'medium', 'large'] as const;
export type Tier = (typeof tiers)[number];

/** Connect hosts a bearer token may be sent to (RELIABILITY.md, security checklist). */
export const connectHosts = ['connect.urbanairship.com', 'connect.asnapieu.com'] as const;

const filterSchema = z.strictObject({
  types: z.array(z.string().regex(/^[A-Z_]+$/, 'must be an upper-case event type')).min(1).optional(),
  device_types: z.array(z.enum(['ios', 'android', 'amazon', 'sms', 'email', 'web', 'open'])).min(1).optional(),
  devices: z
    .array(
      z.union([
        z.strictObject({ channel: z.string().min(1) }),
        z.strictObject({ ios_channel: z.string().min(1) }),
        z.strictObject({ android_channel: z.string().min(1) }),
        z.strictObject({ amazon_channel: z.string().min(1) }),
        z.strictObject({ named_user_id: z.string().min(1) }),
      ]),
    )
    .min(1)
    .optional(),
  notifications: z
    .union([
      z.strictObject({ push_id: z.string().min(1) }),
      z.strictObject({ group_id: z.string().min(1) }),
      z.array(z.union([z.strictObject({ push_id: z.string().min(1) }), z.strictObject({ group_id: z.string().min(1) })])).min(1),
    ])
    .optional(),
  latency: z.number().int().positive().optional(),
});

const subsetSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('SAMPLE'), proportion: z.number().gt(0).lte(1) }),
  z.strictObject({ type: z.literal('PARTITION'), count: z.number().int().min(1), selection: z.number().int().min(0) }),
]);

export const replaySchema = z.strictObject({
  /** Unique per request (the CLI uses a timestamp and random suffix). */
  requestId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 chars of A-Z, a-z, 0-9, ".", "_", ":" or "-"'),
  /** `earliest`, or an ISO 8601 time with a zone (e.g. 2025-01-31T12:00:00Z). */
  from: z.union([z.literal('earliest'), z.iso.datetime({ offset: true })]),
});
export type ReplayRequest = z.infer<typeof replaySchema>;

const tierDefaults: Record<Tier, { partitions: number; retentionMs: number; dedupWindow: number }> = {
  small: { partitions: 1, retentionMs: 3 * 86_400_000, dedupWindow: 10_000 },
  medium: { partitions: 3, retentionMs: 5 * 86_400_000, dedupWindow: 50_000 },
  large: { partitions: 6, retentionMs: 7 * 86_400_000, dedupWindow: 200_000 },
};

export function tierSettings(tier: Tier) {
  return tierDefaults[tier];
}

function buildSpecSchema(opts: { local: boolean }) {
  return z
    .strictObject({
      version: z.literal(1),
      id: integrationIdSchema,
      /** The customer account the integration belongs to; once set, an update naming another tenant is rejected. */
      tenantId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 chars of A-Z, a-z, 0-9, ".", "_", ":" or "-"').optional(),
      app: z.strictObject({
        key: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an Airship app key'),
        size: z.enum(tiers),
      }),
      connect: z.strictObject({
        url: z.string().superRefine((value, ctx) => {
          const problem = connectUrlProblem(value, opts.local);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
        token: secretRefSchema,
        start: z.enum(['EARLIEST', 'LATEST']).default('LATEST'),
        filters: z.array(filterSchema).min(1).optional(),
        subset: subsetSchema.optional(),
        idleTimeoutMs: z.number().int().min(1_000).max(600_000).optional(),
      }),
      /** Sink config: `type` picks the sink; the rest is validated by that sink's own schema. */
      sink: z.looseObject({ type: z.string().min(1) }),
      state: z.enum(['running', 'paused']).default('running'),
      /**
       * A replay request: the owning node moves the sink's consumer group back to `from` once per
       * `requestId` (recorded in the state row), so re-reading the spec never replays twice.
       */
      replay: replaySchema.optional(),
      /** Feature flags for this integration (docs/flags.md); override the node's fleet and per-app values. */
      flags: flagValuesSchema.optional(),
      options: z
        .strictObject({
          partitions: z.number().int().min(1).max(64).optional(),
          retentionMs: z.number().int().min(3_600_000).optional(),
          dedupWindow: z.number().int().min(100).max(2_000_000).optional(),
          batch: z
            .strictObject({
              maxEvents: z.number().int().min(1).max(10_000).default(500),
              maxBytes: z.number().int().min(1_024).max(900_000).default(512 * 1024),
              lingerMs: z.number().int().min(0).max(60_000).default(100),
            })
            .prefault({}),
          /**
           * Marks the integration as an end-to-end canary (docs/alerting.md "Canary"): its app emits
           * steadily, and a delivery later than `maxLatencyMs` after Connect processed the event, or
           * no delivery for `maxSilenceMs`, is a failure of this integration (paged by its tier's rule).
           */
          canary: z
            .strictObject({
              maxLatencyMs: z.number().int().min(100).max(3_600_000),
              maxSilenceMs: z.number().int().min(1_000).max(3_600_000).default(60_000),
            })
            .optional(),
        })
        .prefault({}),
    })
    .superRefine((spec, ctx) => {
      if (!opts.local && 'value' in spec.connect.token) {
        ctx.addIssue({ code: 'custom', path: ['connect', 'token'], message: 'inline secret values are allowed in local mode only; use {"ref":"env:NAME"} or {"ref":"file:/path"}' });
      }
    });
}

type SpecSchema = ReturnType<typeof buildSpecSchema>;
export type IntegrationSpec = z.infer<SpecSchema>;

const specSchemas = new Map<boolean, SpecSchema>();

/**
 * The spec schema for local or deployed mode, built once per mode: building one (and zod's first
 * parse, which compiles it) cost ~0.9 ms per spec parsed, a second of CPU for a node loading 1,000.
 */
export function makeSpecSchema(opts: { local: boolean }): SpecSchema {
  let schema = specSchemas.get(opts.local);
  if (!schema) specSchemas.set(opts.local, (schema = buildSpecSchema(opts)));
  return schema;
}

export function connectUrlProblem(value: string, local: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a URL';
  }
  if (url.username || url.password) return 'must not contain credentials';
  if (!/^\/api\/events\/?$/.test(url.pathname)) return 'must be the Connect events endpoint (/api/events)';
  if (local && (url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]')) {
    return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : 'must be http(s)';
  }
  if (url.protocol !== 'https:') return 'must be https';
  if (!(connectHosts as readonly string[]).includes(url.hostname)) return `host must be one of ${connectHosts.join(', ')}`;
  return undefined;
}

export interface SpecValidationOptions {
  local: boolean;
  /** The sink registry's validator; problems are reported under `sink.`. */
  validateSink?: (raw: unknown, ctx: { local: boolean }) => unknown;
}

/** Parses a spec from raw bytes or a parsed value; throws ConfigError with every problem's path. */
export function parseSpec(input: Buffer | string | unknown, o: SpecValidationOptions): IntegrationSpec {
  let raw: unknown = input;
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    const size = Buffer.isBuffer(input) ? input.length : Buffer.byteLength(input);
    if (size > MAX_SPEC_BYTES) {
      throw new ConfigError(ErrorCode.specInvalid, 'invalid integration spec', [{ path: '', message: `document is ${size} bytes; the limit is ${MAX_SPEC_BYTES}` }]);
    }
    try {
      raw = JSON.parse(input.toString());
    } catch (err) {
      throw new ConfigError(ErrorCode.specInvalid, 'invalid integration spec', [{ path: '', message: `not valid JSON (${(err as Error).message})` }]);
    }
  }
  const result = makeSpecSchema({ local: o.local }).safeParse(raw);
  if (!result.success) throw new ConfigError(ErrorCode.specInvalid, 'invalid integration spec', zodIssues(result.error));
  if (o.validateSink) {
    try {
      o.validateSink(result.data.sink, { local: o.local });
    } catch (err) {
      if (err instanceof ConfigError) {
        throw new ConfigError(
          ErrorCode.specInvalid,
          'invalid integration spec',
          err.issues.map((i) => ({ path: i.path.startsWith('sink') ? i.path : `sink${i.path ? `.${i.path}` : ''}`, message: i.message })),
        );
      }
      throw err;
    }
  }
  return result.data;
}
