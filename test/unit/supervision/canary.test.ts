// The canary's judgement: late deliveries, silence, recovery, and one report per episode reason.
import test from 'ava';
import fc from 'fast-check';
import { CanaryWatch, canaryFingerprint } from '../../../src/supervision/canary.js';

const bounds = { maxLatencyMs: 3_000, maxSilenceMs: 10_000 };

test('deliveries within the bound are healthy; a late one is a failure once; a timely one after it recovers', (t) => {
  const w = new CanaryWatch(bounds, 'webhook', 0);
  w.delivered(1_000, 500);
  t.is(w.sample(1_000), undefined);
  w.delivered(2_000, 2_999);
  t.is(w.sample(2_000), undefined);
  w.delivered(3_000, 4_200);
  const v = w.sample(3_000);
  t.like(v, { type: 'failure', reason: 'latency', time: 3_000, fingerprint: canaryFingerprint('latency', 'webhook') });
  t.regex(v?.type === 'failure' ? v.message : '', /4200 ms .*bound 3000 ms/);
  t.true(w.isFailing);
  w.delivered(4_000, 5_000);
  t.is(w.sample(4_000), undefined, 'still late: the same episode, no second report');
  t.is(w.sample(5_000), undefined, 'nothing delivered since: no judgement (silence not yet past its bound)');
  w.delivered(6_000, 800);
  t.like(w.sample(6_000), { type: 'recovery', time: 6_000 });
  t.false(w.isFailing);
});

test('the worst latency since the last sample counts, not the last one', (t) => {
  const w = new CanaryWatch(bounds, 's3', 0);
  w.delivered(100, 9_000);
  w.delivered(200, 10);
  t.like(w.sample(300), { type: 'failure', reason: 'latency' });
});

test('silence past its bound is a failure stamped when the bound passed; a delivery ends it', (t) => {
  const w = new CanaryWatch(bounds, 'webhook', 1_000);
  t.is(w.sample(10_000), undefined);
  const v = w.sample(12_500);
  t.like(v, { type: 'failure', reason: 'silence', time: 11_000, fingerprint: canaryFingerprint('silence', 'webhook') });
  t.is(w.sample(20_000), undefined, 'one report per episode');
  // The backlog arrives late: the episode goes on, now as latency.
  w.delivered(21_000, 9_000);
  t.like(w.sample(21_000), { type: 'failure', reason: 'latency' });
  w.delivered(22_000, 100);
  t.like(w.sample(22_000), { type: 'recovery' });
  // Silence counts from the last delivery.
  t.is(w.sample(31_000), undefined);
  t.like(w.sample(32_001), { type: 'failure', reason: 'silence', time: 32_000 });
});

test('property: a sequence of timely deliveries never fails; every failure is followed by at most one recovery', (t) => {
  fc.assert(
    fc.property(fc.array(fc.record({ gap: fc.integer({ min: 0, max: 20_000 }), latency: fc.integer({ min: 0, max: 10_000 }), deliver: fc.boolean() }), { maxLength: 60 }), (steps) => {
      const w = new CanaryWatch(bounds, 'webhook', 0);
      let now = 0;
      let open = false;
      for (const s of steps) {
        now += s.gap;
        if (s.deliver) w.delivered(now, s.latency);
        const v = w.sample(now);
        if (v?.type === 'recovery') {
          if (!open) return false;
          open = false;
        }
        if (v?.type === 'failure') open = true;
        if (open !== w.isFailing) return false;
        if (v?.type === 'failure' && s.deliver && s.latency <= bounds.maxLatencyMs) return false;
      }
      return true;
    }),
  );
  t.pass();
});
