// The AIMD controller (properties over arbitrary observation sequences) and the limiter's slots.
import test from 'ava';
import fc from 'fast-check';
import {
  createAdaptiveLimiter,
  currentLimit,
  defaultAimdOptions,
  initialAimdState,
  observe,
  withAdaptiveConcurrency,
  type AimdObservation,
  type AimdOptions,
} from '../../../../src/sinks/http/adaptive-concurrency.js';
import { ErrorCode, TributaryError } from '../../../../src/errors.js';
import type { HttpTransport } from '../../../../src/sinks/http/transport.js';

const optionsArb: fc.Arbitrary<AimdOptions> = fc
  .record({
    minLimit: fc.integer({ min: 1, max: 8 }),
    span: fc.integer({ min: 0, max: 56 }),
    start: fc.double({ min: 0, max: 1, noNaN: true }),
    decreaseRatio: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
    rttToleranceRatio: fc.double({ min: 0.1, max: 5, noNaN: true }),
    ewmaAlpha: fc.double({ min: 0.01, max: 1, noNaN: true }),
  })
  .map((o) => ({
    minLimit: o.minLimit,
    maxLimit: o.minLimit + o.span,
    initialLimit: o.minLimit + Math.round(o.span * o.start),
    decreaseRatio: o.decreaseRatio,
    rttToleranceRatio: o.rttToleranceRatio,
    ewmaAlpha: o.ewmaAlpha,
  }));

type Step = { kind: 'ok'; rttMs: number; inFlight: number; dt: number } | { kind: 'backpressure'; dt: number };

const obsArb: fc.Arbitrary<Step> = fc.oneof<[fc.Arbitrary<Step>, fc.Arbitrary<Step>]>(
  fc.record({ kind: fc.constant('ok' as const), rttMs: fc.double({ min: 0, max: 10_000, noNaN: true }), inFlight: fc.integer({ min: 0, max: 80 }), dt: fc.integer({ min: 0, max: 5_000 }) }),
  fc.record({ kind: fc.constant('backpressure' as const), dt: fc.integer({ min: 0, max: 5_000 }) }),
);

const run = (o: AimdOptions, seq: readonly Step[]) => {
  let state = initialAimdState(o);
  let now = 0;
  const states = [state];
  for (const s of seq) {
    now += s.dt;
    const obs: AimdObservation = s.kind === 'ok' ? { kind: 'ok', rttMs: s.rttMs, inFlight: s.inFlight, nowMs: now } : { kind: 'backpressure', nowMs: now };
    state = observe(state, obs, o);
    states.push(state);
  }
  return states;
};

test('the limit stays within [minLimit, maxLimit] over any observation sequence', (t) => {
  fc.assert(
    fc.property(optionsArb, fc.array(obsArb, { maxLength: 300 }), (o, seq) => {
      for (const s of run(o, seq)) {
        if (s.limit < o.minLimit || s.limit > o.maxLimit) return false;
        if (currentLimit(s) < o.minLimit || currentLimit(s) > o.maxLimit) return false;
      }
      return true;
    }),
  );
  t.pass();
});

test('back-pressure never raises the limit, and lowers it once the last cut is an RTT old (unless at the floor)', (t) => {
  fc.assert(
    fc.property(optionsArb, fc.array(obsArb, { maxLength: 100 }), fc.integer({ min: 0, max: 100_000 }), (o, seq, gap) => {
      const before = run(o, seq).at(-1)!;
      const now = seq.reduce((a, s) => a + s.dt, 0) + gap;
      const after = observe(before, { kind: 'backpressure', nowMs: now }, o);
      if (after.limit > before.limit) return false;
      const windowPassed = now - before.lastDecreaseAt >= (before.baselineRttMs ?? 0);
      if (windowPassed && currentLimit(before) > o.minLimit && !(after.limit < before.limit)) return false;
      return true;
    }),
  );
  t.pass();
});

