// The node config's `alerting` section: the guardian policy's overrides, the pager, and the
// alerting service's periods. One zod schema: type, defaults, messages naming the bad key.
import { z } from 'zod';
import { guardianPolicyConfigSchema } from './guardian-policy-config.js';
import { pagerConfigSchema } from './pager/index.js';

export const alertingConfigSchema = z.strictObject({
  /** Off: failure reports are still logged and sent to Sentry, but nothing pages or notifies. */
  enabled: z.boolean().default(true),
  /** Guardian policy overrides (docs/alerting.md); every key optional. */
  policy: guardianPolicyConfigSchema.prefault({}),
  /** Where pages go; `log` (a warn line per page) when no paging service is configured. */
  pager: pagerConfigSchema.default({ type: 'log' }),
  /** How often the state table is scanned for the cluster-wide view (fleet rule, stalls). */
  scanIntervalMs: z.number().int().min(100).default(15_000),
  /** How often the policy is evaluated and undelivered pages are retried. */
  tickMs: z.number().int().min(100).default(10_000),
  /** Undelivered page actions kept for retry; past it the oldest triggers go first, never a resolve. */
  maxOutbox: z.number().int().min(10).max(100_000).default(1_000),
  stall: z
    .strictObject({
      /**
       * Judge running integrations from the table too: a backlog (produced > delivered + DLQ +
       * deduplicated) with no delivery progress for `afterMs` is a failure (a sink retrying a
       * 5xx inside its budget never crashes, so no supervisor reports it).
       */
      enabled: z.boolean().default(true),
      afterMs: z.number().int().min(0).default(120_000),
    })
    .prefault({}),
  /**
   * Lag growth (flag `alerting.lagGrowth`, docs/alerting.md): the owning node samples each
   * integration's arrivals and deliveries; a backlog that grows in every `windowMs` window for
   * the tier's threshold is a failure report, and a recovery once it stops growing.
   */
  lagGrowth: z
    .strictObject({
      sampleMs: z.number().int().min(100).max(600_000).default(5_000),
      windowMs: z.number().int().min(200).max(3_600_000).default(60_000),
      minGrowthEvents: z.number().int().min(1).default(100),
      minGrowthRatio: z.number().min(0).max(1).default(0.05),
      thresholdMs: z
        .strictObject({
          large: z.number().int().min(0).default(5 * 60_000),
          medium: z.number().int().min(0).default(15 * 60_000),
          small: z.number().int().min(0).default(30 * 60_000),
        })
        .prefault({}),
    })
    .prefault({}),
  /**
   * Retention risk (docs/alerting.md): an undelivered event older than `ratio` of its events
   * topic's retention pages (critical, every tier) before Kafka can delete it.
   */
  retention: z
    .strictObject({
      enabled: z.boolean().default(true),
      ratio: z.number().gt(0).lt(1).default(0.5),
      severity: z.enum(['critical', 'error', 'warning']).default('critical'),
      /** How often integrations with a backlog are checked against Kafka (offsets by timestamp). */
      checkIntervalMs: z.number().int().min(100).default(60_000),
      /** A topic's retention.ms is re-read this often. */
      configTtlMs: z.number().int().min(0).default(10 * 60_000),
    })
    .prefault({}),
  notifications: z
    .strictObject({
      /** Partitions of `tributary.notifications` when this node creates it. */
      partitions: z.number().int().min(1).max(1_000).default(3),
      retentionMs: z.number().int().min(60_000).default(7 * 24 * 3_600_000),
    })
    .prefault({}),
});
export type AlertingConfig = z.infer<typeof alertingConfigSchema>;
export type AlertingConfigInput = z.input<typeof alertingConfigSchema>;
