// PagerDuty Events API v2 client: one POST per page action to /v2/enqueue, keyed by the
// policy's dedup key so every node's trigger for one condition lands on one incident.
import { z } from 'zod';
import { secretRefSchema, resolveSecret, type SecretRef } from '../../control/secrets.js';
import type { Logger } from '../../observability/logger.js';
import type { PageAction } from '../guardian-types.js';
import { PagerError, pagerRetrySchema, postJsonWithRetry, type PagerRetry } from './http-retry.js';
import type { Pager } from './pager.js';

export const defaultPagerDutyUrl = 'https://events.pagerduty.com/v2/enqueue';

export const pagerDutyConfigSchema = z.strictObject({
  type: z.literal('pagerduty'),
  /** The integration ("routing") key of a PagerDuty service, as a secret reference. */
  routingKey: secretRefSchema,
  /** Overridable for the EU endpoint or a local receiver in tests. */
  url: z.url({ protocol: /^https?$/ }).default(defaultPagerDutyUrl),
  retry: pagerRetrySchema,
});
export type PagerDutyConfig = z.infer<typeof pagerDutyConfigSchema>;

/** The Events v2 body for one action; resolves carry no payload (PagerDuty ignores it). */
export function pagerDutyEvent(routingKey: string, a: PageAction): Record<string, unknown> {
  const base = { routing_key: routingKey, event_action: a.action, dedup_key: a.dedupKey };
  if (a.action === 'resolve') return base;
  return {
    ...base,
    payload: {
      summary: a.summary.slice(0, 1024),
      source: a.source,
      severity: a.severity,
      timestamp: new Date(a.time).toISOString(),
      component: a.component,
      group: a.group,
      class: a.class,
      custom_details: a.details,
    },
  };
}

export class PagerDutyPager implements Pager {
  readonly type = 'pagerduty';
  constructor(
    private readonly routingKey: string,
    private readonly url: string,
    private readonly retry: PagerRetry,
    private readonly logger?: Logger,
  ) {}

  async send(action: PageAction, signal?: AbortSignal): Promise<void> {
    const context = { pager: this.type, action: action.action, dedupKey: action.dedupKey };
    const res = await postJsonWithRetry({
      url: this.url,
      body: pagerDutyEvent(this.routingKey, action),
      retry: this.retry,
      logger: this.logger,
      context,
      signal,
    });
    const body = res.body as { status?: unknown; dedup_key?: unknown } | undefined;
    if (body?.status !== undefined && body.status !== 'success') {
      throw new PagerError(`PagerDuty did not accept the event: status ${String(body.status)}`, {
        status: res.status,
        retriable: false,
        attempts: res.attempts,
      });
    }
    this.logger?.info({ ...context, attempts: res.attempts, status: res.status }, 'page sent');
  }
}

export async function createPagerDutyPager(
  config: PagerDutyConfig,
  deps: { logger?: Logger | undefined; env?: NodeJS.ProcessEnv } = {},
): Promise<PagerDutyPager> {
  const key = await resolveSecret(config.routingKey as SecretRef, deps.env);
  return new PagerDutyPager(key, config.url, config.retry, deps.logger);
}
