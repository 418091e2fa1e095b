// The end-to-end canary, for real: a steady emulator app → Kafka → a node → a webhook receiver,
// the integration marked `options.canary`. While the receiver answers promptly nothing pages and
// `canary.latency_ms` flows. Then the receiver turns slow — every request answered 2xx, only late:
// no error, no retry, no stall, nothing the other detectors see — and the canary's latency passes
// its bound: exactly one page; the receiver recovers: exactly one resolve.
import test from 'ava';
import { parseSpec } from '../../src/control/spec.js';
import { validateSinkConfig } from '../../src/sinks/registry.js';
import { StateStore } from '../../src/state/state-store.js';
import { eventually, testDynamo, uniq } from '../helpers/infra.js';
import { startPagerDutyReceiver } from '../helpers/pagerduty-receiver.js';
import { e2eAlerting, startFixture, startInProcessNode } from '../helpers/pipeline.js';
import { startStatsdListener } from '../helpers/statsd-listener.js';

test('a canary whose deliveries turn later than its bound pages once, and resolves once when they are timely again', async (t) => {
  // A canary app: a steady Poisson stream of 5 events/s for far longer than the test.
  const f = await startFixture([{ size: 'medium', totalEvents: 100_000, rate: 5 }], { batchLingerMs: 20 });
  t.teardown(() => f.close());
  const [pd, statsd] = await Promise.all([startPagerDutyReceiver(), startStatsdListener()]);
  t.teardown(() => Promise.all([pd.close(), statsd.close()]));
  const base = f.specs[0]!;
  const spec = parseSpec(
    { ...base, connect: { ...base.connect, start: 'LATEST' }, options: { ...base.options, canary: { maxLatencyMs: 2_500, maxSilenceMs: 20_000 } } },
    { local: true, validateSink: validateSinkConfig },
  );
  f.specs[0] = spec;
  const source = uniq('canary');
  const thresholdMs = 3_000;
  f.nodeConfig.metrics = { enabled: true, port: statsd.port, bufferFlushIntervalMs: 100 };
  f.nodeConfig.alerting = e2eAlerting(source, pd.url, { tiers: { medium: { failingForMs: thresholdMs } } }, { lagGrowth: { sampleMs: 500 } });
  const node = await startInProcessNode(f);
  t.teardown(() => node.shutdown(10_000));
  const key = `${source}:integration:${spec.id}`;

  // Healthy: deliveries flow, latency is measured, and nothing pages past the threshold.
  await f.receiver.waitFor((rx) => rx.deliveredCount() >= 20, 60_000, 'canary deliveries');
  await statsd.waitFor((l) => l.names().has('tributary.canary.latency_ms'), 15_000, 'canary.latency_ms');
  await new Promise((r) => setTimeout(r, thresholdMs + 2_000));
  t.is(pd.events.length, 0, 'a timely canary pages nobody');

  // The receiver turns slow: every answer 2xx, 4 s late.
  const slowAt = Date.now();
  f.receiver.setDelay(4_000);
  await pd.waitFor((rx) => rx.events.length >= 1, 60_000, 'the canary page');
  t.like(pd.events[0], { event_action: 'trigger', dedup_key: key });
  t.log(`page ${pd.events[0]!.at - slowAt} ms after the receiver turned slow (bound 2.5 s, threshold ${thresholdMs} ms)`);
  t.true(f.receiver.requests.every((r) => r.status < 300), 'no request failed: only the canary saw it');
  const state = new StateStore(testDynamo(), f.table);
  const row = await state.get(spec.id);
  t.is(row?.status, 'failing');
  t.is(row?.lastErrors?.at(-1)?.code, 'canary_latency');

  // Timely again: one resolve, and the page stays one page.
  f.receiver.setDelay(undefined);
  const fixedAt = Date.now();
  await pd.waitFor((rx) => rx.events.some((e) => e.event_action === 'resolve'), 60_000, 'the resolve');
  t.log(`resolve ${pd.events.find((e) => e.event_action === 'resolve')!.at - fixedAt} ms after the receiver recovered`);
  await new Promise((r) => setTimeout(r, 2_000));
  t.deepEqual(pd.events.map((e) => [e.event_action, e.dedup_key]), [
    ['trigger', key],
    ['resolve', key],
  ]);
  await eventually(async () => ((await state.get(spec.id))?.status === 'running' ? true : undefined), 15_000, 'running again');
});
