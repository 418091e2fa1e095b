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

test('property: an id recorded among the last `capacity` and not forgotten since is a repeat; nothing else is; never more than `capacity` held', (t) => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('seen' as const), id: fc.integer({ min: 0, max: 40 }).map(String) }),
    fc.record({ kind: fc.constant('forget' as const), id: fc.integer({ min: 0, max: 40 }).map(String) }),
    fc.record({ kind: fc.constant('clear' as const), id: fc.constant('') }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 300 }), (capacity, ops) => {
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
        if (w.seen(o.id) !== live) return false;
        if (!live) log.push({ id: o.id, live: true });
        if (w.size > capacity || w.size !== log.slice(-capacity).filter((e) => e.live).length) return false;
      }
      return true;
    }),
    { numRuns: 500 },
  );
  t.pass();
});
