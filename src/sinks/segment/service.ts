// The segment Sink: Connect events as `track` messages through the batch endpoint, via the shared
// analytics sender (chunking by Segment's byte limits, adaptive concurrency, send loop, bisect on 400).
import { systemClock } from '../http/backoff.js';
import { createAnalyticsSink, type AnalyticsSinkOptions, type VendorProtocol } from '../analytics/batch-sender.js';
import { endpointUrl } from '../analytics/config-common.js';
import { defaultRetryLogic } from '../http/retry-logic.js';
import type { HttpRequest } from '../http/transport.js';
import type { Sink, SinkContext } from '../types.js';
import { segmentLimits, segmentOrigins, type SegmentConfig } from './config.js';
import { healthcheckSegment } from './healthcheck.js';
import { buildSegmentBody, encodeSegmentTrack, interpretSegmentAnswer, segmentEnvelopeBytes } from './request-builder.js';

export type SegmentSinkOptions = AnalyticsSinkOptions;

export async function createSegmentSink(config: SegmentConfig, ctx: SinkContext, options: SegmentSinkOptions = {}): Promise<Sink> {
  // Resolved once per build: a rotated key takes effect when the integration restarts.
  const writeKey = await ctx.resolveSecret(config.writeKey);
  const clock = options.clock ?? systemClock;
  const url = endpointUrl(segmentOrigins[config.region], config.baseUrl, '/v1/batch');
  const headers = {
    authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
    'content-type': 'application/json',
    'user-agent': 'tributary',
  };
  const request = (messages: readonly string[]): HttpRequest => ({
    method: 'POST',
    url,
    headers,
    body: buildSegmentBody(messages, new Date(clock.now()).toISOString()),
  });
  const protocol: VendorProtocol = {
    name: 'segment',
    url,
    maxRequestEvents: config.maxEventsPerRequest,
    maxRequestBytes: segmentLimits.maxRequestBytes,
    maxEventBytes: segmentLimits.maxEventBytes,
    envelopeBytes: segmentEnvelopeBytes,
    retryLogic: defaultRetryLogic,
    encode: encodeSegmentTrack,
    request: async (events) => request(events.map((e) => e.json)),
    interpret: () => interpretSegmentAnswer(),
  };
  return createAnalyticsSink({
    protocol,
    config,
    ctx,
    options,
    healthcheck: (transport, signal) => healthcheckSegment(transport, defaultRetryLogic, request([]), signal),
  });
}
