// "Consumed slower than produced", end to end: Connect emulator (5 000 events/s) → Kafka → a node
// → a receiver that answers 200 but only after 1 s. No exception anywhere, yet the backlog grows:
// with `alerting.lagGrowth` on (thresholds shortened) exactly one failure report arrives after the
// threshold, and one recovery once the receiver speeds up. The same run without the flag: none.
import test from 'ava';
import type { FailureReport } from '../../src/supervision/guardian-types.js';
import { lagGrowthFingerprint } from '../../src/supervision/lag-growth.js';
import { startFixture, startInProcessNode } from '../helpers/pipeline.js';
import { eventually } from '../helpers/infra.js';
import { startStatsdListener } from '../helpers/statsd-listener.js';
import { knownEventTypes } from '../../src/connect/event.js';

const thresholdMs = 6_000;
const lagGrowth = { sampleMs: 250, windowMs: 2_000, minGrowthEvents: 500, thresholdMs: { large: thresholdMs } };

async function slowReceiverRun(t: import('ava').ExecutionContext, flagOn: boolean, metrics?: Record<string, unknown>) {
  // 20 s of arrivals from the emulator's start: still arriving through the failure and the 3 s
  // "still slow" check below, so growth cannot end (and recover) before the receiver speeds up.
  const f = await startFixture([{ size: 'large', totalEvents: 100_000, rate: 5_000 }]);
  t.teardown(() => f.close());
  f.nodeConfig.alerting = { lagGrowth, stall: { afterMs: 60_000 }, scanIntervalMs: 1_000, tickMs: 500 };
  if (metrics) f.nodeConfig.metrics = metrics;
  if (flagOn) f.nodeConfig.flags = { 'alerting.lagGrowth': true };
  f.receiver.setDelay(1_000);
  const reports: { at: number; r: FailureReport }[] = [];
  const fp = lagGrowthFingerprint('webhook');
  const node = await startInProcessNode(f, { onFailure: (r) => r.fingerprint === fp && reports.push({ at: Date.now(), r }) });
  t.teardown(() => node.shutdown(15_000));
  const id = f.specs[0]!.id;
  return { f, node, id, reports };
}

test.serial('a slow-but-200 sink (1 s per request, 5 000 events/s arriving) is one failure report after the threshold, and one recovery when it speeds up', async (t) => {
  const { f, reports, id } = await slowReceiverRun(t, true);
  await f.receiver.waitFor((rx) => rx.requests.length >= 1, 30_000, 'the first slow request');
  const firstDelivery = Date.now();
  await eventually(() => (reports.length >= 1 ? true : undefined), 60_000, 'the lag-growth failure');
  const failure = reports[0]!;
  t.like(failure.r, { kind: 'failure', integrationId: id, errorClass: 'retryable', tier: 'large' });
  t.regex(failure.r.message ?? '', /backlog growing for \d+ s: events arrive at [\d.]+\/s, the sink delivers [\d.]+\/s/);
  t.true(failure.at - failure.r.time >= thresholdMs, 'reported only once the growth lasted the threshold');
  // A few samples of slack: on a loaded 2-core machine a sample can come late.
  t.true(failure.at - failure.r.time < thresholdMs + 5_000, 'and within a few samples of it');
  t.log(`failure ${failure.at - firstDelivery} ms after the first slow request; growth began ${failure.r.time - firstDelivery} ms after it`);
  t.true(f.receiver.requests.every((r) => r.status === 200 || r.status === 0), 'no error anywhere: every answered request was a 200 (0: still in flight)');

  // Still slow for a while: no second failure.
  await new Promise((r) => setTimeout(r, 3_000));
  t.is(reports.length, 1);

  f.receiver.setDelay(undefined); // the third party speeds up
  await eventually(() => (reports.length >= 2 ? true : undefined), 60_000, 'the recovery');
  t.is(reports[1]!.r.kind, 'recovery');
  t.log(failure.r.message);
  // Catching up: the backlog shrinks, and no new failure follows.
  const after = f.receiver.delivered().length;
  await f.receiver.waitFor((rx) => rx.deliveredCount() >= after + 10_000, 60_000, 'the backlog draining');
  await new Promise((r) => setTimeout(r, 3_000));
  t.deepEqual(reports.map((x) => x.r.kind), ['failure', 'recovery'], 'exactly one failure and one recovery');
});

