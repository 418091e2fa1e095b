// The firehose sink through the real AWS SDK against a loopback server that implements the
// documented PutRecordBatch contract: the shared compliance suite, partial failures (only the
// failed records are resent, RELIABILITY T7), the service limits, and error classification.
import test, { type ExecutionContext } from 'ava';
import { classify, TributaryError } from '../../../src/errors.js';
import { validateFirehoseConfig } from '../../../src/sinks/firehose/config.js';
import { createFirehoseSink } from '../../../src/sinks/firehose/service.js';
import type { Sink } from '../../../src/sinks/types.js';
import { firehoseQuotas, startFirehoseServer, type FirehoseServer } from '../../helpers/firehose-server.js';
import { makeRecords, sinkCompliance, testSinkContext } from '../../helpers/sink-compliance.js';

const never = (): AbortSignal => new AbortController().signal;

async function setup(t: ExecutionContext, extra: Record<string, unknown> = {}): Promise<{ server: FirehoseServer; sink: Sink }> {
  const server = await startFirehoseServer({ streams: ['events'] });
  t.teardown(() => server.close());
  const config = validateFirehoseConfig(
    {
      type: 'firehose',
      deliveryStreamName: 'events',
      region: 'us-east-1',
      endpoint: server.url,
      credentials: { type: 'static', accessKeyId: { value: 'AKIDTEST' }, secretAccessKey: { value: 'test-secret' } },
      timeoutMs: 5_000,
      retry: { initialMs: 5, maxMs: 50, maxRetryAgeMs: 60_000 },
      ...extra,
    },
    { local: true },
  );
  const sink = await createFirehoseSink(config, testSinkContext());
  t.teardown(() => sink.close());
  return { server, sink };
}

const idOf = (data: Buffer): string => (JSON.parse(data.toString('utf8')) as { id: string }).id;
const acceptedIds = (server: FirehoseServer): string[] => server.accepted.map((r) => idOf(r.data));

sinkCompliance(test, {
  name: 'firehose',
  transport: 'other',
  async setup(t) {
    const { server, sink } = await setup(t);
    return {
      sink,
      deliveredIds: async () => acceptedIds(server),
      breakConfiguration: async () => server.streams.clear(),
    };
  },
});

test('firehose: records are NDJSON lines, the event JSON byte for byte plus a newline', async (t) => {
  const { server, sink } = await setup(t);
  const batch = makeRecords(3);
  await sink.write(batch, never());
  t.deepEqual(server.accepted.map((r) => r.data.toString('utf8')), batch.map((r) => `${r.value.toString('utf8')}\n`));
  t.is(server.requests.at(-1)!.target, 'Firehose_20150804.PutRecordBatch');
});

test('firehose: a partial failure resends only the failed records; each event id is accepted exactly once', async (t) => {
  const { server, sink } = await setup(t);
  const batch = makeRecords(60);
  const unlucky = new Set(batch.filter((_, i) => i % 7 === 3).map((r) => r.eventId));
  server.failRecords((d) => unlucky.has(idOf(d)), 2, 'ServiceUnavailableException');
  const result = await sink.write(batch, never());
  t.true(result.outcomes.every((o) => o.status === 'delivered'));
  const puts = server.requests.filter((r) => r.target.endsWith('PutRecordBatch'));
  t.deepEqual(puts.map((r) => r.records), [60, unlucky.size, unlucky.size], 'only the failed records travel again');
  t.deepEqual(puts.map((r) => r.failedPutCount), [unlucky.size, unlucky.size, 0]);
  t.is(result.requests, 3);
  t.is(result.retries, 2);
  const ids = acceptedIds(server);
  t.is(ids.length, batch.length, 'no duplicates');
  t.deepEqual([...ids].sort(), batch.map((r) => r.eventId).sort());
});

test('firehose: a record refused with a non-transient code is rejected after maxRecordAttempts; the rest are delivered', async (t) => {
  const { server, sink } = await setup(t, { retry: { initialMs: 5, maxMs: 50, maxRecordAttempts: 3 } });
  const batch = makeRecords(10);
  const poison = batch[4]!.eventId;
  server.failRecords((d) => idOf(d) === poison, Infinity, 'InvalidArgumentException', 'record refused');
  const result = await sink.write(batch, never());
  result.outcomes.forEach((o, i) => t.is(o.status, i === 4 ? 'rejected' : 'delivered'));
  const o = result.outcomes[4]!;
  if (o.status === 'rejected') {
    t.is(o.attempts, 3);
    t.is(o.error.code, 'sink_rejected');
    t.is(o.error.kind, 'permanent');
  }
  t.deepEqual([...new Set(acceptedIds(server))].sort(), batch.filter((r) => r.eventId !== poison).map((r) => r.eventId).sort());
});

