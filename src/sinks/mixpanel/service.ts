// The mixpanel Sink: Connect events through the Import API (strict mode) via the shared analytics
// sender (chunking, adaptive concurrency, the send loop; failed_records rejected one by one).
import { createAnalyticsSink, type AnalyticsSinkOptions, type VendorProtocol } from '../analytics/batch-sender.js';
import { endpointUrl } from '../analytics/config-common.js';
import { defaultRetryLogic } from '../http/retry-logic.js';
import type { HttpRequest } from '../http/transport.js';
import type { Sink, SinkContext } from '../types.js';
import { mixpanelLimits, mixpanelOrigins, type MixpanelConfig } from './config.js';
import { healthcheckMixpanel } from './healthcheck.js';
import { buildMixpanelBody, encodeMixpanelEvent, interpretMixpanelAnswer } from './request-builder.js';

export type MixpanelSinkOptions = AnalyticsSinkOptions;

export async function createMixpanelSink(config: MixpanelConfig, ctx: SinkContext, options: MixpanelSinkOptions = {}): Promise<Sink> {
  // Resolved once per build: a rotated secret takes effect when the integration restarts.
  const auth = config.auth;
  const credentials = auth.type === 'serviceAccount' ? `${auth.username}:${await ctx.resolveSecret(auth.secret)}` : `${await ctx.resolveSecret(auth.token)}:`;
  const query: Record<string, string> = { strict: '1' };
  if (config.projectId !== undefined) query.project_id = config.projectId;
  const url = endpointUrl(mixpanelOrigins[config.region], config.baseUrl, '/import', query);
  const headers: Record<string, string> = {
    authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
    'content-type': 'application/json',
    accept: 'application/json',
    'user-agent': 'tributary',
  };
  if (config.gzip) headers['content-encoding'] = 'gzip';
  const request = async (events: readonly string[]): Promise<HttpRequest> => ({
    method: 'POST',
    url,
    headers,
    body: (await buildMixpanelBody(events, config.gzip)).body,
  });
  const protocol: VendorProtocol = {
    name: 'mixpanel',
    url,
    maxRequestEvents: Math.min(config.maxEventsPerRequest, mixpanelLimits.maxRequestEvents),
    // Chunked by uncompressed bytes: the limit Mixpanel states.
    maxRequestBytes: mixpanelLimits.maxRequestBytes,
    maxEventBytes: mixpanelLimits.maxEventBytes,
    envelopeBytes: 2,
    retryLogic: defaultRetryLogic,
    encode: encodeMixpanelEvent,
    request: (events) => request(events.map((e) => e.json)),
    interpret: (answer, events) => interpretMixpanelAnswer(answer, events),
  };
  return createAnalyticsSink({
    protocol,
    config,
    ctx,
    options,
    healthcheck: async (transport, signal) => healthcheckMixpanel(transport, defaultRetryLogic, await request([]), signal),
  });
}
