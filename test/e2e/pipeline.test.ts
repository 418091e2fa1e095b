import test, { type ExecutionContext } from 'ava';
import { topics } from '../../src/kafka/topics.js';
import { eventually, testDynamo, testKafka } from '../helpers/infra.js';
import { startFixture, startInProcessNode, type AppPlan } from '../helpers/pipeline.js';
import { StateStore } from '../../src/state/state-store.js';

/** Runs the apps through one in-process node; resolves with the records in the first integration's events topic. */
async function deliverAll(t: ExecutionContext, apps: AppPlan[], flags?: Record<string, boolean>): Promise<number> {
  const f = await startFixture(apps, flags ? { flags } : {});
  t.teardown(() => f.close());
  const node = await startInProcessNode(f);
  t.teardown(() => node.shutdown());

  const total = apps.reduce((n, a) => n + a.totalEvents, 0);
  await f.receiver.waitFor((rx) => rx.deliveredSet().size >= total, 150_000, `${total} unique events delivered`);
  const delivered = f.receiver.delivered();
  const unique = new Set(delivered);
  t.is(unique.size, total);
  t.is(delivered.length, total, 'no event delivered twice');
  for (let i = 0; i < f.specs.length; i++) {
    const served = f.emulator.served(f.specs[i]!.app.key);
    t.true(served.every((e) => unique.has(e.id)), `integration ${i}: every served event delivered`);
  }

  // Per-device order: the receiver saw each device's events in Connect offset order.
  const byId = new Map<string, { device: string; offset: bigint }>();
  for (const s of f.specs) {
    for (const e of f.emulator.events(s.app.key)) {
      const d = e.device as Record<string, string> | undefined;
      const device = d?.channel ?? d?.ios_channel ?? d?.android_channel ?? d?.amazon_channel ?? '';
      if (device) byId.set(e.id, { device, offset: BigInt(e.offset) });
    }
  }
  const lastByDevice = new Map<string, bigint>();
  let outOfOrder = 0;
  for (const id of delivered) {
    const e = byId.get(id);
    if (!e) continue;
    const last = lastByDevice.get(e.device);
    if (last !== undefined && e.offset < last) outOfOrder += 1;
    lastByDevice.set(e.device, e.offset);
  }
  t.is(outOfOrder, 0, 'per-device order kept');

  // Checkpoints reach the last served offset (the state row mirrors Kafka's acks).
  const store = new StateStore(testDynamo(), f.table);
  for (const s of f.specs) {
    const last = f.emulator.lastOffset(s.app.key);
    await eventually(async () => ((await store.get(s.id))?.checkpoint === last ? true : undefined), 20_000, `checkpoint of ${s.id} = ${last}`);
  }
  const status = await node.guardian.status();
  t.is(status.length, apps.length);
  t.true(status.every((s) => s.status === 'running'));

  // Kafka holds every event exactly once per integration topic (the replayable buffer).
  const admin = testKafka().admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topics.events(f.specs[0]!.id));
  await admin.disconnect();
  return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
}

test('5 integrations, 100 000 events: each delivered exactly once, device order kept, checkpoint at the last served offset', async (t) => {
  const records = await deliverAll(t, [
    { size: 'large', totalEvents: 40_000 },
    { size: 'large', totalEvents: 30_000 },
    { size: 'medium', totalEvents: 20_000 },
    { size: 'small', totalEvents: 6_000 },
    { size: 'small', totalEvents: 4_000 },
  ]);
  t.is(records, 40_000, 'one record per event');
});

test('packed records (flag source.packRecords): each event delivered exactly once, device order kept, checkpoint at the last served offset', async (t) => {
  const records = await deliverAll(
    t,
    [
      { size: 'large', totalEvents: 30_000 },
      { size: 'small', totalEvents: 5_000 },
    ],
    { 'source.packRecords': true },
  );
  t.true(records > 0 && records <= 30_000 / 20, `${records} records hold the first integration's 30,000 events`);
});
