// The segment sink against a loopback server implementing the Tracking API batch contract: the
// shared compliance suite, bisecting a 400 to the message responsible, the 32 KB message limit.
import test from 'ava';
import { validateSegmentConfig } from '../../../src/sinks/segment/config.js';
import { createSegmentSink } from '../../../src/sinks/segment/service.js';
import type { EventRecord } from '../../../src/sinks/types.js';
import { makeRecords, sinkCompliance, testSinkContext } from '../../helpers/sink-compliance.js';
import { startSegmentServer } from '../../helpers/vendor-servers.js';

const fastRetry = { initialMs: 5, maxMs: 50, maxRetryAgeMs: 60_000 };
const never = (): AbortSignal => new AbortController().signal;

async function setup(t: { teardown(fn: () => unknown): void }, extra: Record<string, unknown> = {}) {
  const server = await startSegmentServer({ writeKey: 'seg-write-key' });
  t.teardown(() => server.close());
  const config = validateSegmentConfig({ type: 'segment', writeKey: { value: 'seg-write-key' }, baseUrl: server.baseUrl, timeoutMs: 5_000, retry: fastRetry, ...extra }, { local: true });
  const sink = await createSegmentSink(config, testSinkContext());
  t.teardown(() => sink.close());
  return { server, sink };
}

sinkCompliance(test, {
  name: 'segment',
  transport: 'http',
  async setup(t) {
    const { server, sink } = await setup(t);
    return { sink, receiver: server, deliveredIds: async () => server.delivered(), breakConfiguration: async () => server.failNext(401, Infinity) };
  },
});

const ids = (rs: readonly EventRecord[]): string[] => rs.map((r) => r.eventId);

test('segment: a 400 is bisected to exactly the refused messages; every other message is accepted once', async (t) => {
  const { server, sink } = await setup(t);
  const batch = makeRecords(32);
  const poison = new Set([batch[5]!.eventId, batch[6]!.eventId, batch[30]!.eventId]);
  server.rejectIds((id) => poison.has(id));
  const result = await sink.write(batch, never());
  const rejected = batch.filter((_, i) => result.outcomes[i]!.status === 'rejected').map((r) => r.eventId);
  t.deepEqual(new Set(rejected), poison);
  t.deepEqual(server.delivered().sort(), ids(batch).filter((id) => !poison.has(id)).sort(), 'each accepted exactly once');
});

test('segment: messages are track calls with messageId = Connect id, anonymousId = channel, ISO timestamp', async (t) => {
  const { server, sink } = await setup(t);
  const batch = makeRecords(2);
  await sink.write(batch, never());
  const m = server.ingested().get(batch[0]!.eventId)!;
  t.like(m, { type: 'track', event: 'purchase', anonymousId: 'ch-0', messageId: batch[0]!.eventId, timestamp: '2024-05-01T12:00:00.000Z' });
  t.like(m.context as object, { library: { name: 'tributary' }, device: { id: 'ch-0' } });
  t.is(server.requests[0]!.headers.authorization, `Basic ${Buffer.from('seg-write-key:').toString('base64')}`);
  t.deepEqual(server.dropped(), []);
});

test('segment: a message above 32 KB is rejected before sending; its neighbours are delivered', async (t) => {
  const { server, sink } = await setup(t);
  const batch = [...makeRecords(3), ...makeRecords(1, { padBytes: 40_000 }), ...makeRecords(2)];
  const result = await sink.write(batch, never());
  t.is(result.outcomes[3]!.status, 'rejected');
  if (result.outcomes[3]!.status === 'rejected') t.is(result.outcomes[3]!.error.code, 'sink_too_large');
  t.is(server.delivered().length, 5);
});

test('segment: a batch above 500 KB is split into several requests, each under the limit', async (t) => {
  const { server, sink } = await setup(t);
  const batch = makeRecords(120, { padBytes: 10_000 });
  const result = await sink.write(batch, never());
  t.true(result.outcomes.every((o) => o.status === 'delivered'));
  t.true(server.requests.length >= 3);
  t.true(server.requests.every((r) => r.bytes <= 500_000 && r.status === 200));
  t.is(server.delivered().length, 120);
});
