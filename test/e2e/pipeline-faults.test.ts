import test from 'ava';
import { createLogger } from '../../src/observability/logger.js';
import { ProduceQueue } from '../../src/kafka/produce-queue.js';
import { replayDlq } from '../../src/pipeline/dlq-replay.js';
import { buildSink, validateSinkConfig } from '../../src/sinks/registry.js';
import { StateStore } from '../../src/state/state-store.js';
import { topics } from '../../src/kafka/topics.js';
import { eventually, testDynamo, testKafka } from '../helpers/infra.js';
import { startFixture, startInProcessNode, type Fixture } from '../helpers/pipeline.js';

const logger = createLogger({ level: 'warn', name: 'e2e' });

function servedIds(f: Fixture, i: number): Set<string> {
  return new Set(f.emulator.served(f.specs[i]!.app.key).map((e) => e.id));
}

function deliveredFrom(f: Fixture, i: number): string[] {
  const mine = servedIds(f, i);
  return f.receivers[i % f.receivers.length]!.delivered().filter((id) => mine.has(id));
}

async function dlqCount(integrationId: string): Promise<number> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topics.dlq(integrationId));
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

test.serial('the receiver down for 60 s: data waits in Kafka, the other integration keeps flowing, the backlog drains, nothing lost', async (t) => {
  const f = await startFixture(
    [
      { size: 'medium', totalEvents: 4_000, rate: 100 },
      { size: 'medium', totalEvents: 9_000, rate: 100 },
    ],
    { receivers: 2 },
  );
  t.teardown(() => f.close());
  const node = await startInProcessNode(f);
  t.teardown(() => node.shutdown());
  const [downRx, upRx] = f.receivers as [typeof f.receiver, typeof f.receiver];
  await downRx.waitFor(() => deliveredFrom(f, 0).length >= 200, 60_000, 'first events to the soon-down receiver');
  await downRx.stop();
  const downAt = Date.now();
  const healthyBefore = deliveredFrom(f, 1).length;
  const servedBefore = servedIds(f, 1).size;
  await new Promise((r) => setTimeout(r, 60_000));
  const healthyDuring = deliveredFrom(f, 1).length - healthyBefore;
  const servedDuring = servedIds(f, 1).size - servedBefore;
  const stuck = deliveredFrom(f, 0).length;
  // Full speed: the healthy integration delivers what Connect serves it while the other is down.
  t.true(servedDuring > 4_000, `the healthy app kept streaming (${servedDuring} served)`);
  t.true(healthyDuring >= 0.8 * servedDuring, `healthy integration delivered ${healthyDuring} of ${servedDuring} served during the outage`);
  const state = new StateStore(testDynamo(), f.table);
  const row = await state.get(f.specs[0]!.id);
  t.true((row?.consumerLag ?? 0) > 0 || stuck < 4_000, 'data accumulated in Kafka');
  await downRx.start();
  const delivered0 = downRx.deliveredSet();
  await downRx.waitFor(() => {
    const served = servedIds(f, 0);
    return served.size === 4_000 && [...served].every((id) => delivered0.has(id));
  }, 180_000, 'backlog drained');
  t.log(`outage ${(Date.now() - downAt) / 1000}s; healthy integration delivered ${healthyDuring} events during it`);
  // Everything the healthy app was served by now is delivered (its stream may still be running).
  const servedByNow = [...servedIds(f, 1)];
  const delivered1 = upRx.deliveredSet();
  await upRx.waitFor(() => servedByNow.every((id) => delivered1.has(id)), 180_000, 'healthy integration caught up');
  t.is(new Set(deliveredFrom(f, 0)).size, 4_000);
});

test.serial('a 400 for a seeded subset: exactly those land in the DLQ, all others delivered; dlq replay delivers them once fixed', async (t) => {
  const f = await startFixture([{ size: 'medium', totalEvents: 3_000 }]);
  t.teardown(() => f.close());
  const poison = (id: string) => id.endsWith('7') || id.endsWith('c');
  f.receiver.rejectIds(poison, 400);
  const node = await startInProcessNode(f);
  t.teardown(() => node.shutdown());
  const id = f.specs[0]!.id;
  const served = [...servedIds(f, 0)];
  await eventually(async () => {
    const all = servedIds(f, 0);
    if (all.size < 3_000) return undefined;
    const expectedBad = [...all].filter(poison).length;
    const good = [...all].filter((x) => !poison(x));
    const delivered = f.receiver.deliveredSet();
    return good.every((x) => delivered.has(x)) && (await dlqCount(id)) === expectedBad ? true : undefined;
  }, 120_000, 'good events delivered and poison in the DLQ');
  const all = [...servedIds(f, 0)];
  const bad = all.filter(poison);
  t.true(bad.length > 100, `seeded subset has ${bad.length} events`);
  t.false(bad.some((x) => f.receiver.deliveredSet().has(x)), 'no poison event counted delivered');
  t.is(await dlqCount(id), bad.length, 'exactly the rejected events are in the DLQ');
  t.true(served.length <= all.length);

  // The receiver is fixed; replaying the DLQ delivers exactly them.
  f.receiver.rejectIds(undefined);
  const kafka = testKafka();
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await Promise.all([admin.connect(), producer.connect()]);
  t.teardown(async () => {
    await producer.disconnect();
    await admin.disconnect();
  });
  const sink = await buildSink(validateSinkConfig(f.specs[0]!.sink, { local: true }), {
    integrationId: id, appKey: f.specs[0]!.app.key, tier: 'medium', local: true, logger, resolveSecret: async () => '', dataDir: f.dir,
  });
  t.teardown(() => sink.close());
  const report = await replayDlq({ integrationId: id, kafka, admin, producer: new ProduceQueue(producer), sink, logger });
  t.is(report.delivered, bad.length);
  t.is(report.rejectedAgain, 0);
  t.true(bad.every((x) => f.receiver.deliveredSet().has(x)), 'every dead-lettered event delivered by the replay');
  const again = await replayDlq({ integrationId: id, kafka, admin, producer: new ProduceQueue(producer), sink, logger });
  t.is(again.considered, 0, 'a second replay finds nothing new (idempotent)');
});

