// A feature flag flipped on the control topic: `sink.webhook.gzipDefault` set in one
// integration's spec makes that integration's webhook gzip its bodies — a sink-only restart, its
// Connect stream untouched — while the other integration on the same node and receiver is not
// touched at all. Flipped back off, the bodies are plain again. An alerting flag restarts nothing.
import test from 'ava';
import { eventually } from '../helpers/infra.js';
import { startControlCluster } from '../helpers/control-cluster.js';

test('a flag flipped on the control topic changes one integration and no other; off again restores it; an alerting flag restarts nothing', async (t) => {
  const cluster = await startControlCluster([{ totalEvents: 6_000, rate: 100 }, { totalEvents: 6_000, rate: 100 }]);
  t.teardown(() => cluster.close());
  await cluster.startNode('fl-n1');
  const [a, b] = cluster.ids as [string, string];
  const specA = cluster.specs.get(a)!;
  for (const id of [a, b]) {
    const v = await cluster.client.create(cluster.specs.get(id)!);
    await cluster.client.waitFor(id, v, (r) => r.status === 'running', 60_000);
  }
  const idsOf = (id: string) => new Set(cluster.emulator.served(cluster.appKey(id)).map((e) => e.id));
  const requestsOf = (id: string, since: number) => {
    const ids = idsOf(id);
    return cluster.receiver.requests.filter((r) => r.at >= since && r.status === 200 && r.eventIds.length > 0 && ids.has(r.eventIds[0]!));
  };
  const gz = (r: { headers: Record<string, unknown> }) => /gzip/i.test(String(r.headers['content-encoding'] ?? ''));
  await eventually(() => (requestsOf(a, 0).length >= 3 && requestsOf(b, 0).length >= 3 ? true : undefined), 60_000, 'both integrations delivering');
  t.false(requestsOf(a, 0).some(gz), 'off by default');
  const connections = () => [a, b].map((id) => cluster.emulator.stats(cluster.appKey(id)).connections.total);
  const before = { connections: connections(), epochs: await Promise.all([a, b].map(async (id) => (await cluster.row(id))!.ownerEpoch)) };

  // On, for integration A only.
  const flippedAt = Date.now();
  await cluster.client.update({ ...specA, flags: { 'sink.webhook.gzipDefault': true } });
  await eventually(() => (requestsOf(a, flippedAt).some(gz) ? true : undefined), 60_000, 'A gzipping');
  const onAt = requestsOf(a, flippedAt).find(gz)!.at;
  await eventually(() => (requestsOf(b, onAt).length >= 5 && requestsOf(a, onAt).length >= 5 ? true : undefined), 60_000, 'both delivering after the flip');
  t.true(requestsOf(a, onAt).every(gz), 'every later A request is gzipped');
  t.false(requestsOf(b, flippedAt).some(gz), 'B never gzips');
  t.deepEqual(connections(), before.connections, 'neither Connect stream restarted (the flag is sink-scoped)');

  // An alerting flag: nothing restarts, A keeps gzipping without a gap in its consumer.
  const alertAt = Date.now();
  await cluster.client.update({ ...specA, flags: { 'sink.webhook.gzipDefault': true, 'alerting.lagGrowth': true } });
  await eventually(() => (requestsOf(a, alertAt).length >= 5 ? true : undefined), 60_000, 'A delivering after the alerting flip');
  t.true(requestsOf(a, alertAt).every(gz));
  t.deepEqual(connections(), before.connections, 'still no Connect restart');

  // Off again: A's bodies are plain.
  const offAt = Date.now();
  await cluster.client.update({ ...specA, flags: { 'sink.webhook.gzipDefault': false } });
  await eventually(() => (requestsOf(a, offAt).some((r) => !gz(r)) ? true : undefined), 60_000, 'A plain again');
  const plainAt = requestsOf(a, offAt).find((r) => !gz(r))!.at;
  await eventually(() => (requestsOf(a, plainAt).length >= 3 ? true : undefined), 60_000, 'A delivering after the flip back');
  t.false(requestsOf(a, plainAt).some(gz), 'no A request gzipped after the flip back');
  t.false(requestsOf(b, 0).some(gz), 'B never gzipped');
  t.deepEqual(connections(), before.connections);
  t.deepEqual(await Promise.all([a, b].map(async (id) => (await cluster.row(id))!.ownerEpoch)), before.epochs, 'no integration re-claimed');

  // Every event of both apps arrives despite the sink restarts.
  await eventually(() => {
    const got = cluster.receiver.deliveredSet();
    return [a, b].every((id) => [...idsOf(id)].every((e) => got.has(e))) && idsOf(a).size >= 6_000 && idsOf(b).size >= 6_000 ? true : undefined;
  }, 120_000, 'every served event delivered');
  t.pass();
});
