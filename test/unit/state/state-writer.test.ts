// When the state writer writes: one write for a trickled event's whole path (read, produce,
// delivery) after a quiet spell, at most one per interval while busy. The store records the
// writes in memory (the DynamoDB side is tested in test/integration/state/state-store.test.ts).
import test from 'ava';
import type { Counters, StateStore } from '../../../src/state/state-store.js';
import { StateWriter } from '../../../src/state/state-writer.js';

interface Write {
  at: number;
  checkpoint?: string;
  counters: Partial<Counters>;
  consumerLag?: number;
}

function recordingStore() {
  const writes: Write[] = [];
  const store = {
    async advanceCheckpoint(_id: string, _epoch: number, checkpoint: string, progress: { counters?: Partial<Counters>; consumerLag?: number }) {
      writes.push({ at: performance.now(), checkpoint, counters: { ...progress.counters }, ...(progress.consumerLag === undefined ? {} : { consumerLag: progress.consumerLag }) });
      return 'advanced' as const;
    },
    async update(_id: string, u: { counters?: Partial<Counters>; consumerLag?: number }) {
      writes.push({ at: performance.now(), counters: { ...u.counters }, ...(u.consumerLag === undefined ? {} : { consumerLag: u.consumerLag }) });
      return 'updated' as const;
    },
  };
  return { store: store as unknown as StateStore, writes };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const intervalMs = 200;
const quietDelayMs = 1_000;

test("after a quiet spell, an event's read, produce and later delivery go in one write", async (t) => {
  const { store, writes } = recordingStore();
  const w = new StateWriter(store, { integrationId: 'i1', epoch: 1, flushIntervalMs: intervalMs, quietDelayMs });
  t.teardown(() => w.close());
  const t0 = performance.now();
  w.count('read');
  w.count('produced');
  w.setCheckpoint('7');
  // The sink delivers it a couple of intervals later (a parked sink's watcher polls once a second).
  await sleep(2 * intervalMs);
  t.is(writes.length, 0, 'nothing written within the busy interval');
  w.count('delivered');
  w.setLag({ consumerLag: 0 });
  await sleep(quietDelayMs);
  t.is(writes.length, 1, 'one write for the whole path');
  t.like(writes[0], { checkpoint: '7', counters: { read: 1, produced: 1, delivered: 1 }, consumerLag: 0 });
  t.true(writes[0]!.at - t0 >= quietDelayMs - 5, 'written after the quiet delay');
  t.false(w.flushScheduled, 'no timer once written');
});

test('while changes keep coming, writes follow at most once per interval', async (t) => {
  const { store, writes } = recordingStore();
  const w = new StateWriter(store, { integrationId: 'i2', epoch: 1, flushIntervalMs: intervalMs, quietDelayMs });
  t.teardown(() => w.close());
  let n = 0;
  const busyUntil = performance.now() + quietDelayMs + 6 * intervalMs;
  while (performance.now() < busyUntil) {
    w.count('read');
    w.setCheckpoint(String(++n));
    await sleep(20);
  }
  await w.close();
  // The first after the quiet delay, then one per interval, then the close's.
  t.true(writes.length >= 4, `${writes.length} writes`);
  t.true(writes.length <= 9, `${writes.length} writes`);
  for (let k = 1; k < writes.length - 1; k++) t.true(writes[k]!.at - writes[k - 1]!.at >= intervalMs - 5, `write ${k} came one interval after the one before`);
  t.is(
    writes.reduce((s, x) => s + (x.counters.read ?? 0), 0),
    n,
    'every count written once',
  );
  t.is(writes[writes.length - 1]!.checkpoint, String(n), 'the newest checkpoint last');
});

test('a change soon after a write waits one interval, not the quiet delay', async (t) => {
  const { store, writes } = recordingStore();
  const w = new StateWriter(store, { integrationId: 'i3', epoch: 1, flushIntervalMs: intervalMs, quietDelayMs });
  t.teardown(() => w.close());
  w.count('read');
  await sleep(quietDelayMs + intervalMs);
  t.is(writes.length, 1);
  const again = performance.now();
  w.count('delivered');
  await sleep(quietDelayMs / 2);
  t.is(writes.length, 2, 'written within the busy interval of the last write');
  t.true(writes[1]!.at - again >= intervalMs - 5);
});
