// The firehose sink's configuration: one Amazon Data Firehose delivery stream, fed with
// PutRecordBatch. Pure validation; the stream itself is checked by the healthcheck.
import { z } from 'zod';
import { ConfigError, ErrorCode } from '../../errors.js';
import { zodIssues } from '../../config/zod-issues.js';
import type { ValidateContext } from '../types.js';
import { awsConnectionIssues, awsConnectionShape, prefixed } from '../aws/config.js';
import { firehoseLimits } from './request-builder.js';

export const firehoseConfigSchema = z.strictObject({
  type: z.literal('firehose'),
  deliveryStreamName: z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/, 'must be a delivery stream name (1-64 of [A-Za-z0-9_.-])'),
  ...awsConnectionShape,
  /** Events per write; each write is split into PutRecordBatch requests of ≤ 500 records / 4 MiB. */
  maxBatchEvents: z.number().int().min(1).max(10_000).default(firehoseLimits.maxEntries),
  maxBatchBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(firehoseLimits.maxRequestBytes),
});

export type FirehoseConfig = z.infer<typeof firehoseConfigSchema>;

/** Pure: validates a raw `sink` object (with `type: "firehose"`); throws ConfigError naming each bad key. */
export function validateFirehoseConfig(raw: unknown, ctx: ValidateContext): FirehoseConfig {
  const parsed = firehoseConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(ErrorCode.configInvalid, 'invalid firehose sink', prefixed(zodIssues(parsed.error)));
  const issues = awsConnectionIssues(parsed.data, ctx);
  if (issues.length) throw new ConfigError(ErrorCode.configInvalid, 'invalid firehose sink', prefixed(issues));
  return parsed.data;
}
