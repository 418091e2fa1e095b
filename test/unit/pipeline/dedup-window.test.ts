import test from 'ava';
import fc from 'fast-check';
import { DedupWindow } from '../../../src/pipeline/dedup-window.js';

test('reports a repeat within the window and forgets the oldest beyond capacity', (t) => {
  const w = new DedupWindow(3);
  t.false(w.seen('a'));
  t.true(w.seen('a'));
  w.seen('b');
  w.seen('c');
  w.seen('d'); // evicts a
  t.is(w.size, 3);
  t.false(w.seen('a'));
  t.true(w.seen('d'));
  w.forget('d');
  t.false(w.seen('d'));
  t.throws(() => new DedupWindow(0));
});

// Ids of every kind the window tells apart: lowercase UUIDs (kept as 128 bits; some sharing
// their first words, so hashes collide in part), the same UUIDs in uppercase (other ids, kept as
// strings), near-UUIDs, and plain strings.
const uuidOf = (n: number) => `${(n % 3).toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const idArb = fc.oneof(
  fc.integer({ min: 0, max: 400 }).map(String),
  fc.integer({ min: 0, max: 400 }).map(uuidOf),
  fc.integer({ min: 0, max: 40 }).map((n) => uuidOf(n).toUpperCase()),
  fc.integer({ min: 0, max: 5 }).map((n) => `${uuidOf(n).slice(0, 35)}g`),
  fc.integer({ min: 0, max: 5 }).map((n) => uuidOf(n).replace(/-/g, '')),
);

test('property: an id recorded among the last `capacity` and not forgotten since is a repeat; nothing else is; never more than `capacity` held', (t) => {
  const op = fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('seen' as const), id: idArb }), weight: 6 },
    { arbitrary: fc.record({ kind: fc.constant('forget' as const), id: idArb }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('clear' as const), id: fc.constant('') }), weight: 1 },
  );
  fc.assert(
    fc.property(fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 250, max: 700 })), fc.array(op, { maxLength: 1_500 }), (capacity, ops) => {
      const w = new DedupWindow(capacity);
      // The model: recorded ids in order, with forgotten ones crossed out.
      let log: { id: string; live: boolean }[] = [];
      for (const o of ops) {
        if (o.kind === 'clear') {
          w.clear();
          log = [];
          continue;
        }
        const recent = log.slice(-capacity);
        const live = recent.some((e) => e.id === o.id && e.live);
        if (o.kind === 'forget') {
          w.forget(o.id);
          for (const e of log) if (e.id === o.id) e.live = false;
          continue;
        }
        if (w.has(o.id) !== live || w.seen(o.id) !== live) return false;
        if (!live) log.push({ id: o.id, live: true });
        if (w.size > capacity || w.size !== log.slice(-capacity).filter((e) => e.live).length) return false;
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('a full window of 200,000 UUIDs: each found until it leaves, in order, and the ids after it are not', (t) => {
  const w = new DedupWindow(200_000);
  const id = (n: number) => `${(n * 2654435761 >>> 0).toString(16).padStart(8, '0')}-1234-4abc-8def-${n.toString(16).padStart(12, '0')}`;
  for (let n = 0; n < 300_000; n++) t.false(w.seen(id(n)), `id ${n}`);
  t.is(w.size, 200_000);
  for (let n = 0; n < 100_000; n++) if (w.has(id(n))) t.fail(`id ${n} should have left`);
  for (let n = 100_000; n < 300_000; n++) if (!w.has(id(n))) t.fail(`id ${n} should be in the window`);
  t.false(w.has(id(300_000)));
});
