import test, { type ExecutionContext } from 'ava';
import type { ChildProcess } from 'node:child_process';
import { tierSettings } from '../../src/control/spec.js';
import { sinkPartitionsInFlight, uncommittedChunksPerPartition } from '../../src/pipeline/sink-runner.js';
import { StateStore } from '../../src/state/state-store.js';
import { eventually, testDynamo } from '../helpers/infra.js';
import { spawnNodeProcess, startFixture, type AppPlan } from '../helpers/pipeline.js';

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Kills the node `killCount` times while the apps' events flow, restarting it each time; then checks the oracle. */
async function crashRun(t: ExecutionContext, apps: AppPlan[], killCount: number, flags?: Record<string, boolean>): Promise<void> {
  const f = await startFixture(apps, { sessionTimeoutMs: 6_000, ...(flags ? { flags } : {}) });
  t.teardown(() => f.close());
  const total = apps.reduce((n, a) => n + a.totalEvents, 0);
  let child = spawnNodeProcess(f, 'crashy');
  t.teardown(() => kill9(child));

  const store = new StateStore(testDynamo(), f.table);
  const seen = new Map<string, bigint>();
  let regressions = 0;
  // One round of reads at a time: overlapping rounds could complete out of order and look like a regression.
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      for (const s of f.specs) {
        const c = (await store.get(s.id).catch(() => undefined))?.checkpoint;
        if (!c) continue;
        const prev = seen.get(s.id);
        if (prev !== undefined && BigInt(c) < prev) regressions += 1;
        seen.set(s.id, BigInt(c));
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  t.teardown(async () => {
    watching = false;
    await watcher;
  });

  // Kills at pseudo-random points while events flow, each followed by a restart.
  const kills: number[] = [];
  for (let k = 0; k < killCount; k++) {
    const target = Math.floor(((k + 1) / (killCount + 2)) * total * (0.8 + ((k * 37) % 10) / 25));
    await f.receiver.waitFor((rx) => rx.deliveredSet().size >= Math.min(target, total - 1), 120_000, `${target} delivered before kill ${k + 1}`);
    await kill9(child);
    kills.push(f.receiver.deliveredSet().size);
    child = spawnNodeProcess(f, 'crashy');
  }
  await f.receiver.waitFor((rx) => rx.deliveredSet().size >= total, 180_000, `all ${total} delivered after the kills`);

  watching = false;
  await watcher;
  const unique = f.receiver.deliveredSet();
  let lost = 0;
  for (let i = 0; i < f.specs.length; i++) for (const id of f.emulator.served(f.specs[i]!.app.key).map((e) => e.id)) if (!unique.has(id)) lost += 1;
  const duplicates = f.receiver.delivered().length - unique.size;
  // Diagnose: a duplicate in a request with a batch id seen before is a re-sent chunk (at-least-once window).
  const batchSeen = new Set<string>();
  const idSeen = new Set<string>();
  let sameBatch = 0;
  let newBatch = 0;
  for (const r of f.receiver.requests) {
    if (r.status < 200 || r.status >= 300) continue;
    const b = String(r.headers['x-tributary-batch-id'] ?? '');
    for (const id of r.eventIds) {
      if (idSeen.has(id)) (batchSeen.has(b) ? sameBatch++ : newBatch++);
      idSeen.add(id);
    }
    batchSeen.add(b);
  }
  t.log(`duplicates in a re-sent batch: ${sameBatch}; in a new batch: ${newBatch}`);
  t.log(`kills at ${kills.join(', ')} delivered; duplicates delivered: ${duplicates}; checkpoint regressions: ${regressions}`);
  t.is(lost, 0, 'no served event lost');
  t.is(regressions, 0, 'checkpoints never moved backwards');
  // At-least-once over HTTP: a request answered 2xx whose commit the kill pre-empted is re-sent.
  // Bounded per kill by the chunks in flight: per integration two per partition being delivered
  // (at most sinkPartitionsInFlight; the one whose commit was in flight and the next), chunks of
  // ≤ 500 events (the fixture's batch size).
  const chunksInFlight = f.specs.reduce((n, s) => n + Math.min(s.options.partitions ?? tierSettings(s.app.size).partitions, sinkPartitionsInFlight) * uncommittedChunksPerPartition, 0);
  const bound = kills.length * 500 * chunksInFlight;
  t.true(duplicates <= bound, `duplicates (${duplicates}) bounded by the in-flight window (${kills.length} kills × ${chunksInFlight} chunks × 500 = ${bound})`);

  for (const s of f.specs) {
    const last = f.emulator.lastOffset(s.app.key);
    await eventually(async () => ((await store.get(s.id))?.checkpoint === last ? true : undefined), 30_000, `checkpoint of ${s.id} reaches ${last}`);
  }
}

test('kill -9 of the node 5 times mid-run: nothing lost, re-sends recognised, checkpoints never regress', (t) =>
  crashRun(
    t,
    [
      { size: 'large', totalEvents: 30_000 },
      { size: 'medium', totalEvents: 15_000 },
      { size: 'small', totalEvents: 5_000 },
    ],
    5,
  ));

test('packed records (flag source.packRecords): kill -9 3 times mid-run, nothing lost, re-sends recognised, checkpoints never regress', (t) =>
  crashRun(
    t,
    [
      { size: 'large', totalEvents: 20_000 },
      { size: 'small', totalEvents: 5_000 },
    ],
    3,
    { 'source.packRecords': true },
  ));
