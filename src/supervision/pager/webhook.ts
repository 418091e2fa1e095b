// A generic JSON webhook pager: POSTs the policy's page action as is (plus an ISO timestamp),
// optionally with a bearer token, for alert routers other than PagerDuty.
import { z } from 'zod';
import { resolveSecret, secretRefSchema } from '../../control/secrets.js';
import type { Logger } from '../../observability/logger.js';
import type { PageAction } from '../guardian-types.js';
import { pagerRetrySchema, postJsonWithRetry, type PagerRetry } from './http-retry.js';
import type { Pager } from './pager.js';

export const webhookPagerConfigSchema = z.strictObject({
  type: z.literal('webhook'),
  url: z.url({ protocol: /^https?$/ }),
  /** Sent as `Authorization: Bearer …` when set. */
  token: secretRefSchema.optional(),
  retry: pagerRetrySchema,
});
export type WebhookPagerConfig = z.infer<typeof webhookPagerConfigSchema>;

export function webhookBody(a: PageAction): Record<string, unknown> {
  return { ...a, timestamp: new Date(a.time).toISOString() };
}

export class WebhookPager implements Pager {
  readonly type = 'webhook';
  constructor(
    private readonly url: string,
    private readonly token: string | undefined,
    private readonly retry: PagerRetry,
    private readonly logger?: Logger,
  ) {}

  async send(action: PageAction, signal?: AbortSignal): Promise<void> {
    const context = { pager: this.type, action: action.action, dedupKey: action.dedupKey };
    const res = await postJsonWithRetry({
      url: this.url,
      body: webhookBody(action),
      headers: this.token === undefined ? {} : { authorization: `Bearer ${this.token}` },
      retry: this.retry,
      logger: this.logger,
      context,
      signal,
    });
    this.logger?.info({ ...context, attempts: res.attempts, status: res.status }, 'page sent');
  }
}

export async function createWebhookPager(
  config: WebhookPagerConfig,
  deps: { logger?: Logger | undefined; env?: NodeJS.ProcessEnv } = {},
): Promise<WebhookPager> {
  const token = config.token === undefined ? undefined : await resolveSecret(config.token, deps.env);
  return new WebhookPager(config.url, token, config.retry, deps.logger);
}
