// A feature flag flipped on the control topic: `sink.webhook.gzipDefault` set in one
// integration's spec makes that integration's webhook gzip its bodies — a sink-only restart, its
// Connect stream untouched — while the other integration on the same node and receiver is not
// touched at all. Flipped back off, the bodies are plain again. An alerting flag restarts nothing.
//
// Fleet-wide and per-app flags go on the flags topic (`tributary flags set …`): every node applies
// them without a deploy or restart, and only integrations whose resolved flags change restart the
// part the flag affects.
import test from 'ava';
import { eventually } from '../helpers/infra.js';
import { startControlCluster, type ControlCluster } from '../helpers/control-cluster.js';

/** Receiver requests of one integration since `since` (by its served event ids), and whether gzipped. */
function traffic(cluster: ControlCluster) {
  const idsOf = (id: string) => new Set(cluster.emulator.served(cluster.appKey(id)).map((e) => e.id));
  const requestsOf = (id: string, since: number) => {
    const ids = idsOf(id);
    return cluster.receiver.requests.filter((r) => r.at >= since && r.status === 200 && r.eventIds.length > 0 && ids.has(r.eventIds[0]!));
  };
  const gz = (r: { headers: Record<string, unknown> }) => /gzip/i.test(String(r.headers['content-encoding'] ?? ''));
  return { idsOf, requestsOf, gz };
}

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
  const { idsOf, requestsOf, gz } = traffic(cluster);
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

test('flags on the flags topic: one app\'s flag changes that app only, a fleet-wide flag every integration, clearing restores; no Connect restart, bad records change nothing', async (t) => {
  const cluster = await startControlCluster([{ totalEvents: 8_000, rate: 100 }, { totalEvents: 8_000, rate: 100 }]);
  t.teardown(() => cluster.close());
  await cluster.startNode('ff-n1');
  const [a, b] = cluster.ids as [string, string];
  for (const id of [a, b]) {
    const v = await cluster.client.create(cluster.specs.get(id)!);
    await cluster.client.waitFor(id, v, (r) => r.status === 'running', 60_000);
  }
  const { idsOf, requestsOf, gz } = traffic(cluster);
  await eventually(() => (requestsOf(a, 0).length >= 3 && requestsOf(b, 0).length >= 3 ? true : undefined), 60_000, 'both integrations delivering');
  const connections = () => [a, b].map((id) => cluster.emulator.stats(cluster.appKey(id)).connections.total);
  const before = { connections: connections(), epochs: await Promise.all([a, b].map(async (id) => (await cluster.row(id))!.ownerEpoch)) };
  /** Waits until `id`'s requests after `since` are gzipped (or plain), then checks every later one is. */
  const settlesTo = async (id: string, since: number, gzipped: boolean, what: string) => {
    await eventually(() => (requestsOf(id, since).some((r) => gz(r) === gzipped) ? true : undefined), 60_000, what);
    const from = requestsOf(id, since).find((r) => gz(r) === gzipped)!.at;
    await eventually(() => (requestsOf(id, from).length >= 4 ? true : undefined), 60_000, `${what}: more deliveries`);
    t.true(requestsOf(id, from).every((r) => gz(r) === gzipped), `${what}: every later request`);
    return from;
  };

  // 1. On for A's app, through the CLI as an operator would.
  const cli = (...args: string[]) => cluster.cli('flags', ...args);
  const appOn = Date.now();
  const set = await cli('set', 'sink.webhook.gzipDefault', 'on', '--app', cluster.appKey(a), '--json');
  t.is(set.status, 0, set.stderr);
  t.like(JSON.parse(set.stdout), { key: `app/${cluster.appKey(a)}/sink.webhook.gzipDefault`, value: true });
  await settlesTo(a, appOn, true, 'A gzipping after its app flag');
  t.false(requestsOf(b, appOn).some(gz), 'B (another app) untouched');

  // 2. Fleet-wide on: B follows; A's flag did not change, so A is not restarted.
  const fleetOn = Date.now();
  await cluster.client.setFlag('sink.webhook.gzipDefault', true);
  await settlesTo(b, fleetOn, true, 'B gzipping after the fleet-wide flag');
  t.true(requestsOf(a, fleetOn).every(gz), 'A kept gzipping');

  // 3. A record from another producer that the nodes refuse changes nothing (the setting keeps its
  //    last good value, as a refused spec does); `flags list` shows it and why.
  const refusedAt = Date.now();
  await cluster.write('fleet/sink.webhook.gzipDefault', '{"value":"no"}', cluster.names.flags);
  const listed = await cli('list', '--json');
  t.is(listed.status, 0, listed.stderr);
  const flags = JSON.parse(listed.stdout) as { settings: { scope: string; name: string; value: boolean }[]; refused: { key: string; reason: string }[] };
  t.deepEqual(flags.refused.map((r) => r.key), ['fleet/sink.webhook.gzipDefault']);
  t.regex(flags.refused[0]!.reason, /value\.value: /);
  t.true(flags.settings.some((s) => s.scope === 'fleet' && s.name === 'sink.webhook.gzipDefault' && s.value), 'the last good fleet value still counts');
  // Several polls of the flags topic (2 s) later, both still gzip.
  await new Promise((r) => setTimeout(r, 6_000));
  await eventually(() => (requestsOf(b, refusedAt + 6_000).length >= 3 ? true : undefined), 60_000, 'B delivering after the refused record');
  t.true([...requestsOf(a, refusedAt), ...requestsOf(b, refusedAt)].every(gz), 'the refused record turned nothing off');

  // 4. Clear the fleet-wide value: B plain again; A keeps its app flag.
  const fleetCleared = Date.now();
  await cluster.client.setFlag('sink.webhook.gzipDefault', null);
  await settlesTo(b, fleetCleared, false, 'B plain after clearing the fleet-wide flag');
  t.true(requestsOf(a, fleetCleared).every(gz), 'A still gzipping (its app flag)');

  // 5. Clear A's app flag: A plain again.
  const cleared = Date.now();
  const clear = await cli('clear', 'sink.webhook.gzipDefault', '--app', cluster.appKey(a));
  t.is(clear.status, 0, clear.stderr);
  await settlesTo(a, cleared, false, 'A plain after clearing its app flag');

  // Bad CLI input writes nothing and exits 2 with the reason.
  const bad = await cli('set', 'sink.webhook.gzipDefalt', 'on');
  t.is(bad.status, 2);
  t.regex(bad.stderr, /flag: unknown flag "sink.webhook.gzipDefalt"/);
  const badValue = await cli('set', 'sink.webhook.gzipDefault', 'yes');
  t.is(badValue.status, 2);
  t.regex(badValue.stderr, /value: "yes" is not on or off/);
  t.deepEqual(await cluster.client.flags(), { settings: [], refused: [] }, 'nothing set after the refused commands');

  t.deepEqual(connections(), before.connections, 'no Connect stream restarted (the flag is sink-scoped)');
  t.deepEqual(await Promise.all([a, b].map(async (id) => (await cluster.row(id))!.ownerEpoch)), before.epochs, 'no integration re-claimed');
  await eventually(() => {
    const got = cluster.receiver.deliveredSet();
    return [a, b].every((id) => [...idsOf(id)].every((e) => got.has(e))) && idsOf(a).size >= 8_000 && idsOf(b).size >= 8_000 ? true : undefined;
  }, 120_000, 'every served event delivered');
});