test.serial('the same slow sink with alerting.lagGrowth off reports nothing; per-type counters reach StatsD with the bounded event_type tag', async (t) => {
  const statsd = await startStatsdListener();
  t.teardown(() => statsd.close());
  const { f, reports } = await slowReceiverRun(t, false, { enabled: true, host: '127.0.0.1', port: statsd.port, tagFormat: 'dogstatsd', bufferFlushIntervalMs: 100 });
  await f.receiver.waitFor((rx) => rx.requests.length >= 1, 30_000, 'the first slow request');
  await new Promise((r) => setTimeout(r, thresholdMs + lagGrowth.windowMs + 4_000));
  t.true(f.receiver.requests.length >= 5, 'the sink kept delivering slowly');
  t.deepEqual(reports, []);

  // Per event type, as on the wire: tributary.sink.events_delivered:N|c|#tier:large,sink:webhook,event_type:OPEN
  const delivered = f.receiver.delivered().length;
  await statsd.waitFor((l) => l.sum('tributary.sink.events_delivered') >= delivered, 30_000, 'delivered counters');
  const allowed = new Set<string>([...knownEventTypes, 'other']);
  const byType = (name: string) => {
    const m = new Map<string, number>();
    for (const s of statsd.samples.filter((x) => x.name === name)) m.set(s.tags.event_type ?? '(none)', (m.get(s.tags.event_type ?? '(none)') ?? 0) + s.value);
    return m;
  };
  const read = byType('tributary.source.events_read');
  const sent = byType('tributary.sink.events_delivered');
  t.log(`delivered by type: ${JSON.stringify(Object.fromEntries(sent))}`);
  t.true(sent.size >= 3, 'several Connect types');
  t.true([...read.keys(), ...sent.keys()].every((k) => allowed.has(k)), 'event_type is a known type or other');
  t.true((sent.get('OPEN') ?? 0) > 0, 'OPENs delivered');
  t.true(statsd.samples.some((s) => s.name === 'tributary.sink.events_delivered' && s.type === 'c' && s.tags.tier === 'large' && s.tags.sink === 'webhook' && s.tags.event_type === 'OPEN'));
  t.true(statsd.samples.some((s) => s.name === 'tributary.source.events_read' && s.type === 'c' && s.tags.tier === 'large' && s.tags.event_type === 'OPEN'));
  t.is([...sent.values()].reduce((a, b) => a + b, 0), statsd.sum('tributary.sink.events_delivered'));
});

test.serial('alerting.lagGrowth turned on by a spec update while the sink is slow: sampling starts then, and the failure follows', async (t) => {
  // Off at start, no integration samples (no timer runs for it); the update must start one.
  const { f, node, reports, id } = await slowReceiverRun(t, false);
  await f.receiver.waitFor((rx) => rx.requests.length >= 1, 30_000, 'the first slow request');
  await new Promise((r) => setTimeout(r, 2_000));
  t.deepEqual(reports, [], 'nothing while the flag is off');
  const spec = f.specs[0]!;
  const turnedOnAt = Date.now();
  node.apply({ ...spec, flags: { 'alerting.lagGrowth': true } });
  await eventually(() => (reports.length >= 1 ? true : undefined), 60_000, 'the lag-growth failure after the update');
  t.like(reports[0]!.r, { kind: 'failure', integrationId: id, tier: 'large' });
  t.true(reports[0]!.at - turnedOnAt >= thresholdMs, 'growth is measured from the first sample after the update');
});
