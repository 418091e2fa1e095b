// The file sink's configuration: NDJSON files under the node's data directory, for local use
// and debugging. Pure validation; the directory itself is checked by the healthcheck.
import { z } from 'zod';
import { ConfigError, ErrorCode } from '../../errors.js';
import { zodIssues } from '../../config/zod-issues.js';
import type { ValidateContext } from '../types.js';

export const fileConfigSchema = z.strictObject({
  type: z.literal('file'),
  /** Start a new file once the current one would pass this size. */
  maxFileBytes: z.number().int().min(1024).max(10 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  /** Start a new file at the first write after the current one is this old. */
  rotateMs: z.number().int().min(1000).max(7 * 24 * 3_600_000).default(3_600_000),
  maxBatchEvents: z.number().int().min(1).max(100_000).default(1000),
  maxBatchBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(4 * 1024 * 1024),
  /** Backoff for transient storage errors (disk full, I/O error). */
  retry: z
    .strictObject({
      initialMs: z.number().int().min(1).max(600_000).default(500),
      maxMs: z.number().int().min(1).max(3_600_000).default(60_000),
      multiplier: z.number().min(1).max(10).default(2),
      maxRetryAgeMs: z.number().int().min(0).max(7 * 24 * 3_600_000).default(6 * 3_600_000),
    })
    .prefault({}),
});

export type FileConfig = z.infer<typeof fileConfigSchema>;

/** Pure: validates a raw `sink` object (with `type: "file"`); throws ConfigError naming each bad key. */
export function validateFileConfig(raw: unknown, _ctx: ValidateContext): FileConfig {
  const parsed = fileConfigSchema.safeParse(raw);
  const issues: { path: string; message: string }[] = parsed.success ? [] : zodIssues(parsed.error);
  if (parsed.success && parsed.data.retry.maxMs < parsed.data.retry.initialMs) {
    issues.push({ path: 'retry.maxMs', message: 'must be at least retry.initialMs' });
  }
  if (!parsed.success || issues.length) {
    throw new ConfigError(ErrorCode.configInvalid, 'invalid file sink', issues.map((i) => ({ path: i.path ? `sink.${i.path}` : 'sink', message: i.message })));
  }
  return parsed.data;
}
