// The kinesis sink's configuration: one Kinesis data stream, fed with PutRecords. Pure
// validation; the stream itself is checked by the healthcheck.
import { z } from 'zod';
import { ConfigError, ErrorCode } from '../../errors.js';
import { zodIssues } from '../../config/zod-issues.js';
import type { ValidateContext } from '../types.js';
import { awsConnectionIssues, awsConnectionShape, prefixed } from '../aws/config.js';
import { kinesisLimits } from './request-builder.js';

export const kinesisConfigSchema = z.strictObject({
  type: z.literal('kinesis'),
  streamName: z.string().regex(/^[a-zA-Z0-9_.-]{1,128}$/, 'must be a stream name (1-128 of [A-Za-z0-9_.-])'),
  ...awsConnectionShape,
  /** Events per write; each write is split into PutRecords requests of ≤ 500 records / 5 MiB. */
  maxBatchEvents: z.number().int().min(1).max(10_000).default(kinesisLimits.maxEntries),
  maxBatchBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(kinesisLimits.maxRequestBytes),
});

export type KinesisConfig = z.infer<typeof kinesisConfigSchema>;

/** Pure: validates a raw `sink` object (with `type: "kinesis"`); throws ConfigError naming each bad key. */
export function validateKinesisConfig(raw: unknown, ctx: ValidateContext): KinesisConfig {
  const parsed = kinesisConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(ErrorCode.configInvalid, 'invalid kinesis sink', prefixed(zodIssues(parsed.error)));
  const issues = awsConnectionIssues(parsed.data, ctx);
  if (issues.length) throw new ConfigError(ErrorCode.configInvalid, 'invalid kinesis sink', prefixed(issues));
  return parsed.data;
}
