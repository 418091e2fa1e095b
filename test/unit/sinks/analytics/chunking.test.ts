// Cutting a write into vendor requests: properties over arbitrary event sizes and limits.
import test from 'ava';
import fc from 'fast-check';
import { planChunks } from '../../../../src/sinks/analytics/chunking.js';

test('property: chunks are consecutive, cover every event once, in order, and respect both limits', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 5_000 }), { maxLength: 300 }),
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 100, max: 40_000 }),
      fc.integer({ min: 0, max: 90 }),
      (sizes, maxEvents, maxBytes, envelopeBytes) => {
        const ranges = planChunks(sizes, { maxEvents, maxBytes, envelopeBytes, separatorBytes: 1 });
        let next = 0;
        for (const [lo, hi] of ranges) {
          if (lo !== next || hi <= lo) return false;
          next = hi;
          const count = hi - lo;
          if (count > maxEvents) return false;
          const bytes = envelopeBytes + sizes.slice(lo, hi).reduce((a, b) => a + b, 0) + (count - 1);
          if (count > 1 && bytes > maxBytes) return false;
        }
        return next === sizes.length;
      },
    ),
  );
  t.pass();
});

test('chunks are as full as the limits allow', (t) => {
  t.deepEqual(planChunks([10, 10, 10, 10, 10], { maxEvents: 2, maxBytes: 1000, envelopeBytes: 2, separatorBytes: 1 }), [[0, 2], [2, 4], [4, 5]]);
  t.deepEqual(planChunks([40, 40, 40], { maxEvents: 10, maxBytes: 85, envelopeBytes: 4, separatorBytes: 1 }), [[0, 2], [2, 3]]);
  t.deepEqual(planChunks([500, 1], { maxEvents: 10, maxBytes: 100, envelopeBytes: 4, separatorBytes: 1 }), [[0, 1], [1, 2]], 'an oversized event travels alone');
  t.deepEqual(planChunks([], { maxEvents: 10, maxBytes: 100, envelopeBytes: 4, separatorBytes: 1 }), []);
});
