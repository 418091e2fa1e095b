import test from 'ava';
import fc from 'fast-check';
import { Batcher } from '../../../src/pipeline/batcher.js';

test('batches keep every item once, in order, within count and byte limits', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 400 }),
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 100, max: 20_000 }),
      (sizes, maxCount, maxBytes) => {
        const b = new Batcher<number>({ maxCount, maxBytes, lingerMs: 10 });
        const out: number[][] = [];
        sizes.forEach((s, i) => out.push(...b.add(i, s, 0)));
        const last = b.flush(0, true);
        if (last) out.push(last);
        const flat = out.flat();
        if (flat.length !== sizes.length || flat.some((v, i) => v !== i)) return false;
        return out.every((batch) => {
          const bytes = batch.reduce((n, i) => n + sizes[i]!, 0);
          return batch.length >= 1 && batch.length <= maxCount && (bytes <= maxBytes || batch.length === 1);
        });
      },
    ),
  );
  t.pass();
});

test('a batch is due after its linger, counted from its first item', (t) => {
  const b = new Batcher<string>({ maxCount: 10, maxBytes: 1000, lingerMs: 50 });
  t.is(b.dueIn(0), undefined);
  t.deepEqual(b.add('a', 1, 100), []);
  b.add('b', 1, 140);
  t.is(b.dueIn(120), 30);
  t.is(b.flush(149), undefined);
  t.deepEqual(b.flush(150), ['a', 'b']);
  t.is(b.size, 0);
});
