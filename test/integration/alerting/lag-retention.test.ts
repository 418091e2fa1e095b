// Retention risk against a real Kafka: an undelivered record older than half its events topic's
// retention pages (critical, even for a small app, which never pages on its own failures), an
// integration whose backlog is young does not, and delivering past the old records resolves.
import test from 'ava';
import type { PageAction } from '../../../src/supervision/guardian-types.js';
import { groups, topics } from '../../../src/kafka/topics.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics, metricsConfigSchema } from '../../../src/observability/metrics.js';
import { createFaultReporter } from '../../../src/observability/sentry.js';
import type { IntegrationRow } from '../../../src/state/state-store.js';
import { alertingConfigSchema } from '../../../src/supervision/alerting-config.js';
import { AlertingService } from '../../../src/supervision/alerting-service.js';
import { checkRetention } from '../../../src/supervision/alerting-retention.js';
import { testKafka, uniq } from '../../helpers/infra.js';

const hour = 3_600_000;

test('an undelivered event past 50 % of retention pages critical at any tier; a young backlog does not; delivery resolves', async (t) => {
  const kafka = testKafka();
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await Promise.all([admin.connect(), producer.connect()]);
  t.teardown(() => Promise.all([admin.disconnect(), producer.disconnect()]));
  const old = uniq('ret-old').replace(/[^a-z0-9-]/g, '-');
  const young = uniq('ret-young').replace(/[^a-z0-9-]/g, '-');
  for (const id of [old, young]) {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: topics.events(id), numPartitions: 2, configEntries: [{ name: 'retention.ms', value: String(hour) }] }] });
  }
  const now = Date.now();
  // 40 minutes old (> 50 % of 1 h) on partition 0, fresh records on both partitions.
  await producer.send({ topic: topics.events(old), messages: [0, 1, 2].map((i) => ({ partition: 0, value: `old-${i}`, timestamp: String(now - 40 * 60_000) })) });
  await producer.send({ topic: topics.events(old), messages: [0, 1].flatMap((p) => [0, 1].map((i) => ({ partition: p, value: `new-${i}`, timestamp: String(now) }))) });
  await producer.send({ topic: topics.events(young), messages: [0, 1].map((p) => ({ partition: p, value: 'x', timestamp: String(now - 10 * 60_000) })) });

  t.deepEqual(await checkRetention(admin, old, hour, 0.5, Date.now()), { atRisk: true, backlog: 7 });
  t.deepEqual(await checkRetention(admin, young, hour, 0.5, Date.now()), { atRisk: false, backlog: 2 });

  const row = (id: string): IntegrationRow => ({ integrationId: id, appKey: `app-${id}`, tier: 'small', sinkType: 'webhook', status: 'running', consumerLag: 5, counters: { produced: 10, delivered: 5 } });
  const rows = [row(old), row(young)];
  const sent: PageAction[] = [];
  const config = alertingConfigSchema.parse({ policy: { source: 'ret-it', resolveAfterMs: 0 }, retention: { checkIntervalMs: 100 }, scanIntervalMs: 60_000, tickMs: 60_000, stall: { enabled: false } });
  const svc = await AlertingService.create({
    config,
    nodeId: 'n1',
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics(metricsConfigSchema.parse({})),
    state: { list: async () => rows, get: async (id: string) => rows.find((r) => r.integrationId === id) },
    producer: { send: async () => undefined } as never,
    admin,
    faults: await createFaultReporter({ environment: 'test', maxEventsPerFingerprintPerMinute: 5 }, { env: {} }),
    pager: { type: 'test', send: async (a) => void sent.push(a) },
  });
  await svc.start();
  t.teardown(() => svc.stop());
  await new Promise((r) => setTimeout(r, 150));
  await svc.scan();
  const triggers = sent.filter((p) => p.action === 'trigger');
  t.is(triggers.length, 1, 'one page, for the old backlog only');
  t.like(triggers[0], { dedupKey: `ret-it:retention:${old}`, severity: 'critical', class: 'integration.retention', component: old, group: `app-${old}` });
  t.regex(triggers[0]!.summary, /undelivered events older than 50% of retention \(0\.5 h of 1 h\); 7 events waiting/);
  t.is(svc.status().retentionAtRisk, 1);

  // Still at risk: no second page.
  await new Promise((r) => setTimeout(r, 150));
  await svc.scan();
  t.is(sent.length, 1);

  // The sink delivers past the old records: the page resolves.
  const ends = await admin.fetchTopicOffsets(topics.events(old));
  await admin.setOffsets({ groupId: groups.sink(old), topic: topics.events(old), partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })) });
  await new Promise((r) => setTimeout(r, 150));
  await svc.scan();
  t.deepEqual(sent.map((p) => [p.action, p.dedupKey]), [
    ['trigger', `ret-it:retention:${old}`],
    ['resolve', `ret-it:retention:${old}`],
  ]);
  t.is(svc.status().retentionAtRisk, 0);
});
