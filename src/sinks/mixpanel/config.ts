// The mixpanel sink's configuration: the Import API (api.mixpanel.com/import, or the EU / India
// residency hosts), service-account or project-token auth as secret references, documented limits.
import { z } from 'zod';
import { secretRefSchema } from '../../control/secrets.js';
import { commonAnalyticsKeys, validateAnalyticsConfig } from '../analytics/config-common.js';
import type { ValidateContext } from '../types.js';

/** Import API: at most 2,000 events and 10 MB of uncompressed JSON per request; 1 MB per event. */
export const mixpanelLimits = { maxRequestEvents: 2000, maxRequestBytes: 10 * 1024 * 1024, maxEventBytes: 1024 * 1024 } as const;

export const mixpanelOrigins = { us: 'https://api.mixpanel.com', eu: 'https://api-eu.mixpanel.com', in: 'https://api-in.mixpanel.com' } as const;

const authSchema = z.discriminatedUnion('type', [
  /** An Owner or Admin service account: Basic username:secret, with `projectId`. */
  z.strictObject({ type: z.literal('serviceAccount'), username: z.string().min(1).max(256).regex(/^[^:]*$/, 'must not contain ":"'), secret: secretRefSchema }),
  /** The project token as the Basic username, empty password. */
  z.strictObject({ type: z.literal('projectToken'), token: secretRefSchema }),
]);

export const mixpanelConfigSchema = z.strictObject({
  type: z.literal('mixpanel'),
  auth: authSchema,
  /** Required with a service account (the `project_id` query parameter). */
  projectId: z.string().regex(/^\d{1,20}$/, 'must be the numeric project id').optional(),
  /** Data residency: `eu` ⇒ api-eu.mixpanel.com, `in` ⇒ api-in.mixpanel.com. */
  region: z.enum(['us', 'eu', 'in']).default('us'),
  /** Gzip request bodies (Content-Encoding: gzip). */
  gzip: z.boolean().default(true),
  ...commonAnalyticsKeys,
  /** Events per /import request (Mixpanel's ceiling is 2,000). */
  maxEventsPerRequest: z.number().int().min(1).max(mixpanelLimits.maxRequestEvents).default(1000),
  maxBatchEvents: z.number().int().min(1).max(20_000).default(2000),
  maxBatchBytes: z.number().int().min(1024).max(50 * 1024 * 1024).default(4 * 1024 * 1024),
});

export type MixpanelConfig = z.infer<typeof mixpanelConfigSchema>;

/** Pure: validates a raw `sink` object (with `type: "mixpanel"`); throws ConfigError naming each bad key. */
export function validateMixpanelConfig(raw: unknown, ctx: ValidateContext): MixpanelConfig {
  return validateAnalyticsConfig(
    mixpanelConfigSchema,
    raw,
    ctx,
    (c) => [c.auth.type === 'serviceAccount' ? ['auth.secret', c.auth.secret] : ['auth.token', c.auth.token]],
    (c) => (c.auth.type === 'serviceAccount' && c.projectId === undefined ? [{ path: 'projectId', message: 'is required with a service account' }] : []),
  );
}
