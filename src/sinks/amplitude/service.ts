// The amplitude Sink: Connect events as HTTP V2 events, through the shared analytics sender
// (chunking, adaptive concurrency, the send loop, partial failures, 429 quota handling).
import { ErrorCode } from '../../errors.js';
import { createAnalyticsSink, type AnalyticsSinkOptions, type VendorProtocol } from '../analytics/batch-sender.js';
import { endpointUrl } from '../analytics/config-common.js';
import { createRetryLogic } from '../http/retry-logic.js';
import type { HttpRequest } from '../http/transport.js';
import type { Sink, SinkContext } from '../types.js';
import { amplitudeLimits, amplitudeOrigins, type AmplitudeConfig } from './config.js';
import { healthcheckAmplitude } from './healthcheck.js';
import { amplitudeEnvelopeBytes, buildAmplitudeBody, encodeAmplitudeEvent, interpretAmplitudeAnswer } from './request-builder.js';

export type AmplitudeSinkOptions = AnalyticsSinkOptions;

/** 429 comes back to the sink (not retried blindly by the send loop): its body says who is over quota. */
export const amplitudeRetryLogic = createRetryLogic({ 429: { outcome: 'rejected', code: ErrorCode.sinkRateLimited } });

export async function createAmplitudeSink(config: AmplitudeConfig, ctx: SinkContext, options: AmplitudeSinkOptions = {}): Promise<Sink> {
  // Resolved once per build: a rotated key takes effect when the integration restarts.
  const apiKey = await ctx.resolveSecret(config.apiKey);
  const url = endpointUrl(amplitudeOrigins[config.region], config.baseUrl, '/2/httpapi');
  const headers = { 'content-type': 'application/json', accept: '*/*', 'user-agent': 'tributary' };
  const protocol: VendorProtocol = {
    name: 'amplitude',
    url,
    maxRequestEvents: Math.min(config.maxEventsPerRequest, amplitudeLimits.maxRequestEvents),
    maxRequestBytes: amplitudeLimits.maxRequestBytes,
    maxEventBytes: amplitudeLimits.maxRequestBytes - amplitudeEnvelopeBytes(apiKey, config.minIdLength),
    envelopeBytes: amplitudeEnvelopeBytes(apiKey, config.minIdLength),
    retryLogic: amplitudeRetryLogic,
    encode: encodeAmplitudeEvent,
    request: async (events): Promise<HttpRequest> => ({
      method: 'POST',
      url,
      headers,
      body: buildAmplitudeBody(apiKey, events.map((e) => e.json), config.minIdLength),
    }),
    interpret: (answer, events, now) => interpretAmplitudeAnswer(answer, events, now, config.throttlePauseMs),
  };
  const probe: HttpRequest = { method: 'POST', url, headers, body: buildAmplitudeBody(apiKey, [], config.minIdLength) };
  return createAnalyticsSink({
    protocol,
    config,
    ctx,
    options,
    healthcheck: (transport, signal) => healthcheckAmplitude(transport, amplitudeRetryLogic, probe, signal),
  });
}
