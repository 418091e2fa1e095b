// Pager configuration and factory: `{type:'pagerduty'|'webhook'|'log', …}` → a Pager whose
// secrets are resolved once, at creation, so a missing routing key stops start-up, not a page.
import { z } from 'zod';
import { ConfigError, ErrorCode } from '../../errors.js';
import { zodIssues } from '../../config/zod-issues.js';
import type { Logger } from '../../observability/logger.js';
import type { PageAction } from '../guardian-types.js';
import type { Pager } from './pager.js';
import { createPagerDutyPager, pagerDutyConfigSchema } from './pagerduty.js';
import { createWebhookPager, webhookPagerConfigSchema } from './webhook.js';

export type { Pager } from './pager.js';
export { PagerError } from './http-retry.js';
export { PagerDutyPager, defaultPagerDutyUrl, pagerDutyEvent } from './pagerduty.js';
export { WebhookPager, webhookBody } from './webhook.js';

export const logPagerConfigSchema = z.strictObject({ type: z.literal('log') });

export const pagerConfigSchema = z.discriminatedUnion('type', [
  pagerDutyConfigSchema,
  webhookPagerConfigSchema,
  logPagerConfigSchema,
]);
export type PagerConfig = z.infer<typeof pagerConfigSchema>;
export type PagerConfigInput = z.input<typeof pagerConfigSchema>;

/** Writes pages as log lines: for local runs and clusters without a paging service. */
export class LogPager implements Pager {
  readonly type = 'log';
  constructor(private readonly logger?: Logger) {}
  async send(action: PageAction): Promise<void> {
    const line = { page: action.action, dedupKey: action.dedupKey, severity: action.severity, summary: action.summary, details: action.details };
    if (this.logger) this.logger.warn(line, `page ${action.action}`);
    else process.stderr.write(`${JSON.stringify({ level: 'warn', msg: `page ${action.action}`, ...line })}\n`);
  }
}

export function parsePagerConfig(raw: unknown): PagerConfig {
  const result = pagerConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(ErrorCode.configInvalid, 'invalid pager config', zodIssues(result.error));
  return result.data;
}

export async function createPager(
  raw: PagerConfigInput | PagerConfig,
  deps: { logger?: Logger | undefined; env?: NodeJS.ProcessEnv } = {},
): Promise<Pager> {
  const config = parsePagerConfig(raw);
  switch (config.type) {
    case 'pagerduty':
      return createPagerDutyPager(config, deps);
    case 'webhook':
      return createWebhookPager(config, deps);
    case 'log':
      return new LogPager(deps.logger);
  }
}
