// Full-jitter backoff stays inside its ceiling, and Retry-After wins (up to its own cap).
import test from 'ava';
import fc from 'fast-check';
import { AbortError, defaultBackoff, fullJitter, nextDelay, systemClock } from '../../../../src/sinks/http/backoff.js';

test('full jitter is within [0, min(cap, initial × multiplier^retry))', (t) => {
  fc.assert(
    fc.property(fc.nat(40), fc.double({ min: 0, max: 0.999999, noNaN: true }), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 600_000 }), (retry, r, initialMs, maxMs) => {
      const d = fullJitter(retry, { initialMs, multiplier: 2, maxMs }, () => r);
      return d >= 0 && d < Math.max(1, Math.min(maxMs, initialMs * 2 ** retry));
    }),
  );
  t.pass();
});

test('Retry-After replaces the jitter, capped by maxRetryAfterMs', (t) => {
  t.is(nextDelay(3, 1500, defaultBackoff), 1500);
  t.is(nextDelay(0, 10 * 24 * 3600_000, defaultBackoff), defaultBackoff.maxRetryAfterMs);
  t.true(nextDelay(0, undefined, defaultBackoff, () => 0.5) <= defaultBackoff.initialMs);
});

test('the system sleep rejects with an AbortError as soon as the signal aborts', async (t) => {
  const ctrl = new AbortController();
  const started = Date.now();
  const p = systemClock.sleep(60_000, ctrl.signal);
  setTimeout(() => ctrl.abort(), 20);
  const err = await t.throwsAsync(p);
  t.true(err instanceof AbortError);
  t.true(Date.now() - started < 1000);
});
