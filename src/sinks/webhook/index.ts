// The webhook sink's definition: POST batches of Connect events to a customer's HTTPS endpoint.
// See docs/sinks/webhook.md for the configuration reference and the receiver's side.
import type { SinkDefinition } from '../types.js';
import { validateWebhookConfig, type WebhookConfig } from './config.js';
import { createWebhookSink } from './service.js';

export const webhookSink: SinkDefinition<WebhookConfig> = {
  type: 'webhook',
  validate: validateWebhookConfig,
  build: (config, ctx) => createWebhookSink(config, ctx),
};

export { webhookConfigSchema, validateWebhookConfig, type WebhookConfig } from './config.js';
export { createWebhookSink, type WebhookSinkOptions } from './service.js';
export { signPayload, verifySignature } from './request-builder.js';
