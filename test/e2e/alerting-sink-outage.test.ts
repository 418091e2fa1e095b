// A real run: Connect emulator → Kafka → a Tributary node → a webhook receiver, with the node's
// alerting service paging a loopback PagerDuty receiver and StatsD going to a UDP listener.
// A large app's sink answers 500 for longer than the (shortened) threshold: exactly one trigger,
// then one resolve after the receiver recovers; and the catalogue's source/sink metrics arrive.
import test from 'ava';
import { e2eAlerting, startFixture, startInProcessNode } from '../helpers/pipeline.js';
import { startPagerDutyReceiver } from '../helpers/pagerduty-receiver.js';
import { startStatsdListener } from '../helpers/statsd-listener.js';
import { uniq } from '../helpers/infra.js';

test('a large app sink returning 500 past the threshold pages once and resolves once after recovery', async (t) => {
  const f = await startFixture([{ size: 'large', totalEvents: 3_000 }]);
  t.teardown(() => f.close());
  const [pd, statsd] = await Promise.all([startPagerDutyReceiver(), startStatsdListener()]);
  t.teardown(() => Promise.all([pd.close(), statsd.close()]));
  const source = uniq('e2e');
  const thresholdMs = 5_000;
  f.nodeConfig.metrics = { enabled: true, port: statsd.port, bufferFlushIntervalMs: 100 };
  f.nodeConfig.alerting = e2eAlerting(source, pd.url, { tiers: { large: { failingForMs: thresholdMs } } }, { stall: { afterMs: 1_500 } });
  f.receiver.failNext(500, Infinity);
  const node = await startInProcessNode(f);
  t.teardown(() => node.shutdown(10_000));
  const started = Date.now();
  const key = `${source}:integration:${f.specs[0]!.id}`;

  await pd.waitFor((rx) => rx.events.length >= 1, 60_000, 'the trigger');
  const triggerAt = pd.events[0]!.at;
  t.like(pd.events[0], { event_action: 'trigger', dedup_key: key });
  t.is(pd.events[0]!.payload?.severity, 'critical');
  // Still failing for a while longer: the page stays one page.
  await new Promise((r) => setTimeout(r, 3_000));
  t.is(pd.events.length, 1);
  t.true(f.receiver.requests.every((r) => r.status === 500), 'the sink is still down');

  f.receiver.reset(); // the third party is back
  const recoveredAt = Date.now();
  await f.receiver.waitForDelivered(3_000, 60_000);
  await pd.waitFor((rx) => rx.events.some((e) => e.event_action === 'resolve'), 60_000, 'the resolve');
  const resolveAt = pd.events.find((e) => e.event_action === 'resolve')!.at;
  await new Promise((r) => setTimeout(r, 2_000));
  t.deepEqual(pd.events.map((e) => [e.event_action, e.dedup_key]), [
    ['trigger', key],
    ['resolve', key],
  ]);
  t.log(`trigger ${triggerAt - started} ms after the node started (threshold ${thresholdMs} ms from the stall's start); resolve ${resolveAt - recoveredAt} ms after the receiver recovered`);
  t.true(triggerAt - started < thresholdMs + 10_000);
  t.true(resolveAt - recoveredAt < 20_000);

  const wanted = [
    'tributary.source.events_read',
    'tributary.source.events_produced',
    'tributary.source.batch_events',
    'tributary.source.produce_ms',
    'tributary.sink.events_delivered',
    'tributary.sink.requests',
    'tributary.sink.retries',
    'tributary.sink.latency_ms',
    'tributary.sink.bytes_sent',
    'tributary.supervision.crashes',
    'tributary.alerting.pages',
    'tributary.node.kafka_up',
    'tributary.node.dynamodb_up',
    'tributary.node.integrations',
    'tributary.node.memory_bytes',
    'tributary.node.cpu_percent',
    'tributary.node.event_loop_delay_ms',
    'tributary.source.lag_ms',
    'tributary.sink.end_to_end_ms',
    'tributary.sink.consumer_lag',
    'tributary.alerting.scans',
    'tributary.alerting.open_pages',
    'tributary.alerting.outbox',
    'tributary.alerting.fleet_failing',
  ].filter((n) => n !== 'tributary.supervision.crashes'); // a retrying sink never crashes
  await statsd.waitFor((l) => wanted.every((n) => l.names().has(n)), 15_000, wanted.join(', '));
  t.is(statsd.sum('tributary.alerting.pages', { action: 'trigger' }), 1);
  t.is(statsd.sum('tributary.sink.events_delivered'), 3_000);
  t.true(statsd.samples.some((s) => s.name === 'tributary.sink.retries' && s.tags.tier === 'large' && s.tags.sink === 'webhook'));
  t.true(statsd.samples.some((s) => s.name === 'tributary.node.integrations' && s.tags.status === 'running' && s.value === 1), 'the node reports its one running integration');
  const rss = statsd.samples.filter((s) => s.name === 'tributary.node.memory_bytes' && s.tags.kind === 'rss').map((s) => s.value);
  t.true(rss.length > 0 && rss.every((v) => v > 20 * 2 ** 20 && v < 4 * 2 ** 30), `the node's RSS in bytes: ${rss.join(', ')}`);
  t.true(statsd.samples.some((s) => s.name === 'tributary.node.event_loop_delay_ms' && s.tags.stat === 'p99'));
});
