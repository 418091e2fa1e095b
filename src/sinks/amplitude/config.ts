// The amplitude sink's configuration: the HTTP V2 API (api2.amplitude.com/2/httpapi, or the EU
// residency host), its API key as a secret reference, and its documented limits as ceilings.
import { z } from 'zod';
import { secretRefSchema } from '../../control/secrets.js';
import { commonAnalyticsKeys, validateAnalyticsConfig } from '../analytics/config-common.js';
import type { ValidateContext } from '../types.js';

/** HTTP V2: at most 2,000 events and 1 MB per request (413 above). */
export const amplitudeLimits = { maxRequestEvents: 2000, maxRequestBytes: 1_000_000 } as const;

export const amplitudeOrigins = { us: 'https://api2.amplitude.com', eu: 'https://api.eu.amplitude.com' } as const;

export const amplitudeConfigSchema = z.strictObject({
  type: z.literal('amplitude'),
  apiKey: secretRefSchema,
  /** `eu` sends to api.eu.amplitude.com (EU data residency projects). */
  region: z.enum(['us', 'eu']).default('us'),
  ...commonAnalyticsKeys,
  /** Events per HTTP V2 request (Amplitude's ceiling is 2,000). */
  maxEventsPerRequest: z.number().int().min(1).max(amplitudeLimits.maxRequestEvents).default(1000),
  /** Batch limits the sink actor fills to; one batch becomes one or more requests. */
  maxBatchEvents: z.number().int().min(1).max(20_000).default(2000),
  maxBatchBytes: z.number().int().min(1024).max(50 * 1024 * 1024).default(4 * 1024 * 1024),
  /**
   * `options.min_id_length`: Amplitude refuses user and device ids shorter than 5 characters
   * unless told otherwise, and named users such as "dj" are real. 1 accepts every non-empty id.
   */
  minIdLength: z.number().int().min(1).max(64).default(1),
  /** Pause after a 429 without Retry-After: Amplitude asks throttled senders to wait 30 s. */
  throttlePauseMs: z.number().int().min(0).max(3_600_000).default(30_000),
});

export type AmplitudeConfig = z.infer<typeof amplitudeConfigSchema>;

/** Pure: validates a raw `sink` object (with `type: "amplitude"`); throws ConfigError naming each bad key. */
export function validateAmplitudeConfig(raw: unknown, ctx: ValidateContext): AmplitudeConfig {
  return validateAnalyticsConfig(amplitudeConfigSchema, raw, ctx, (c) => [['apiKey', c.apiKey]]);
}
