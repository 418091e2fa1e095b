// The webhook sink as the registry holds it (src/sinks/registry.ts): its pure validation, and
// a build that loads the service only when an integration of this type starts.
import type { SinkDefinition } from '../types.js';
import { validateWebhookConfig, type WebhookConfig } from './config.js';

export const webhookSink: SinkDefinition<WebhookConfig> = {
  type: 'webhook',
  validate: validateWebhookConfig,
  build: async (config, ctx) => (await import('./service.js')).createWebhookSink(config, ctx),
};
