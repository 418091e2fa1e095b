// Validation of a stream request body (CONNECT_API.md §1, §8.3): the allowed keys only, no empty
// arrays, no `start` with `resume_offset`; pure, so every rule is unit-tested without sockets.
import { z } from 'zod';
import { connectErrorCode } from './error-response.js';
import { platforms } from './devices.js';

function nonEmpty<T extends z.ZodType>(item: T) {
  return z.array(item).min(1, 'must not be an empty array');
}

function exactlyOneKey(o: Record<string, unknown>): boolean {
  return Object.values(o).filter((v) => v !== undefined).length === 1;
}

const primitive = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const matcherSchema = z
  .strictObject({
    equals: primitive.optional(),
    at_least: z.number().optional(),
    at_most: z.number().optional(),
    is_present: z.boolean().optional(),
    version_matches: z.string().optional(),
    array_contains: primitive.optional(),
    ignore_case: z.boolean().optional(),
  })
  .refine((m) => Object.entries(m).filter(([k, v]) => k !== 'ignore_case' && v !== undefined).length === 1, 'needs exactly one matcher');

const leafSchema = z.strictObject({
  key: z.string().min(1),
  /** A path into the event: a string (Java) or an array of keys. */
  scope: z.union([z.string().min(1), nonEmpty(z.string().min(1))]).optional(),
  value: matcherSchema,
  index: z.number().int().min(0).optional(),
});

export type Matcher = z.infer<typeof matcherSchema>;
export type PredicateLeaf = z.infer<typeof leafSchema>;
export type Predicate = { and: Predicate[] } | { or: Predicate[] } | { not: Predicate } | PredicateLeaf;

const predicateSchema: z.ZodType<Predicate> = z.lazy(() =>
  z.union([
    z.strictObject({ and: nonEmpty(predicateSchema) }),
    z.strictObject({ or: nonEmpty(predicateSchema) }),
    z.strictObject({ not: predicateSchema }),
    leafSchema,
  ]),
);

const deviceRefSchema = z
  .strictObject({
    channel: z.string().min(1).optional(),
    ios_channel: z.string().min(1).optional(),
    android_channel: z.string().min(1).optional(),
    amazon_channel: z.string().min(1).optional(),
    named_user_id: z.string().min(1).optional(),
  })
  .refine(exactlyOneKey, 'needs exactly one of channel, ios_channel, android_channel, amazon_channel, named_user_id');

const notificationRefSchema = z
  .strictObject({ push_id: z.string().min(1).optional(), group_id: z.string().min(1).optional() })
  .refine(exactlyOneKey, 'needs exactly one of push_id, group_id');

const userRefSchema = z
  .strictObject({ named_user_id: z.string().min(1).optional(), contact_id: z.string().min(1).optional() })
  .refine(exactlyOneKey, 'needs exactly one of named_user_id, contact_id');

export const filterSchema = z.strictObject({
  types: nonEmpty(z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must be an upper-case event type')).optional(),
  device_types: nonEmpty(z.enum(platforms)).optional(),
  devices: nonEmpty(deviceRefSchema).optional(),
  /** Python and the docs send one object; Java sends an array of them. */
  notifications: z.union([notificationRefSchema, nonEmpty(notificationRefSchema)]).optional(),
  latency: z.number().int().min(0).optional(),
  predicates: nonEmpty(predicateSchema).optional(),
  users: nonEmpty(userRefSchema).optional(),
});
export type Filter = z.infer<typeof filterSchema>;

export const subsetSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('SAMPLE'), proportion: z.number().min(0).max(1) }),
  z.strictObject({ type: z.literal('PARTITION'), count: z.number().int().min(1), selection: z.number().int().min(0) }),
]);
export type Subset = z.infer<typeof subsetSchema>;

const bodySchema = z
  .strictObject({
    start: z.enum(['EARLIEST', 'LATEST']).optional(),
    resume_offset: z.union([z.string().regex(/^\d{1,30}$/, 'must be a decimal offset'), z.number().int().min(0)]).optional(),
    filters: nonEmpty(filterSchema).optional(),
    subset: subsetSchema.optional(),
    enable_offset_updates: z.boolean().optional(),
  })
  .superRefine((b, ctx) => {
    if (b.subset?.type === 'PARTITION' && b.subset.selection >= b.subset.count) {
      ctx.addIssue({ code: 'custom', path: ['subset', 'selection'], message: 'must be less than count' });
    }
  });

export interface StreamRequest {
  /** Where to begin when no resume_offset is given; LATEST when the body names neither. */
  start: 'EARLIEST' | 'LATEST';
  /** Exclusive: the stream begins after this offset. */
  resumeOffset?: number;
  filters?: Filter[];
  subset?: Subset;
  offsetUpdates: boolean;
}

export type BodyValidation =
  | { ok: true; request: StreamRequest }
  | { ok: false; error: string; errorCode: number; details: { path: string; message: string } };

/** Parses and validates a request body (an empty body is `{}`). */
export function parseRequestBody(text: string): BodyValidation {
  let raw: unknown = {};
  if (text.trim() !== '') {
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return reject('Could not parse request body', connectErrorCode.invalidJson, '', (err as Error).message);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return reject('Request body must be a JSON object', connectErrorCode.invalidValue, '', 'expected an object');
  }
  const fields = raw as Record<string, unknown>;
  if (fields.start !== undefined && fields.resume_offset !== undefined) {
    return reject('start and resume_offset are mutually exclusive', connectErrorCode.startWithResume, 'start', 'remove start or resume_offset');
  }
  const result = bodySchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0]!;
      return reject(`Unexpected attribute "${key}"`, connectErrorCode.unknownKey, path ? `${path}.${key}` : key, 'unknown key');
    }
    if (issue.code === 'too_small' && issue.origin === 'array') {
      return reject(`Empty array at ${path}`, connectErrorCode.emptyArray, path, issue.message);
    }
    return reject(`Invalid value at ${path || '(root)'}`, connectErrorCode.invalidValue, path, issue.message);
  }
  const b = result.data;
  const request: StreamRequest = { start: b.start ?? 'LATEST', offsetUpdates: b.enable_offset_updates ?? false };
  if (b.resume_offset !== undefined) {
    const n = Number(b.resume_offset);
    // An offset beyond what a double holds exactly is beyond every offset this emulator issues.
    request.resumeOffset = Number.isSafeInteger(n) ? n : Number.MAX_SAFE_INTEGER;
  }
  if (b.filters) request.filters = b.filters;
  if (b.subset) request.subset = b.subset;
  return { ok: true, request };
}

function reject(error: string, errorCode: number, path: string, message: string): BodyValidation {
  return { ok: false, error, errorCode, details: { path, message } };
}
