// A node whose integrations run on integration threads (`integrations.threads`): the same
// guarantees as on the main thread (each event delivered, device order, checkpoints), an app's
// integrations placed by weight, and a thread that ends unasked started again with its
// integrations, losing nothing.
import { readdirSync, readFileSync } from 'node:fs';
import test from 'ava';
import type { IntegrationThreads } from '../../src/node/integration-threads.js';
import { StateStore } from '../../src/state/state-store.js';
import { eventually, testDynamo } from '../helpers/infra.js';
import { startFixture, startInProcessNode } from '../helpers/pipeline.js';
import type { FailureReport } from '../../src/supervision/guardian-types.js';
import { startStatsdListener } from '../helpers/statsd-listener.js';

test('two integration threads: every event delivered once, in device order, checkpoints at the last offset; the large app has a thread to itself', async (t) => {
  const apps = [
    { size: 'large' as const, totalEvents: 20_000 },
    { size: 'medium' as const, totalEvents: 6_000 },
    { size: 'small' as const, totalEvents: 2_000 },
    { size: 'small' as const, totalEvents: 2_000 },
  ];
  const f = await startFixture(apps, { threads: 2, flags: { 'source.packRecords': true } });
  t.teardown(() => f.close());
  const statsd = await startStatsdListener();
  t.teardown(() => statsd.close());
  const node = await startInProcessNode({ ...f, nodeConfig: { ...f.nodeConfig, metrics: { enabled: true, port: statsd.port, bufferFlushIntervalMs: 100 } } });
  t.teardown(() => node.shutdown());
  const threads = node.guardian as IntegrationThreads;

  const total = apps.reduce((n, a) => n + a.totalEvents, 0);
  await f.receiver.waitFor((rx) => rx.deliveredCount() >= total, 150_000, `${total} events delivered`);
  const delivered = f.receiver.delivered();
  t.is(new Set(delivered).size, total);
  t.is(delivered.length, total, 'no event delivered twice');

  const offsetOf = new Map<string, { device: string; offset: bigint }>();
  for (const s of f.specs) {
    for (const e of f.emulator.events(s.app.key)) {
      const d = e.device as Record<string, string> | undefined;
      offsetOf.set(e.id, { device: d?.channel ?? d?.ios_channel ?? d?.android_channel ?? '', offset: BigInt(e.offset) });
    }
  }
  const last = new Map<string, bigint>();
  let outOfOrder = 0;
  for (const id of delivered) {
    const e = offsetOf.get(id)!;
    if (e.device && (last.get(e.device) ?? -1n) > e.offset) outOfOrder++;
    last.set(e.device, e.offset);
  }
  t.is(outOfOrder, 0, 'per-device order kept');

  const store = new StateStore(testDynamo(), f.table);
  for (const s of f.specs) {
    const lastOffset = f.emulator.lastOffset(s.app.key);
    await eventually(async () => ((await store.get(s.id))?.checkpoint === lastOffset ? true : undefined), 20_000, `checkpoint of ${s.id}`);
  }
  const status = await node.guardian.status();
  t.deepEqual(status.map((s) => s.integrationId).sort(), f.specs.map((s) => s.id).sort());
  t.true(status.every((s) => s.status === 'running'));

  // Placement by weight: the large app (100) on thread 0, the medium (10) and small (1) ones on 1.
  t.deepEqual(
    f.specs.map((s) => threads.threadOf(s.id)),
    [0, 1, 1, 1],
  );
  t.deepEqual(
    f.specs.map((s) => status.find((x) => x.integrationId === s.id)!.thread),
    [0, 1, 1, 1],
  );
  t.not(threads.workers()[0]!.threadId, threads.workers()[1]!.threadId);
  // `top -H` and the bench's per-thread CPU tell them apart from Node's own threads (all `node`).
  const names = new Set(
    readdirSync('/proc/self/task').map((tid) => {
      try {
        return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      } catch {
        return ''; // the thread ended between the listing and the read
      }
    }),
  );
  for (const name of ['tributary-i0', 'tributary-i1', 'tributary-parse']) t.true(names.has(name), `${name} among ${[...names].join(', ')}`);

  // Each thread's metrics reach StatsD from its own client: the integrations' counters, and the
  // thread's event-loop delay and heap (every 10 s), tagged with its index.
  const threadGauge = (name: string, thread: string) => statsd.samples.some((x) => x.name === `tributary.${name}` && x.tags.thread === thread);
  await statsd.waitFor(() => ['0', '1'].every((i) => threadGauge('node.thread_event_loop_delay_ms', i) && threadGauge('node.thread_memory_bytes', i)), 25_000, 'both threads\' gauges');
  t.is(statsd.sum('tributary.sink.events_delivered'), total);
  t.true(statsd.samples.some((x) => x.name === 'tributary.node.thread_memory_bytes' && x.tags.kind === 'heap_used' && x.value > 1_000_000));
});

test('a thread that ends unasked is started again with its integrations: nothing lost, the node keeps running; failure reports cross to the main thread', async (t) => {
  const apps = [
    { size: 'large' as const, totalEvents: 30_000, rate: 4_000 },
    { size: 'small' as const, totalEvents: 3_000 },
  ];
  const f = await startFixture(apps, { threads: 2 });
  t.teardown(() => f.close());
  const reports: FailureReport[] = [];
  const node = await startInProcessNode(f, { onFailure: (r) => reports.push(r) });
  t.teardown(() => node.shutdown());
  const threads = node.guardian as IntegrationThreads;
  t.is(threads.threadOf(f.specs[0]!.id), 0);

  // Mid-stream, end the large app's thread as a crash would.
  await f.receiver.waitFor((rx) => rx.deliveredCount() >= 5_000, 60_000, 'some events delivered');
  const before = threads.workers()[0]!;
  await before.terminate();
  await eventually(async () => (threads.workers()[0] !== before ? true : undefined), 10_000, 'thread 0 started again');
  t.is(threads.threadOf(f.specs[0]!.id), 0, 'the integration stays on its thread');

  const total = apps.reduce((n, a) => n + a.totalEvents, 0);
  await f.receiver.waitFor((rx) => rx.deliveredSet().size >= total, 150_000, `${total} unique events delivered`);
  for (let i = 0; i < f.specs.length; i++) {
    const served = f.emulator.served(f.specs[i]!.app.key);
    t.true(served.every((e) => f.receiver.deliveredSet().has(e.id)), `integration ${i}: every served event delivered`);
  }
  await eventually(async () => ((await node.guardian.status()).filter((s) => s.status === 'running').length === 2 ? true : undefined), 20_000, 'both integrations running again');

  // A failure of an integration on a thread reaches the node's alerting: Connect refuses the small
  // app's new token (401, misconfigured).
  node.apply({ ...f.specs[1]!, connect: { ...f.specs[1]!.connect, token: { value: 'not-the-token' } } });
  await eventually(async () => (reports.some((r) => r.integrationId === f.specs[1]!.id && r.kind === 'failure') ? true : undefined), 60_000, 'a failure report from thread 1');
  t.is(reports.find((r) => r.integrationId === f.specs[1]!.id)!.nodeId, node.nodeId);
});
