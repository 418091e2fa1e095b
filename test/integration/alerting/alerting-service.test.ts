// The alerting service against real servers: DynamoDB (state table scan), Kafka (notifications),
// a loopback PagerDuty Events v2 receiver, a loopback Sentry envelope receiver and a UDP StatsD
// listener. Thresholds are config, shortened so each test runs in seconds.
import test from 'ava';
import { ProduceQueue } from '../../../src/kafka/produce-queue.js';
import { topics } from '../../../src/kafka/topics.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics, metricsConfigSchema } from '../../../src/observability/metrics.js';
import { createFaultReporter } from '../../../src/observability/sentry.js';
import { StateStore } from '../../../src/state/state-store.js';
import { alertingConfigSchema } from '../../../src/supervision/alerting-config.js';
import { AlertingService } from '../../../src/supervision/alerting-service.js';
import type { FailureReport } from '../../../src/supervision/guardian-types.js';
import { eventually, testDynamo, testKafka, uniq } from '../../helpers/infra.js';
import { startPagerDutyReceiver, type PagerDutyReceiver } from '../../helpers/pagerduty-receiver.js';
import { startSentryReceiver, type SentryReceiver } from '../../helpers/sentry-receiver.js';
import { startStatsdListener, type StatsdListener } from '../../helpers/statsd-listener.js';

const routingKey = 'R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12';

interface World {
  svc: AlertingService;
  pd: PagerDutyReceiver;
  sentry: SentryReceiver;
  statsd: StatsdListener;
  source: string;
}

async function world(t: import('ava').ExecutionContext): Promise<World> {
  const [pd, sentry, statsd] = await Promise.all([startPagerDutyReceiver(), startSentryReceiver(), startStatsdListener()]);
  const kafka = testKafka();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  const admin = kafka.admin();
  await Promise.all([producer.connect(), admin.connect()]);
  const dynamo = testDynamo();
  const state = new StateStore(dynamo, uniq('alerting-state'));
  await state.ensureTable();
  const logger = createLogger({ level: process.env.TRIBUTARY_LOG_LEVEL ?? 'warn', name: 'alerting-it' });
  const metrics = createMetrics(metricsConfigSchema.parse({ enabled: true, port: statsd.port, bufferFlushIntervalMs: 50 }));
  const faults = await createFaultReporter({ dsn: sentry.dsn, environment: 'test', maxEventsPerFingerprintPerMinute: 5 }, { env: {} });
  const source = uniq('it');
  const config = alertingConfigSchema.parse({
    policy: { source, resolveAfterMs: 1_000, tiers: { large: { failingForMs: 3_000 } } },
    pager: { type: 'pagerduty', routingKey: { value: routingKey }, url: pd.url, retry: { initialDelayMs: 50, maxDelayMs: 200 } },
    scanIntervalMs: 300,
    tickMs: 200,
  });
  const svc = await AlertingService.create({ config, nodeId: 'it-node', logger, metrics, state, producer: new ProduceQueue(producer), admin, faults });
  await svc.start();
  t.teardown(async () => {
    await svc.stop(2_000);
    await faults.close(2_000);
    await metrics.close();
    await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
    dynamo.destroy();
    await Promise.all([pd.close(), sentry.close(), statsd.close()]);
  });
  return { svc, pd, sentry, statsd, source };
}

const failure = (integrationId: string, appKey: string, tier: FailureReport['tier'], over: Partial<FailureReport> = {}): FailureReport => ({
  time: Date.now(),
  integrationId,
  appKey,
  tier,
  kind: 'failure',
  errorClass: 'retryable',
  fingerprint: 'retryable|sink_server|webhook|HTTP <n> from <url>',
  message: 'HTTP 500 from http://127.0.0.1:9/ingest',
  ...over,
});

test('a large app failing past the threshold pages exactly once, then resolves once after recovery', async (t) => {
  const w = await world(t);
  const id = uniq('large');
  const started = Date.now();
  const loop = setInterval(() => w.svc.report(failure(id, 'big-app', 'large')), 250);
  w.svc.report(failure(id, 'big-app', 'large'));
  await w.pd.waitFor((rx) => rx.events.length >= 1, 15_000, 'the trigger');
  const triggeredAfter = w.pd.events[0]!.at - started;
  await new Promise((r) => setTimeout(r, 1_000)); // keeps failing: still one incident, no repeat
  clearInterval(loop);
  const recoveredAt = Date.now();
  w.svc.report({ ...failure(id, 'big-app', 'large'), kind: 'recovery', time: recoveredAt });
  await w.pd.waitFor((rx) => rx.events.some((e) => e.event_action === 'resolve'), 15_000, 'the resolve');
  const resolvedAfter = w.pd.events.find((e) => e.event_action === 'resolve')!.at - recoveredAt;
  t.deepEqual(w.pd.events.map((e) => [e.event_action, e.dedup_key]), [
    ['trigger', `${w.source}:integration:${id}`],
    ['resolve', `${w.source}:integration:${id}`],
  ]);
  t.is(w.pd.events[0]!.payload?.severity, 'critical');
  // The lower bounds carry the meaning; the upper ones allow a loaded CI machine.
  t.true(triggeredAfter >= 3_000 && triggeredAfter < 9_000, `triggered ${triggeredAfter} ms after the first failure (threshold 3000)`);
  t.true(resolvedAfter >= 1_000 && resolvedAfter < 7_000, `resolved ${resolvedAfter} ms after recovery (resolveAfterMs 1000)`);
  t.log(`trigger after ${triggeredAfter} ms (threshold 3000 ms); resolve ${resolvedAfter} ms after recovery (window 1000 ms)`);
  await w.statsd.waitFor((l) => l.sum('tributary.alerting.pages', { action: 'resolve' }) >= 1, 5_000, 'alerting.pages');
  t.is(w.statsd.sum('tributary.alerting.pages', { action: 'trigger', rule: 'integration_large' }), 1);
});