test.serial('a 401 from the receiver: misconfigured, slow probes only, resumes without loss', async (t) => {
  const f = await startFixture([{ size: 'large', totalEvents: 2_000, rate: 200 }]);
  t.teardown(() => f.close());
  const node = await startInProcessNode(f, { probeIntervalMs: 3_000 });
  t.teardown(() => node.shutdown());
  await f.receiver.waitFor(() => f.receiver.deliveredCount() >= 100, 60_000, 'flowing');
  f.receiver.failNext(401, Infinity);
  const state = new StateStore(testDynamo(), f.table);
  const id = f.specs[0]!.id;
  await eventually(async () => ((await state.get(id))?.status === 'misconfigured' ? true : undefined), 30_000, 'status misconfigured');
  await new Promise((r) => setTimeout(r, 1_000)); // requests already in flight on other partitions land
  const before = f.receiver.requests.length;
  await new Promise((r) => setTimeout(r, 9_000));
  const probes = f.receiver.requests.length - before;
  t.true(probes <= 4, `≤ 1 request per probe interval while halted (saw ${probes} in 9 s at a 3 s interval)`);
  f.receiver.heal();
  const delivered = f.receiver.deliveredSet();
  await f.receiver.waitFor(() => {
    const served = servedIds(f, 0);
    return served.size === 2_000 && [...served].every((x) => delivered.has(x));
  }, 90_000, 'all delivered after the fix');
  await eventually(async () => ((await state.get(id))?.status === 'running' ? true : undefined), 30_000, 'status running again');
  t.pass();
});

test.serial('replay from a timestamp re-delivers exactly the events after it', async (t) => {
  const f = await startFixture([{ size: 'medium', totalEvents: 3_000, rate: 300 }]);
  t.teardown(() => f.close());
  const node = await startInProcessNode(f);
  t.teardown(() => node.shutdown());
  await f.receiver.waitFor(() => f.receiver.deliveredCount() >= 1_000, 60_000, 'first third delivered');
  await new Promise((r) => setTimeout(r, 200));
  const cut = Date.now();
  await new Promise((r) => setTimeout(r, 200));
  await f.receiver.waitFor(() => servedIds(f, 0).size === 3_000 && f.receiver.deliveredSet().size >= 3_000, 60_000, 'all delivered');
  // Which events Kafka stored after the cut (their Kafka timestamps), read back independently.
  const kafka = testKafka();
  const consumer = kafka.consumer({ groupId: `check-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.events(f.specs[0]!.id), fromBeginning: true });
  const after = new Set<string>();
  let read = 0;
  await consumer.run({
    eachMessage: async ({ message }) => {
      read += 1;
      if (Number(message.timestamp) >= cut) after.add(String(message.headers?.['tributary-event-id']));
    },
  });
  await eventually(() => (read >= 3_000 ? true : undefined), 30_000, 'read back the events topic');
  await consumer.disconnect();

  const deliveredBefore = f.receiver.delivered().length;
  const result = await node.guardian.replay(f.specs[0]!.id, { timestamp: cut });
  t.true(result.ok, result.error);
  await f.receiver.waitFor((rx) => rx.deliveredCount() - deliveredBefore >= after.size, 60_000, 'replayed events delivered');
  await new Promise((r) => setTimeout(r, 1_500));
  const replayed = f.receiver.delivered().slice(deliveredBefore);
  t.is(replayed.length, after.size, 'exactly the events after the timestamp, once each');
  t.deepEqual([...replayed].sort(), [...after].sort());
  const row = await new StateStore(testDynamo(), f.table).get(f.specs[0]!.id);
  t.truthy(row?.lastReplay, 'replay recorded in the state row');
});
