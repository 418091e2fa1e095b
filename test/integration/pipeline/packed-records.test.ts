// Packed records (flag `source.packRecords`) against the real broker: a sink reads packs as the
// events they hold — each once, per-device order kept, a pack delivered whole when it fits the
// sink's limits and split across chunks (committed after its last piece) when it does not. A
// restarted sink recognises a source's re-sent packs from the ids it reads back, and a malformed
// pack goes to the DLQ as it is while the stream moves on.
import test from 'ava';
import { envelopeOf } from '../../../src/connect/event.js';
import { groups, topics } from '../../../src/kafka/topics.js';
import { createLogger } from '../../../src/observability/logger.js';
import { DedupWindow } from '../../../src/pipeline/dedup-window.js';
import { toPackMessages } from '../../../src/pipeline/event-record.js';
import { SinkRunner } from '../../../src/pipeline/sink-runner.js';
import type { EventRecord, Sink, WriteResult } from '../../../src/sinks/types.js';
import { StateStore } from '../../../src/state/state-store.js';
import { StateWriter } from '../../../src/state/state-writer.js';
import { eventually, testDynamo, uniq } from '../../helpers/infra.js';
import { integrationTopics } from '../../helpers/sink-topics.js';

const logger = createLogger({ level: 'warn', name: 'packed-test' });

