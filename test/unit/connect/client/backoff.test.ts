import test from 'ava';
import fc from 'fast-check';
import { backoffCeiling, backoffDelay, defaultBackoff } from '../../../../src/connect/client/backoff.js';

test('the default schedule grows ×3 from 1 s and is capped at 60 s', (t) => {
  t.deepEqual(
    [0, 1, 2, 3, 4, 5, 50, 5000].map((n) => backoffCeiling(defaultBackoff, n)),
    [1000, 3000, 9000, 27_000, 60_000, 60_000, 60_000, 60_000],
  );
});

test('full jitter stays in [0, ceiling) for any attempt and random value', (t) => {
  fc.assert(
    fc.property(
      fc.nat(200),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      fc.record({ initialMs: fc.integer({ min: 1, max: 10_000 }), multiplier: fc.double({ min: 1, max: 10, noNaN: true }), maxMs: fc.integer({ min: 1, max: 600_000 }) }),
      (attempt, r, policy) => {
        const d = backoffDelay(policy, attempt, () => r);
        const ceiling = backoffCeiling(policy, attempt);
        return Number.isInteger(d) && d >= 0 && (d < ceiling || ceiling === 0) && ceiling <= policy.maxMs;
      },
    ),
  );
  t.is(backoffDelay(defaultBackoff, 2, () => 0), 0);
  t.is(backoffDelay(defaultBackoff, 2, () => 0.5), 4500);
  t.is(backoffDelay(defaultBackoff, 2, () => 0.999_999), 8999);
});

test('a random source out of range is clamped rather than trusted', (t) => {
  t.is(backoffDelay(defaultBackoff, 0, () => -3), 0);
  t.is(backoffDelay(defaultBackoff, 0, () => 7), 1000);
});