test('an RTT spike far above the baseline never raises the limit', (t) => {
  fc.assert(
    fc.property(optionsArb, fc.double({ min: 1, max: 1000, noNaN: true }), fc.integer({ min: 0, max: 64 }), (o, base, inFlight) => {
      let s = initialAimdState(o);
      for (let i = 0; i < 20; i++) s = observe(s, { kind: 'ok', rttMs: base, inFlight: 0, nowMs: i }, o);
      const spike = base * (1 + o.rttToleranceRatio) * 3 + 10;
      const after = observe(s, { kind: 'ok', rttMs: spike, inFlight, nowMs: 1e9 }, o);
      return after.limit <= s.limit && (currentLimit(s) === o.minLimit || after.limit < s.limit);
    }),
  );
  t.pass();
});

test('a saturated sink with steady latency grows additively to maxLimit; an idle one does not grow', (t) => {
  const o = { ...defaultAimdOptions, minLimit: 1, maxLimit: 6, initialLimit: 1 };
  let s = initialAimdState(o);
  for (let i = 0; i < 200; i++) s = observe(s, { kind: 'ok', rttMs: 10, inFlight: currentLimit(s), nowMs: i * 10 }, o);
  t.is(currentLimit(s), 6);
  let idle = initialAimdState(o);
  for (let i = 0; i < 200; i++) idle = observe(idle, { kind: 'ok', rttMs: 10, inFlight: 0, nowMs: i * 10 }, o);
  t.is(currentLimit(idle), 1);
});

test('a burst of 429s from one overload cuts the limit once per RTT window', (t) => {
  const o = { ...defaultAimdOptions, minLimit: 1, maxLimit: 16, initialLimit: 16, decreaseRatio: 0.5 };
  let s = initialAimdState(o);
  s = observe(s, { kind: 'ok', rttMs: 100, inFlight: 0, nowMs: 0 }, o);
  for (let i = 0; i < 8; i++) s = observe(s, { kind: 'backpressure', nowMs: 1000 + i }, o);
  t.is(currentLimit(s), 8);
  s = observe(s, { kind: 'backpressure', nowMs: 1200 }, o);
  t.is(currentLimit(s), 4);
});

test('the limiter never has more requests in flight than its limit, and releases waiters in order', async (t) => {
  const limiter = createAdaptiveLimiter({ minLimit: 2, maxLimit: 2, initialLimit: 2 });
  let inFlight = 0;
  let peak = 0;
  const order: number[] = [];
  const inner: HttpTransport = {
    async send() {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return { status: 200, headers: {}, body: '' };
    },
    close: async () => {},
  };
  const transport = withAdaptiveConcurrency(inner, limiter);
  const req = { method: 'POST' as const, url: new URL('http://127.0.0.1/'), headers: {} };
  await Promise.all(Array.from({ length: 10 }, (_, i) => transport.send(req, new AbortController().signal).then(() => order.push(i))));
  t.is(peak, 2);
  t.is(limiter.inFlight, 0);
  t.deepEqual(order, [...order].sort((a, b) => a - b));
});

test('429s and timeouts through the transport lower the limit; a waiting request can be aborted', async (t) => {
  const limiter = createAdaptiveLimiter({ minLimit: 1, maxLimit: 8, initialLimit: 8 });
  let calls = 0;
  const inner: HttpTransport = {
    async send() {
      calls++;
      if (calls === 1) return { status: 429, headers: {}, body: '' };
      throw new TributaryError(ErrorCode.sinkTimeout, 'slow');
    },
    close: async () => {},
  };
  const transport = withAdaptiveConcurrency(inner, limiter, () => calls * 1_000_000);
  const req = { method: 'POST' as const, url: new URL('http://127.0.0.1/'), headers: {} };
  await transport.send(req, new AbortController().signal);
  t.is(limiter.limit, 4);
  await t.throwsAsync(transport.send(req, new AbortController().signal));
  t.is(limiter.limit, 2);

  const held = createAdaptiveLimiter({ minLimit: 1, maxLimit: 1, initialLimit: 1 });
  const permit = await held.acquire(new AbortController().signal);
  const ctrl = new AbortController();
  const waiting = held.acquire(ctrl.signal);
  ctrl.abort();
  const err = await t.throwsAsync(waiting);
  t.is(err?.name, 'AbortError');
  permit.release({ kind: 'neutral' });
  t.is(held.inFlight, 0);
});
