// The amplitude sink against a loopback server implementing the HTTP V2 contract: the shared
// compliance suite, exact partial failures (400 indices), daily-quota 429s, 413 splits, the EU host.
import test from 'ava';
import { classify, TributaryError } from '../../../src/errors.js';
import { validateAmplitudeConfig } from '../../../src/sinks/amplitude/config.js';
import { createAmplitudeSink } from '../../../src/sinks/amplitude/service.js';
import { createAdaptiveLimiter } from '../../../src/sinks/http/adaptive-concurrency.js';
import type { EventRecord } from '../../../src/sinks/types.js';
import { makeRecords, sinkCompliance, testSinkContext } from '../../helpers/sink-compliance.js';
import { startAmplitudeServer } from '../../helpers/vendor-servers.js';

const fastRetry = { initialMs: 5, maxMs: 50, maxRetryAgeMs: 60_000 };
const never = (): AbortSignal => new AbortController().signal;

async function setup(t: { teardown(fn: () => unknown): void }, extra: Record<string, unknown> = {}, limiter?: ReturnType<typeof createAdaptiveLimiter>) {
  const server = await startAmplitudeServer({ apiKey: 'amp-key' });
  t.teardown(() => server.close());
  const config = validateAmplitudeConfig(
    { type: 'amplitude', apiKey: { value: 'amp-key' }, baseUrl: server.baseUrl, timeoutMs: 5_000, retry: fastRetry, throttlePauseMs: 50, ...extra },
    { local: true },
  );
  const sink = await createAmplitudeSink(config, testSinkContext(), limiter ? { limiter } : {});
  t.teardown(() => sink.close());
  return { server, sink };
}

sinkCompliance(test, {
  name: 'amplitude',
  transport: 'http',
  async setup(t) {
    const { server, sink } = await setup(t);
    return { sink, receiver: server, deliveredIds: async () => server.delivered(), breakConfiguration: async () => server.failNext(401, Infinity) };
  },
});

const ids = (rs: readonly EventRecord[]): string[] => rs.map((r) => r.eventId);

test('amplitude: a 400 naming invalid events rejects exactly those and resends the rest once', async (t) => {
  const { server, sink } = await setup(t);
  const batch = makeRecords(30);
  const poison = new Set([batch[0]!.eventId, batch[13]!.eventId, batch[29]!.eventId]);
  server.rejectIds((id) => poison.has(id));
  const result = await sink.write(batch, never());
  result.outcomes.forEach((o, i) => {
    if (poison.has(batch[i]!.eventId)) {
      t.is(o.status, 'rejected');
      if (o.status === 'rejected') {
        t.is(o.httpStatus, 400);
        t.is(o.error.code, 'sink_rejected');
        t.regex(o.responseBody ?? '', /invalid field event_properties/);
      }
    } else t.is(o.status, 'delivered', `record ${i}`);
  });
  t.is(server.requests.length, 2, 'one refused request, one resend of the others');
  t.deepEqual(server.delivered().sort(), ids(batch).filter((id) => !poison.has(id)).sort(), 'every other event ingested exactly once');
});

test('amplitude: events are sent as documented (api_key, insert_id = Connect id, ms time, min_id_length)', async (t) => {
  const { server, sink } = await setup(t);
  const batch = makeRecords(3);
  await sink.write(batch, never());
  const ev = server.ingested().get(batch[0]!.eventId)!;
  t.like(ev, { device_id: 'ch-0', event_type: 'purchase', time: Date.parse('2024-05-01T12:00:00.000Z'), insert_id: batch[0]!.eventId });
  t.is((ev.event_properties as Record<string, unknown>).value, '12345678901234567890', 'the big custom value is kept as a string');
});

