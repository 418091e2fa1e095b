// The webhook sink: POST batches of Connect events to a customer's HTTPS endpoint.
// See docs/sinks/webhook.md for the configuration reference and the receiver's side.
// Its registry entry (validation, and a build that loads the service) is in definition.ts.
export { webhookSink } from './definition.js';

export { webhookConfigSchema, validateWebhookConfig, type WebhookConfig } from './config.js';
export { createWebhookSink, type WebhookSinkOptions } from './service.js';
export { signPayload, verifySignature } from './request-builder.js';
