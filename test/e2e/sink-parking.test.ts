// Flag sink.parkWhenIdle on a whole node: quiet integrations park (no consumer group member), a
// trickle of new Connect events is delivered by the node's offset watcher, a backlog wakes only
// its own integration's sink, and every served event is delivered exactly once throughout.
import test from 'ava';
import { testKafka } from '../helpers/infra.js';
import { startFixture, startInProcessNode } from '../helpers/pipeline.js';
import { groups } from '../../src/kafka/topics.js';
import { eventually } from '../helpers/infra.js';

test('quiet integrations park; a trickle is delivered while parked; a backlog wakes only its own sink; each event once', async (t) => {
  const f = await startFixture([
    { size: 'small', totalEvents: 200 },
    { size: 'small', totalEvents: 200 },
    { size: 'medium', totalEvents: 200 },
  ]);
  t.teardown(() => f.close());
  f.nodeConfig.kafka = { ...(f.nodeConfig.kafka as Record<string, unknown>), sinkParkIdleMs: 1_000, parkPollMs: 200 };
  f.nodeConfig.flags = { 'sink.parkWhenIdle': true };
  const node = await startInProcessNode(f);
  t.teardown(() => node.shutdown());
  const admin = testKafka().admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const members = async (id: string) => (await admin.describeGroups([groups.sink(id)])).groups[0]?.members.length ?? 0;
  const parked = async () => new Map((await node.guardian.status()).map((s) => [s.integrationId, s.sinkParked]));

  await f.receiver.waitFor((rx) => rx.deliveredSet().size >= 600, 60_000, '600 events delivered');
  await eventually(async () => ([...(await parked()).values()].every(Boolean) ? true : undefined), 30_000, 'all three sinks parked');
  for (const s of f.specs) t.is(await members(s.id), 0, `${s.id}: no member in its sink group while parked`);

  // A trickle for app 0: the node's offset watcher fetches and delivers it, every sink stays parked.
  const [a, b] = f.specs;
  f.emulator.append(a!.app.key, Array.from({ length: 50 }, () => ({ type: 'CUSTOM' })));
  await f.receiver.waitFor((rx) => rx.deliveredSet().size >= 650, 30_000, 'the 50 new events delivered');
  t.true([...(await parked()).values()].every(Boolean), 'a trickle wakes no sink');
  t.is(await members(a!.id), 0);

  // A backlog for app 0 (more than the watcher's trickle of 500, within the emulator's retention of
  // 1,000): its sink rejoins its group, then parks again.
  f.emulator.append(a!.app.key, Array.from({ length: 800 }, () => ({ type: 'CUSTOM' })));
  await f.receiver.waitFor((rx) => rx.deliveredSet().size >= 1_450, 60_000, 'the 800 new events delivered');
  t.true((await parked()).get(b!.id), 'an integration without new events stayed parked');
  await eventually(async () => ((await parked()).get(a!.id) ? true : undefined), 30_000, 'the woken sink parked again');

  const delivered = f.receiver.delivered();
  t.is(new Set(delivered).size, 1_450);
  t.is(delivered.length, 1_450, 'nothing delivered twice across park, trickle and wake-up');
  for (const s of f.specs) {
    const got = f.receiver.deliveredSet();
    t.true(f.emulator.served(s.app.key).every((e) => got.has(e.id)), `${s.id}: every served event delivered`);
  }
});