function recordingSink(maxBatchEvents: number) {
  const chunks: EventRecord[][] = [];
  const sink: Sink = {
    limits: { maxBatchEvents, maxBatchBytes: 1024 * 1024 },
    async write(batch: readonly EventRecord[]): Promise<WriteResult> {
      chunks.push([...batch]);
      return { outcomes: batch.map(() => ({ status: 'delivered' as const })), requests: 1, retries: 0 };
    },
    healthcheck: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return { sink, chunks, delivered: () => chunks.flat() };
}

async function setup(t: import('ava').ExecutionContext, partitions: number, packEvents: number) {
  const integrationId = uniq('packed');
  const env = await integrationTopics(t, integrationId, partitions, { maxEvents: packEvents, maxBytes: 512 * 1024 });
  const store = new StateStore(testDynamo(), uniq('packed-state'));
  await store.ensureTable();
  const state = new StateWriter(store, { integrationId, epoch: 1 });
  t.teardown(() => state.close());
  let duplicates = 0;
  const runner = (sink: Sink, dedup = new DedupWindow(10_000)) =>
    new SinkRunner({ integrationId, kafka: env.kafka, admin: env.admin, producer: env.queue, sink, dedup, state, logger, sessionTimeoutMs: 10_000, fetchMaxWaitMs: 200, dedupSeedPerPartition: 100, onDuplicates: (n) => (duplicates += n) });
  const committed = async () => (await env.admin.fetchOffsets({ groupId: groups.sink(integrationId), topics: [env.topic] }))[0]!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
  return { ...env, integrationId, runner, committed, duplicates: () => duplicates };
}

test('packs are delivered as their events: each once, per-device order kept, whole packs per chunk', async (t) => {
  const env = await setup(t, 3, 40);
  const events = await env.produce(600, 7);
  const { sink, chunks, delivered } = recordingSink(100);
  const r = env.runner(sink);
  t.teardown(() => r.stop());
  await r.start();
  await eventually(() => (delivered().length >= 600 ? true : undefined), 30_000, '600 delivered');
  const got = delivered();
  t.is(got.length, 600);
  t.is(new Set(got.map((e) => e.eventId)).size, 600, 'each event once');
  for (let d = 0; d < 7; d++) {
    const order = got.filter((e) => e.key === `dev-${d}`).map((e) => Number(e.connectOffset));
    t.deepEqual(order, events.filter((e) => e.device.channel === `dev-${d}`).map((e) => Number(e.offset)), `device ${d} in Connect order`);
  }
  // A chunk holds whole packs: every pack's events arrive in one chunk.
  for (const chunk of chunks) {
    t.true(chunk.length <= 100);
    const packs = new Set(chunk.map((e) => `${e.partition}/${e.offset}`));
    for (const p of packs) t.is(got.filter((e) => `${e.partition}/${e.offset}` === p).length, chunk.filter((e) => `${e.partition}/${e.offset}` === p).length, `pack ${p} not split`);
  }
  const records = (await env.admin.fetchTopicOffsets(env.topic)).reduce((n, p) => n + Number(p.high), 0);
  t.true(records < 600 / 10, `${records} records hold 600 events`);
  await eventually(async () => ((await env.committed()) === records ? true : undefined), 10_000, 'every pack committed');
});

test('a pack larger than the sink takes is split across chunks and committed after its last piece', async (t) => {
  const env = await setup(t, 1, 40);
  await env.produce(120, 3);
  const { sink, chunks, delivered } = recordingSink(15);
  const r = env.runner(sink);
  t.teardown(() => r.stop());
  await r.start();
  await eventually(() => (delivered().length >= 120 ? true : undefined), 30_000, '120 delivered');
  t.true(chunks.every((c) => c.length <= 15), 'the sink limits hold');
  t.is(new Set(delivered().map((e) => e.eventId)).size, 120);
  await eventually(async () => ((await env.committed()) === 3 ? true : undefined), 10_000, 'the three packs committed');
});

test('a restarted sink recognises re-sent packs from the ids it reads back; a malformed pack is dead-lettered as is', async (t) => {
  const env = await setup(t, 2, 25);
  const events = await env.produce(200, 5);
  const first = recordingSink(100);
  const a = env.runner(first.sink);
  await a.start();
  await eventually(() => (first.delivered().length >= 200 ? true : undefined), 30_000, '200 delivered by the first sink');
  await eventually(async () => ((await env.committed()) > 0 ? true : undefined), 10_000, 'committed');
  await a.stop();

  // The source restarts and re-sends its last 60 events (packed anew), then a corrupt pack, then 10 new events.
  const ctx = { integrationId: env.integrationId, correlationId: 'again', ingestedAt: new Date().toISOString() };
  await env.queue.send(env.topic, toPackMessages(events.slice(140).map((event) => ({ event: envelopeOf(event), raw: Buffer.from(JSON.stringify(event)) })), ctx, 2, { maxEvents: 25, maxBytes: 512 * 1024 }));
  await env.queue.send(env.topic, [{ partition: 0, key: null, value: Buffer.from('not a pack'), headers: { 'tributary-pack-events': '3', 'tributary-connect-offset': '1' } }]);
  await env.produce(10, 5);

  const second = recordingSink(100);
  const b = env.runner(second.sink, new DedupWindow(10_000));
  t.teardown(() => b.stop());
  await b.start();
  await eventually(() => (second.delivered().length >= 10 ? true : undefined), 30_000, 'the new events delivered');
  await new Promise((res) => setTimeout(res, 1_000));
  t.deepEqual(
    second.delivered().map((e) => e.connectOffset).sort(),
    Array.from({ length: 10 }, (_, i) => String(1_200 + i)).sort(),
    'only the 10 new events: the 60 re-sent ones were recognised',
  );
  t.is(env.duplicates(), 60);
  // The corrupt record, in the DLQ with the reason.
  const dlq: { value: string; reason: string }[] = [];
  const consumer = env.kafka.consumer({ groupId: uniq('packed-dlq') });
  await consumer.connect();
  t.teardown(() => consumer.disconnect());
  await consumer.subscribe({ topic: topics.dlq(env.integrationId), fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void dlq.push({ value: message.value!.toString(), reason: message.headers?.['tributary-reason']?.toString() ?? '' }) });
  await eventually(() => (dlq.length >= 1 ? true : undefined), 20_000, 'the corrupt pack dead-lettered');
  t.is(dlq[0]!.value, 'not a pack');
  t.regex(dlq[0]!.reason, /packed record 0\/\d+ ends inside event 1 of 3/);
});
