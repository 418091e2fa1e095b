import test from 'ava';
import { NodeWatchdog, Reachability, type Probe } from '../../../src/node/node-health.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { Metrics } from '../../../src/observability/metrics.js';

const silent = createLogger({ level: 'silent' });

function fakeMetrics(): Metrics & { gauges: [string, number][] } {
  const gauges: [string, number][] = [];
  return {
    gauges,
    count: () => undefined,
    gauge: (n, v) => void gauges.push([n, v]),
    timing: () => undefined,
    integrationTags: (_i, tier) => ({ tier }),
    close: async () => undefined,
  };
}

test('reachability expires only after the grace period of continuous failure', (t) => {
  const r = new Reachability('kafka', 60_000, 0);
  r.record(false, 1_000);
  t.false(r.expired(61_000));
  t.true(r.expired(61_001));
  r.record(true, 30_000);
  r.record(false, 40_000);
  t.false(r.expired(61_001), 'one good probe restarts the clock');
  t.true(r.expired(100_001));
});

function watchdog(now: { t: number }) {
  const fatal: string[] = [];
  const probe: Probe = { label: 'Kafka (127.0.0.1:9)', gauge: 'node.kafka_up', check: async () => undefined };
  const metrics = fakeMetrics();
  const w = new NodeWatchdog({
    config: { probeIntervalMs: 5_000, probeTimeoutMs: 2_000, graceMs: 60_000 },
    probes: { kafka: probe, dynamodb: { ...probe, label: 'DynamoDB', gauge: 'node.dynamodb_up' } },
    logger: silent,
    metrics,
    onFatal: (r) => fatal.push(r),
    now: () => now.t,
  });
  return { w, fatal, metrics };
}

test('a dependency down past the grace period calls onFatal once, with what and since when', (t) => {
  const now = { t: 0 };
  const { w, fatal, metrics } = watchdog(now);
  t.true(w.ready());
  for (let s = 5; s <= 60; s += 5) {
    now.t = s * 1000;
    w.observe('kafka', false, 'ECONNREFUSED');
    w.observe('dynamodb', true);
  }
  t.deepEqual(fatal, [], 'down 55 s: within grace');
  t.false(w.ready());
  t.regex(w.checks().kafka!, /^unreachable since 1970-01-01T00:00:05\.000Z: ECONNREFUSED/);
  now.t = 65_001;
  w.observe('kafka', false, 'ECONNREFUSED');
  now.t = 70_000;
  w.observe('kafka', false, 'ECONNREFUSED');
  t.is(fatal.length, 1);
  t.regex(fatal[0]!, /node fault: Kafka \(127\.0\.0\.1:9\) unreachable since 1970-01-01T00:00:05\.000Z \(60 s, grace 60 s\): ECONNREFUSED/);
  t.deepEqual(metrics.gauges.filter(([n]) => n === 'node.kafka_up').at(-1), ['node.kafka_up', 0]);
});

test('flapping reachability never reaches the grace period', (t) => {
  const now = { t: 0 };
  const { w, fatal } = watchdog(now);
  for (let s = 5; s <= 600; s += 5) {
    now.t = s * 1000;
    w.observe('dynamodb', s % 50 !== 0 ? false : true, 'timeout');
  }
  t.deepEqual(fatal, []);
});

test('a hung probe counts as down after the probe timeout and is not re-issued', async (t) => {
  const now = { t: 0 };
  let calls = 0;
  const fatal: string[] = [];
  const w = new NodeWatchdog({
    config: { probeIntervalMs: 5_000, probeTimeoutMs: 2_000, graceMs: 10_000 },
    probes: { kafka: { label: 'Kafka', gauge: 'node.kafka_up', check: () => (calls++, new Promise(() => undefined)) } },
    logger: silent,
    metrics: fakeMetrics(),
    onFatal: (r) => fatal.push(r),
    now: () => now.t,
  });
  for (let s = 0; s <= 20; s += 5) {
    now.t = s * 1000;
    w.probeAll();
  }
  t.is(calls, 1);
  t.is(fatal.length, 1);
  t.regex(fatal[0]!, /no answer within 2000 ms/);
});
