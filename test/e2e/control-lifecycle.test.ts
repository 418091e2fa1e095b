import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { topics } from '../../src/kafka/topics.js';
import { startHttpReceiver } from '../helpers/http-receiver.js';
import { eventually, testKafka } from '../helpers/infra.js';
import { startControlCluster } from '../helpers/control-cluster.js';

const lifecycle = test.macro(async (t, threads: number) => {
  // One app streaming ~30 s at 100 events/s, so every step happens mid-stream.
  const cluster = await startControlCluster([{ totalEvents: 3_000, rate: 100 }], { threads });
  t.teardown(() => cluster.close());
  const receiver2 = await startHttpReceiver({ path: '/ingest2' });
  t.teardown(() => receiver2.close());
  const node = await cluster.startNode('lc-n1');
  const id = cluster.ids[0]!;
  const spec = cluster.specs.get(id)!;
  const appKey = cluster.appKey(id);

  const created = await cluster.client.create(spec);
  const running = await cluster.client.waitFor(id, created, (r) => r.status === 'running', 60_000);
  t.is(running.owner, 'lc-n1');
  await cluster.receiver.waitFor((rx) => rx.deliveredSet().size >= 300, 60_000, 'events flowing');
  t.is((await node.status())?.integrations.find((x) => x.integrationId === id)?.thread, threads > 0 ? 0 : undefined, 'where /status says it runs');

  // Update the sink URL: the sink restarts on the new URL, the source keeps its Connect stream.
  const before = { connections: cluster.emulator.stats(appKey).connections.total, epoch: (await cluster.row(id))!.ownerEpoch };
  // Through the CLI binary, as an operator would: --wait returns once the node applied this record.
  const updatedDir = mkdtempSync(join(tmpdir(), 'lc-'));
  t.teardown(() => rmSync(updatedDir, { recursive: true, force: true }));
  const updatedFile = join(updatedDir, 'spec.json');
  writeFileSync(updatedFile, JSON.stringify({ ...spec, sink: { ...(spec.sink as object), url: receiver2.url } }));
  const update = await cluster.cli('integrations', 'update', updatedFile, '--wait', '30s', '--json');
  t.is(update.status, 0, update.stderr);
  const written = JSON.parse(update.stdout) as { partition: number; offset: string; status: string };
  t.is(written.status, 'running');
  t.is((await cluster.row(id))!.appliedSpec, `${written.partition}:${written.offset}`, 'the node recorded the record it applied');
  await receiver2.waitFor((rx) => rx.deliveredSet().size >= 100, 30_000, 'events at the new URL');
  // The same spec again: nothing restarts, and --wait still returns (the node records it applied).
  const again = await cluster.cli('integrations', 'update', updatedFile, '--wait', '30s', '--json');
  t.is(again.status, 0, again.stderr);
  const list = await cluster.cli('integrations', 'list', '--json');
  t.is(list.status, 0, list.stderr);
  t.like((JSON.parse(list.stdout) as { integrationId: string }[]).find((r) => r.integrationId === id), { status: 'running', owner: 'lc-n1' });
  const status = await cluster.cli('integrations', 'status', id);
  t.is(status.status, 0, status.stderr);
  t.regex(status.stdout, new RegExp(`^${id}: running`));
  t.regex(status.stdout, /owner lc-n1 epoch \d+/);
  const missing = await cluster.cli('integrations', 'status', 'no-such-integration');
  t.is(missing.status, 2);
  t.regex(missing.stderr, /no state for no-such-integration/);
  t.is(cluster.emulator.stats(appKey).connections.total, before.connections, 'the source kept its Connect stream');
  t.is((await cluster.row(id))!.ownerEpoch, before.epoch, 'not re-claimed');

  // Pause: source and sink stop, nothing is delivered meanwhile.
  const paused = await cluster.client.setState(id, 'paused');
  await cluster.client.waitFor(id, paused, (r) => r.status === 'paused', 30_000);
  await eventually(async () => {
    const s = await node.status();
    const i = s?.integrations.find((x) => x.integrationId === id);
    return i && !i.source && !i.sink ? true : undefined;
  }, 30_000, 'source and sink stopped');
  const during = receiver2.delivered().length + cluster.receiver.delivered().length;
  const activeWhilePaused = cluster.emulator.stats(appKey).connections.active;
  await new Promise((r) => setTimeout(r, 2_000));
  t.is(receiver2.delivered().length + cluster.receiver.delivered().length, during, 'nothing delivered while paused');
  t.is(activeWhilePaused, 0, 'no Connect stream while paused');
  const checkpointPaused = (await cluster.row(id))!.checkpoint;

  // Resume: continues from the checkpoint; every served event arrives, none lost.
  const resumed = await cluster.client.setState(id, 'running');
  await cluster.client.waitFor(id, resumed, (r) => r.status === 'running', 30_000);
  await eventually(() => (cluster.emulator.stats(appKey).generated >= 3_000 ? true : undefined), 60_000, 'all events generated');
  const served = () => new Set(cluster.emulator.served(appKey).map((e) => e.id));
  await eventually(() => {
    const got = new Set([...cluster.receiver.delivered(), ...receiver2.delivered()]);
    return [...served()].every((x) => got.has(x)) && served().size >= 3_000 ? true : undefined;
  }, 60_000, 'every served event delivered');
  const all = [...cluster.receiver.delivered(), ...receiver2.delivered()];
  const dups = all.length - new Set(all).size;
  t.log(`delivered ${all.length}, unique ${new Set(all).size}, duplicates ${dups}; checkpoint at pause ${checkpointPaused}`);
  t.is(dups, 0, 'no duplicate delivered across update, pause and resume');
  const row = (await cluster.row(id))!;
  t.true(BigInt(row.checkpoint!) >= BigInt(checkpointPaused ?? '0'));

  // Replay from the earliest retained event: the node runs it once per request id and re-delivers.
  const beforeReplay = receiver2.delivered().length;
  const replay = await cluster.client.replay(id, 'earliest');
  const replayed = await cluster.client.waitFor(id, replay, (r) => r.lastReplay?.requestId === replay.requestId, 60_000);
  t.true(replayed.lastReplay!.ok, JSON.stringify(replayed.lastReplay));
  await receiver2.waitFor((rx) => rx.deliveredCount() >= beforeReplay + 3_000, 60_000, 'every event re-delivered by the replay');
  t.log(`replay ${replay.requestId}: ${receiver2.delivered().length - beforeReplay} events re-delivered`);

  // Delete: the actors stop, the row says deleted, the events topic stays.
  const deleted = await cluster.client.delete(id);
  await cluster.client.waitFor(id, deleted, (r) => r.status === 'deleted', 30_000);
  await eventually(async () => ((await node.status())?.integrations.some((x) => x.integrationId === id) ? undefined : true), 30_000, 'actors stopped');
  const admin = testKafka().admin();
  await admin.connect();
  t.true((await admin.listTopics()).includes(topics.events(id)), 'events topic kept until retention');
  await admin.disconnect();
  t.true((await cluster.row(id))!.history!.some((h) => h.event === 'deleted'));
});

test('create → events flow; update sink URL restarts only the sink; pause stops source and sink; resume continues from the checkpoint; replay re-delivers once per request; delete stops and marks the row', lifecycle, 0);
test('the same lifecycle with the integration on an integration thread (integrations.threads 2): every control record reaches it there', lifecycle, 2);