test('twenty small apps blipping page nobody; Sentry gets aggregated events with one fingerprint', async (t) => {
  const w = await world(t);
  const run = uniq('blip');
  const fp = 'fatal|bug|webhook|cannot read properties of undefined (reading <n>)';
  for (let i = 0; i < 20; i++) w.svc.report(failure(`${run}-${i}`, `${run}-app${i}`, 'small', { errorClass: 'retryable', fingerprint: fp.replace('fatal|bug', 'retryable|sink_server'), message: `HTTP 503 from https://sink${i}.example.com/?token=CANARY${i}` }));
  await new Promise((r) => setTimeout(r, 500));
  for (let i = 0; i < 20; i++) w.svc.report({ ...failure(`${run}-${i}`, `${run}-app${i}`, 'small'), kind: 'recovery' });
  const events = await w.sentry.waitForEvents(5, 10_000);
  await new Promise((r) => setTimeout(r, 3_000)); // past any threshold here (large 3 s): still nothing
  t.is(w.pd.events.length, 0, 'no page');
  t.is(w.sentry.events().length, 5, 'bounded by the per-fingerprint rate limit (5/min)');
  t.is(new Set(events.map((e) => JSON.stringify(e.fingerprint))).size, 1);
  t.deepEqual(events[0]!.fingerprint, ['retryable', 'unknown', fp.replace('fatal|bug', 'retryable|sink_server')]);
  t.false(w.sentry.rawText().includes('CANARY'));
  await w.statsd.waitFor((l) => l.sum('tributary.alerting.sentry_events', { outcome: 'rate_limited' }) >= 15, 5_000, 'sentry_events');
});

test('misconfiguration puts one record on tributary.notifications and pages nobody', async (t) => {
  const w = await world(t);
  const id = uniq('misconf');
  for (let i = 0; i < 10; i++) {
    w.svc.report(failure(id, 'big-app', 'large', { errorClass: 'misconfiguration', fingerprint: 'misconfiguration|sink_auth|webhook|HTTP <n> from <url>', message: 'HTTP 401 from https://h.example.com/hook?sig=SECRET' }));
    await new Promise((r) => setTimeout(r, 400));
  }
  const kafka = testKafka();
  const consumer = kafka.consumer({ groupId: uniq('notif-reader') });
  t.teardown(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topic: topics.notifications, fromBeginning: true });
  const mine: { key: string; value: Record<string, unknown> }[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.key?.toString() === id) mine.push({ key: id, value: JSON.parse(String(message.value)) as Record<string, unknown> });
    },
  });
  await eventually(() => (mine.length >= 1 ? true : undefined), 20_000, 'the notification record');
  await new Promise((r) => setTimeout(r, 500));
  t.is(mine.length, 1, 'once per episode');
  t.like(mine[0]!.value, { integrationId: id, appKey: 'big-app', reason: 'HTTP 401 from https://h.example.com/hook' });
  t.regex(String(mine[0]!.value.time), /^\d{4}-\d\d-\d\dT/);
  t.is(w.pd.events.length, 0, 'misconfiguration never pages');
  t.is(w.sentry.events().length, 0, 'nor goes to Sentry');
  await w.statsd.waitFor((l) => l.sum('tributary.alerting.notifications', { tier: 'large' }) >= 1, 5_000, 'alerting.notifications');
});

test('a page the receiver refuses with 503 is retried on later ticks and lands once', async (t) => {
  const w = await world(t);
  const id = uniq('retry');
  w.pd.failNext(503, 12); // more than one pager call's retries (6 attempts)
  const loop = setInterval(() => w.svc.report(failure(id, 'big-app', 'large')), 250);
  t.teardown(() => clearInterval(loop));
  await w.pd.waitFor((rx) => rx.events.length >= 1, 20_000, 'the trigger after retries');
  clearInterval(loop);
  t.true(w.pd.refused >= 12);
  await new Promise((r) => setTimeout(r, 1_000));
  t.is(w.pd.events.filter((e) => e.event_action === 'trigger').length, 1);
});