test('firehose: requests stay within 500 records and 4 MiB; a record over 1000 KiB goes to the DLQ unsent', async (t) => {
  const { server, sink } = await setup(t);
  const small = makeRecords(1_100);
  const padded = makeRecords(600, { padBytes: 20_000, startOffset: 5_000 });
  const huge = makeRecords(1, { padBytes: 1_100 * 1024, startOffset: 9_000 });
  const batch = [...small, ...huge, ...padded];
  const result = await sink.write(batch, never());
  t.is(result.outcomes[small.length]!.status, 'rejected');
  const o = result.outcomes[small.length]!;
  if (o.status === 'rejected') t.is(o.error.code, 'sink_too_large');
  t.is(result.outcomes.filter((x) => x.status === 'delivered').length, batch.length - 1);
  const puts = server.requests.filter((r) => r.target.endsWith('PutRecordBatch'));
  t.true(puts.every((r) => r.status === 200), 'the service never refused a request for its size');
  t.true(puts.every((r) => r.records <= firehoseQuotas.maxRecords && r.bytes <= firehoseQuotas.maxRequestBytes));
  t.true(puts.some((r) => r.records === 500), 'full requests by count');
  t.true(puts.some((r) => r.bytes > 3 * 1024 * 1024), 'full requests by bytes');
  t.is(acceptedIds(server).length, batch.length - 1);
});

test('firehose: ServiceUnavailableException (503) and throttling are retried with backoff, then delivered', async (t) => {
  const { server, sink } = await setup(t);
  server.failNext(503, 'ServiceUnavailableException', 2, 'Slow down.');
  server.failNext(400, 'ThrottlingException', 1, 'Rate exceeded');
  const batch = makeRecords(5);
  const result = await sink.write(batch, never());
  t.true(result.outcomes.every((o) => o.status === 'delivered'));
  t.is(result.retries, 3);
  t.deepEqual(acceptedIds(server), batch.map((r) => r.eventId));
});

test('firehose: AccessDenied and an unknown stream halt as misconfiguration', async (t) => {
  const { server, sink } = await setup(t);
  server.failNext(400, 'AccessDeniedException', 1, 'User is not authorized to perform: firehose:PutRecordBatch');
  const denied = await t.throwsAsync(sink.write(makeRecords(2), never()));
  t.is(classify(denied), 'misconfiguration');
  t.is((denied as TributaryError).code, 'sink_auth');
  server.streams.delete('events');
  const missing = await t.throwsAsync(sink.write(makeRecords(2), never()));
  t.is((missing as TributaryError).code, 'sink_not_found');
  t.is(server.accepted.length, 0);
});

test('firehose: an abort during backoff throws AbortError promptly', async (t) => {
  const { server, sink } = await setup(t, { retry: { initialMs: 20_000, maxMs: 20_000, maxRetryAgeMs: 600_000 } });
  server.failNext(503, 'ServiceUnavailableException', Infinity);
  const ctrl = new AbortController();
  const pending = sink.write(makeRecords(2), ctrl.signal);
  const deadline = Date.now() + 5_000;
  while (server.requests.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const abortedAt = Date.now();
  ctrl.abort();
  const err = await t.throwsAsync(pending);
  t.is(err?.name, 'AbortError');
  t.true(Date.now() - abortedAt < 1_000);
});

test('firehose: retries stop at maxRetryAgeMs and the records are rejected as retries exhausted', async (t) => {
  const { server, sink } = await setup(t, { retry: { initialMs: 5, maxMs: 20, maxRetryAgeMs: 1_000 } });
  const batch = makeRecords(4);
  server.failRecords(() => true, Infinity, 'InternalFailure');
  const result = await sink.write(batch, never());
  t.true(result.outcomes.every((o) => o.status === 'rejected' && o.error.code === 'sink_retries_exhausted'));
  t.true(result.requests >= 2, 'retried before giving up');
  t.is(server.accepted.length, 0);
});
