import test from 'ava';
import fc from 'fast-check';
import { ContiguousTracker } from '../../../src/pipeline/contiguous-tracker.js';

test('the watermark is the last item of the completed prefix, whatever the completion order', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3000 }).chain((n) => fc.tuple(fc.constant(n), fc.shuffledSubarray([...Array(n).keys()], { minLength: 0, maxLength: n }))),
      ([n, order]) => {
        const tr = new ContiguousTracker<number>();
        const tickets = Array.from({ length: n }, (_, i) => tr.add(i * 10));
        const done = new Set<number>();
        let prefix = 0;
        for (const i of order) {
          const before = tr.watermark;
          tr.complete(tickets[i]!);
          done.add(i);
          while (done.has(prefix)) prefix += 1;
          const expected = prefix === 0 ? undefined : (prefix - 1) * 10;
          if (tr.watermark !== expected) return false;
          if (before !== undefined && (tr.watermark ?? -1) < before) return false; // never backwards
          if (tr.pending !== n - prefix) return false;
        }
        return true;
      },
    ),
    { numRuns: 200 },
  );
  t.pass();
});

test('repeated and unknown tickets are ignored', (t) => {
  const tr = new ContiguousTracker<string>();
  const a = tr.add('a');
  const b = tr.add('b');
  t.false(tr.complete(b));
  t.is(tr.watermark, undefined);
  t.true(tr.complete(a));
  t.is(tr.watermark, 'b');
  t.false(tr.complete(a));
  t.false(tr.complete(99));
  t.is(tr.pending, 0);
});

test('memory follows pending items over a long run', (t) => {
  const tr = new ContiguousTracker<number>();
  for (let i = 0; i < 100_000; i++) tr.complete(tr.add(i));
  t.is(tr.watermark, 99_999);
  t.true((tr as unknown as { done: boolean[] }).done.length < 3000);
});
