// The s3 sink's configuration: gzip NDJSON or Parquet objects in a customer's bucket, one object per write,
// under Hive-style time partitions. Pure validation; the bucket is checked by the healthcheck.
import { z } from 'zod';
import { ConfigError, ErrorCode } from '../../errors.js';
import { zodIssues } from '../../config/zod-issues.js';
import type { ValidateContext } from '../types.js';
import { awsConnectionIssues, awsConnectionShape, prefixed } from '../aws/config.js';

// S3 bucket naming rules for new buckets (general purpose): 3-63 of [a-z0-9.-], starts and ends
// alphanumeric, no "..", not an IP address.
const bucketSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be 3-63 characters of [a-z0-9.-], starting and ending with a letter or digit')
  .refine((b) => !b.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(b), 'must not contain ".." or be an IP address');

// Characters S3 documents as safe in keys; "/" separates levels. No leading "/", no empty level.
const prefixSchema = z
  .string()
  .max(512)
  .regex(/^([A-Za-z0-9!_.*'()=-]+\/)*([A-Za-z0-9!_.*'()=-]+\/?)?$/, "must be key levels of [A-Za-z0-9!_.*'()=-] separated by single '/', not starting with '/'");

const encryptionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('AES256') }),
  z.strictObject({ type: z.literal('aws:kms'), kmsKeyId: z.string().min(1).max(2048).optional() }),
]);

export const s3ConfigSchema = z.strictObject({
  type: z.literal('s3'),
  bucket: bucketSchema,
  /** Key prefix before `app=…/`; a trailing "/" is added when missing. */
  prefix: z.string().default('').pipe(prefixSchema),
  ...awsConnectionShape,
  /** Use path-style URLs (`endpoint/bucket/key`): needed by most S3-compatible servers. */
  forcePathStyle: z.boolean().default(false),
  serverSideEncryption: encryptionSchema.optional(),
  /** Object format: gzip NDJSON (the events byte for byte) or Parquet (snappy, the schema in docs/sinks/s3.md). */
  format: z.enum(['ndjson.gz', 'parquet']).default('ndjson.gz'),
  /** At most this many events per object: the caller batches up to it. */
  maxBatchEvents: z.number().int().min(1).max(1_000_000).default(10_000),
  /** At most this many event bytes (JSON, newlines not counted) per object. */
  maxBatchBytes: z.number().int().min(1024).max(512 * 1024 * 1024).default(8 * 1024 * 1024),
  /** How long the broker may hold a fetch to gather a bigger object; capped at a third of the Kafka session timeout (docs/sinks/s3.md, "Batching"). */
  maxBatchAgeMs: z.number().int().min(100).max(3_600_000).default(300_000),
});

export type S3Config = z.infer<typeof s3ConfigSchema>;

/** Pure: validates a raw `sink` object (with `type: "s3"`); throws ConfigError naming each bad key. */
export function validateS3Config(raw: unknown, ctx: ValidateContext): S3Config {
  const parsed = s3ConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(ErrorCode.configInvalid, 'invalid s3 sink', prefixed(zodIssues(parsed.error)));
  const issues = awsConnectionIssues(parsed.data, ctx);
  if (issues.length) throw new ConfigError(ErrorCode.configInvalid, 'invalid s3 sink', prefixed(issues));
  const config = parsed.data;
  return { ...config, prefix: config.prefix && !config.prefix.endsWith('/') ? `${config.prefix}/` : config.prefix };
}