test('amplitude: users over their daily quota are rejected with sink_quota_exceeded; the others are delivered after the pause', async (t) => {
  const { server, sink } = await setup(t);
  const batch = makeRecords(14); // channels ch-0 … ch-6
  server.exceedDailyQuota([], ['ch-3']);
  const result = await sink.write(batch, never());
  batch.forEach((r, i) => {
    const o = result.outcomes[i]!;
    if (r.key === 'ch-3') {
      t.is(o.status, 'rejected');
      if (o.status === 'rejected') t.is(o.error.code, 'sink_quota_exceeded');
    } else t.is(o.status, 'delivered');
  });
  t.is(server.requests[0]!.status, 429);
  t.is(server.deliveredSet().size, 12);
  t.is(server.delivered().length, 12, 'no duplicates');
});

test('amplitude: a batch above the per-request limit is split into requests run under the adaptive limit', async (t) => {
  const limiter = createAdaptiveLimiter({ minLimit: 1, maxLimit: 4, initialLimit: 2 });
  const { server, sink } = await setup(t, { maxEventsPerRequest: 10 }, limiter);
  server.setDelay(20);
  const batch = makeRecords(95);
  const result = await sink.write(batch, never());
  t.true(result.outcomes.every((o) => o.status === 'delivered'));
  t.is(server.requests.length, 10);
  t.true(server.requests.every((r) => r.eventIds.length <= 10));
  t.deepEqual(server.requests.flatMap((r) => r.eventIds).sort(), ids(batch).sort());
  t.true(limiter.limit >= 2, `the limit grew or held while latency was steady (${limiter.limit})`);
});

test('amplitude: a wrong API key (Amplitude answers 400 naming the key) halts as a misconfiguration', async (t) => {
  const server = await startAmplitudeServer({ apiKey: 'right' });
  t.teardown(() => server.close());
  const sink = await createAmplitudeSink(validateAmplitudeConfig({ type: 'amplitude', apiKey: { value: 'wrong' }, baseUrl: server.baseUrl, retry: fastRetry }, { local: true }), testSinkContext());
  t.teardown(() => sink.close());
  const err = await t.throwsAsync(sink.write(makeRecords(2), never()));
  t.is((err as TributaryError).code, 'sink_auth');
  t.is(classify(err), 'misconfiguration');
  t.is(server.delivered().length, 0);
  const probe = await t.throwsAsync(sink.healthcheck(never()));
  t.is(classify(probe), 'misconfiguration');
});

test('amplitude: an event without user or channel is rejected before sending (sink_unmappable)', async (t) => {
  const { server, sink } = await setup(t);
  const [good] = makeRecords(1);
  const pushBody: EventRecord = {
    ...good!,
    eventId: 'ef4ffe00-874d-4589-9401-6a34c43dd342',
    type: 'PUSH_BODY',
    value: Buffer.from('{"id":"ef4ffe00-874d-4589-9401-6a34c43dd342","type":"PUSH_BODY","offset":"0","occurred":"2016-06-06T19:03:30.189Z","processed":"2016-06-06T19:03:30.189Z","body":{"payload":"aGk=","push_id":"5cc00974-ebab-480a-9324-06f8d8fc2ae4","trimmed":true}}'),
  };
  const result = await sink.write([pushBody, good!], never());
  t.is(result.outcomes[0]!.status, 'rejected');
  if (result.outcomes[0]!.status === 'rejected') t.is(result.outcomes[0]!.error.code, 'sink_unmappable');
  t.is(result.outcomes[1]!.status, 'delivered');
  t.deepEqual(server.delivered(), [good!.eventId]);
});

test('amplitude: the EU region targets api.eu.amplitude.com', async (t) => {
  const config = validateAmplitudeConfig({ type: 'amplitude', apiKey: { ref: 'env:AMP_KEY' }, region: 'eu' }, { local: false });
  t.is(config.region, 'eu');
  const { amplitudeOrigins } = await import('../../../src/sinks/amplitude/config.js');
  t.is(amplitudeOrigins[config.region], 'https://api.eu.amplitude.com');
});

test('amplitude: a plain 429 is retried after the pause and every event is delivered once', async (t) => {
  const { server, sink } = await setup(t);
  server.failNext(429, 2);
  const batch = makeRecords(5);
  const result = await sink.write(batch, never());
  t.true(result.outcomes.every((o) => o.status === 'delivered'));
  t.is(result.retries, 2);
  t.is(server.delivered().length, 5);
});

