// Parked sinks (flag sink.parkWhenIdle) against the real broker: a sink with everything delivered
// leaves its consumer group and waits on the offset watcher; a trickle of new records is fetched
// and delivered by the watcher (committed without a group member), a backlog wakes the sink into
// its group; each record is delivered exactly once. A sink with nothing to deliver never joins.
import test from 'ava';
import type { Kafka } from 'kafkajs';
import { OffsetWatcher } from '../../../src/kafka/offset-watcher.js';
import { groups, topics } from '../../../src/kafka/topics.js';
import { createLogger } from '../../../src/observability/logger.js';
import { DedupWindow } from '../../../src/pipeline/dedup-window.js';
import { SinkRunner } from '../../../src/pipeline/sink-runner.js';
import type { EventRecord, Sink, WriteResult } from '../../../src/sinks/types.js';
import { StateStore } from '../../../src/state/state-store.js';
import { StateWriter } from '../../../src/state/state-writer.js';
import { eventually, testDynamo, testKafka, uniq } from '../../helpers/infra.js';
import { integrationTopics } from '../../helpers/sink-topics.js';

const logger = createLogger({ level: 'warn', name: 'park-test' });

function recordingSink() {
  const delivered: string[] = [];
  const sink: Sink = {
    limits: { maxBatchEvents: 50, maxBatchBytes: 1024 * 1024 },
    async write(batch: readonly EventRecord[]): Promise<WriteResult> {
      delivered.push(...batch.map((r) => r.eventId));
      return { outcomes: batch.map(() => ({ status: 'delivered' as const })), requests: 1, retries: 0 };
    },
    healthcheck: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return { sink, delivered };
}

async function setup(t: import('ava').ExecutionContext) {
  const integrationId = uniq('park');
  const { kafka, admin, queue, topic, produce: write } = await integrationTopics(t, integrationId, 2);
  const watcher = new OffsetWatcher({ kafka, logger, pollMs: 200 });
  const store = new StateStore(testDynamo(), uniq('park-state'));
  await store.ensureTable();
  // A claimed row, as the integration actor makes: a parked sink delivers only while not fenced.
  const { epoch } = await store.claim(integrationId, 'park-node', { appKey: 'app', tier: 'small', sinkType: 'test' });
  const state = new StateWriter(store, { integrationId, epoch });
  t.teardown(async () => {
    await state.close();
    await watcher.stop();
  });
  const produce = (count: number) => write(count, 7);
  const parkedLog: boolean[] = [];
  const runner = (kafkaClient: Kafka, sink: Sink) =>
    new SinkRunner({
      integrationId,
      kafka: kafkaClient,
      admin,
      producer: queue,
      sink,
      dedup: new DedupWindow(10_000),
      state,
      logger,
      sessionTimeoutMs: 10_000,
      fetchMaxWaitMs: 200,
      // Idle time well above a slow first fetch after a join on a loaded machine (an early park shows in parkedLog).
      parking: { watcher, idleMs: 2_500 },
      onParked: (p) => parkedLog.push(p),
    });
  const members = async () => (await admin.describeGroups([groups.sink(integrationId)])).groups[0]?.members.length ?? 0;
  const committedTotal = async () =>
    (await admin.fetchOffsets({ groupId: groups.sink(integrationId), topics: [topic] }))[0]!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
  return { kafka, admin, watcher, produce, runner, members, committedTotal, parkedLog, integrationId, store, state };
}

test('an idle sink parks (leaves its group); a trickle is delivered while parked; a backlog wakes it; each record once', async (t) => {
  const env = await setup(t);
  await env.produce(100);
  const { sink, delivered } = recordingSink();
  const r = env.runner(env.kafka, sink);
  t.teardown(() => r.stop());
  await r.start();
  t.false(r.isParked, 'records waiting: it consumes first');
  await eventually(() => (delivered.length >= 100 ? true : undefined), 30_000, '100 delivered');
  await eventually(() => (r.isParked ? true : undefined), 20_000, 'parked after the idle time');
  t.is(await env.members(), 0, 'no member left in the sink group while parked');
  t.is(env.watcher.size, 1);

  // A trickle: fetched and delivered by the watcher, committed without a group member.
  await env.produce(50);
  await eventually(() => (delivered.length >= 150 ? true : undefined), 30_000, 'the trickle delivered while parked');
  t.true(r.isParked, 'still parked');
  t.is(await env.members(), 0);
  await eventually(async () => ((await env.committedTotal()) === 150 ? true : undefined), 10_000, 'the trickle committed to the group');

  // A backlog (more than the watcher's trickle): the sink rejoins its group to consume it.
  await env.produce(700);
  await eventually(() => (delivered.length >= 850 ? true : undefined), 30_000, 'the backlog delivered after waking');
  await eventually(() => (r.isParked ? true : undefined), 20_000, 'parked again');
  t.is(delivered.length, 850, 'nothing delivered twice');
  t.is(new Set(delivered).size, 850);
  t.deepEqual(env.parkedLog, [true, false, true]);
  await r.stop();
  t.is(env.watcher.size, 0, 'a stopped sink no longer watched');
});

test('a sink with nothing to deliver at start parks without joining its group; a restart does the same', async (t) => {
  const env = await setup(t);
  await env.produce(20);
  const first = recordingSink();
  const a = env.runner(env.kafka, first.sink);
  await a.start();
  await eventually(() => (first.delivered.length >= 20 ? true : undefined), 30_000, '20 delivered');
  await a.stop();

  const second = recordingSink();
  const b = env.runner(testKafka(), second.sink);
  t.teardown(() => b.stop());
  await b.start();
  t.true(b.isParked, 'parked straight away: its committed offsets are at the end');
  t.is(await env.members(), 0);
  await env.produce(5);
  await eventually(() => (second.delivered.length >= 5 ? true : undefined), 30_000, 'the 5 new records delivered by the watcher');
  t.true(b.isParked, 'a trickle does not wake the sink');
  const before = new Set(first.delivered);
  t.true(second.delivered.every((id) => !before.has(id)), 'only the new records');
  t.is(second.delivered.length, 5);
});

test('stop() while parked returns at once; a stopped parked sink never rejoins', async (t) => {
  const env = await setup(t);
  const { sink } = recordingSink();
  const r = env.runner(env.kafka, sink);
  await r.start();
  t.true(r.isParked, 'empty topic: parked');
  const started = Date.now();
  await r.stop();
  t.true(Date.now() - started < 1_000, `stopped in ${Date.now() - started} ms`);
  await env.produce(3);
  await env.watcher.poll();
  t.is(await env.members(), 0, 'a stopped parked sink never rejoins');
});

test('a parked sink whose state row was claimed by another node delivers nothing itself: it wakes into its group', async (t) => {
  const env = await setup(t);
  const whileParked: string[] = [];
  const { sink } = recordingSink();
  const write = sink.write.bind(sink);
  sink.write = async (batch, signal) => {
    if (r.isParked) whileParked.push(...batch.map((x) => x.eventId));
    return write(batch, signal);
  };
  const r = env.runner(env.kafka, sink);
  t.teardown(() => r.stop());
  await r.start();
  t.true(r.isParked);
  // Another node claims the integration: this node's state writes are fenced from now on.
  await env.store.claim(env.integrationId, 'other-node', { appKey: 'app', tier: 'small', sinkType: 'test' });
  await eventually(async () => {
    await env.state.flush();
    return env.state.isFenced ? true : undefined;
  }, 10_000, 'the state writer fenced');
  await env.produce(3);
  await eventually(() => (env.parkedLog.includes(false) ? true : undefined), 10_000, 'woken instead of delivering while fenced');
  t.deepEqual(whileParked, [], 'nothing delivered through the watcher while fenced');
});
