import test from 'ava';
import fc from 'fast-check';
import { LagGrowthDetector, type FlowSample, type LagGrowthOptions, type LagGrowthReport } from '../../../src/supervision/lag-growth.js';

const opts: LagGrowthOptions = { windowMs: 10_000, thresholdMs: 30_000, minGrowthEvents: 100, minGrowthRatio: 0.05 };
const stepMs = 1_000;

/** Feeds samples built from per-step arrivals and deliveries; returns every report with its index. */
function run(d: LagGrowthDetector, steps: readonly { in: number; out: number }[], from: FlowSample = { time: 0, produced: 0, consumed: 0 }) {
  const reports: { at: number; r: LagGrowthReport }[] = [];
  let s = from;
  d.observe(s);
  for (const st of steps) {
    s = { time: s.time + stepMs, produced: s.produced + st.in, consumed: s.consumed + st.out };
    const r = d.observe(s);
    if (r) reports.push({ at: s.time, r });
  }
  return { reports, last: s };
}

test('steady growth: exactly one failure, once the growth has lasted the threshold (property)', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 200, max: 10_000 }), fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 60, max: 200 }), (inRate, outRate, steps) => {
      fc.pre(inRate - outRate >= 0.1 * inRate && (inRate - outRate) * 10 >= opts.minGrowthEvents);
      const d = new LagGrowthDetector(opts);
      const { reports } = run(d, Array.from({ length: steps }, () => ({ in: inRate, out: outRate })));
      if (reports.length !== 1 || reports[0]!.r.type !== 'failure') return false;
      const { at, r } = reports[0]!;
      // The first full window starts at 0; growth counts from there; judged at the threshold.
      return r.time === 0 && at === opts.thresholdMs && r.growth === (inRate - outRate) * 10 && d.isFailing;
    }),
  );
  t.pass();
});

test('noise below the growth floor never reports (property)', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 50_000 }), fc.array(fc.integer({ min: 0, max: opts.minGrowthEvents - 1 }), { minLength: 50, maxLength: 300 }), (rate, backlogs) => {
      // The backlog wanders in [0, minGrowth): arrivals steady, deliveries whatever keeps it there.
      const d = new LagGrowthDetector(opts);
      let backlog = 0;
      const steps = backlogs.map((b) => {
        const step = { in: rate, out: rate + backlog - b };
        backlog = b;
        return step;
      });
      return run(d, steps).reports.length === 0;
    }),
  );
  t.pass();
});

test('shrinking after a failure recovers exactly once, and growth again needs the full threshold (property)', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1_000, max: 5_000 }), fc.integer({ min: 10, max: 100 }), (inRate, drainSteps) => {
      const d = new LagGrowthDetector(opts);
      const grow = run(d, Array.from({ length: 45 }, () => ({ in: inRate, out: inRate / 10 })));
      if (grow.reports.length !== 1) return false;
      const drain = run(d, Array.from({ length: drainSteps }, () => ({ in: inRate, out: inRate * 2 })), grow.last);
      if (drain.reports.length !== 1 || drain.reports[0]!.r.type !== 'recovery' || d.isFailing) return false;
      // Recovery as soon as the first window no longer shows growth (well within one window).
      if (drain.reports[0]!.at - grow.last.time > opts.windowMs) return false;
      const again = run(d, Array.from({ length: 60 }, () => ({ in: inRate, out: 0 })), drain.last);
      // Counted from the start of the first growing window, which may reach back into the drain.
      const f = again.reports[0];
      return again.reports.length === 1 && f!.r.type === 'failure' && f!.at - f!.r.time === opts.thresholdMs && f!.at - drain.last.time >= opts.thresholdMs - opts.windowMs;
    }),
  );
  t.pass();
});

test('a burst shorter than the threshold is not a failure', (t) => {
  const d = new LagGrowthDetector(opts);
  const steps = [...Array.from({ length: 15 }, () => ({ in: 5_000, out: 500 })), ...Array.from({ length: 60 }, () => ({ in: 500, out: 5_000 }))];
  t.deepEqual(run(d, steps).reports, []);
});

test('a slow-but-steady sink on a busy stream: jitter under the ratio is not growth', (t) => {
  const d = new LagGrowthDetector(opts);
  // 50 000/s in, deliveries lag by 1 % of arrivals in every window: growth < 5 % of arrivals.
  t.deepEqual(run(d, Array.from({ length: 120 }, () => ({ in: 50_000, out: 49_500 }))).reports, []);
});

test('samples going back in time are ignored', (t) => {
  const d = new LagGrowthDetector(opts);
  d.observe({ time: 10_000, produced: 0, consumed: 0 });
  t.is(d.observe({ time: 5_000, produced: 1e6, consumed: 0 }), undefined);
});
