// The segment sink's configuration: the HTTP Tracking API batch endpoint (api.segment.io/v1/batch,
// or the EU workspace host), the source's write key as a secret reference, documented limits.
import { z } from 'zod';
import { secretRefSchema } from '../../control/secrets.js';
import { commonAnalyticsKeys, validateAnalyticsConfig } from '../analytics/config-common.js';
import type { ValidateContext } from '../types.js';

/**
 * Tracking API: 500 KB per batch request and 32 KB per message (400 above either). Counted as
 * 1000-byte kilobytes so the requests stay under the limit however Segment counts.
 */
export const segmentLimits = { maxRequestBytes: 500_000, maxEventBytes: 32_000, maxMessageIdLength: 100 } as const;

export const segmentOrigins = { us: 'https://api.segment.io', eu: 'https://events.eu1.segmentapis.com' } as const;

export const segmentConfigSchema = z.strictObject({
  type: z.literal('segment'),
  /** The HTTP API source's write key (Basic auth username, empty password). */
  writeKey: secretRefSchema,
  /** `eu` for EU workspaces (events.eu1.segmentapis.com); the US host accepts EU keys silently and drops the data. */
  region: z.enum(['us', 'eu']).default('us'),
  ...commonAnalyticsKeys,
  /** Messages per batch request; the byte limit usually binds first. */
  maxEventsPerRequest: z.number().int().min(1).max(2500).default(500),
  maxBatchEvents: z.number().int().min(1).max(20_000).default(2000),
  maxBatchBytes: z.number().int().min(1024).max(50 * 1024 * 1024).default(4 * 1024 * 1024),
});

export type SegmentConfig = z.infer<typeof segmentConfigSchema>;

/** Pure: validates a raw `sink` object (with `type: "segment"`); throws ConfigError naming each bad key. */
export function validateSegmentConfig(raw: unknown, ctx: ValidateContext): SegmentConfig {
  return validateAnalyticsConfig(segmentConfigSchema, raw, ctx, (c) => [['writeKey', c.writeKey]]);
}
