// The alerting service driven by hand (no timers, no sockets): a fake clock, pager, producer,
// state table and Sentry reporter.
import test from 'ava';
import type { Message } from 'kafkajs';
import { createLogger } from '../../../src/observability/logger.js';
import type { Metrics } from '../../../src/observability/metrics.js';
import type { Fault, FaultReporter } from '../../../src/observability/sentry.js';
import type { IntegrationRow } from '../../../src/state/state-store.js';
import { alertingConfigSchema, type AlertingConfigInput } from '../../../src/supervision/alerting-config.js';
import { AlertingService } from '../../../src/supervision/alerting-service.js';
import type { FailureReport, PageAction } from '../../../src/supervision/guardian-types.js';
import { PagerError, type Pager } from '../../../src/supervision/pager/index.js';

function harness(over: AlertingConfigInput = {}) {
  const clock = { t: 1_000_000 };
  const sent: PageAction[] = [];
  const pager = { down: false, refuse: false, calls: 0 };
  const fakePager: Pager = {
    type: 'fake',
    send: async (a) => {
      pager.calls += 1;
      if (pager.refuse) throw new PagerError('400', { status: 400, retriable: false, attempts: 1 });
      if (pager.down) throw new PagerError('503', { status: 503, retriable: true, attempts: 6 });
      sent.push(a);
    },
  };
  const produced: { topic: string; messages: Message[] }[] = [];
  const rows: IntegrationRow[] = [];
  const faults: Fault[] = [];
  const reporter: FaultReporter = {
    enabled: true,
    captureFault: (f) => (faults.push(f), 'sent'),
    flush: async () => true,
    close: async () => true,
  };
  const counts: [string, number, Record<string, unknown> | undefined][] = [];
  const metrics: Metrics = {
    count: (n, v = 1, tags) => void counts.push([n, v, tags]),
    gauge: () => undefined,
    timing: () => undefined,
    integrationTags: (_i, tier) => ({ tier }),
    close: async () => undefined,
  };
  const config = alertingConfigSchema.parse({ policy: { tiers: { large: { failingForMs: 60_000 } }, resolveAfterMs: 10_000 }, ...over });
  const make = () =>
    AlertingService.create({
      config,
      nodeId: 'n1',
      logger: createLogger({ level: 'silent' }),
      metrics,
      state: { list: async () => rows, get: async (id) => rows.find((r) => r.integrationId === id) },
      producer: { send: async (topic, messages) => void produced.push({ topic, messages }) },
      faults: reporter,
      pager: fakePager,
      now: () => clock.t,
    });
  return { clock, sent, pager, produced, rows, faults, counts, make };
}

const report = (time: number, kind: FailureReport['kind'], over: Partial<FailureReport> = {}): FailureReport => ({
  time,
  integrationId: 'int-1',
  appKey: 'big-app',
  tier: 'large',
  kind,
  errorClass: 'retryable',
  fingerprint: 'retryable|sink_server|webhook|HTTP <n> from <url>',
  message: 'HTTP 500 from http://127.0.0.1:1/ingest',
  ...over,
});

test('a page the pager could not take is retried on the next tick, and its resolve follows it', async (t) => {
  const h = await harness();
  const svc = await h.make();
  h.pager.down = true;
  for (let s = 0; s <= 70; s += 10) {
    h.clock.t = 1_000_000 + s * 1000;
    svc.report(report(h.clock.t, 'failure'));
    await svc.tick();
  }
  t.is(h.sent.length, 0);
  t.is(svc.status().outbox.pages, 1, 'the trigger waits in the outbox');
  h.clock.t += 1_000;
  svc.report(report(h.clock.t, 'recovery'));
  h.clock.t += 11_000;
  await svc.tick();
  t.is(svc.status().outbox.pages, 2, 'the resolve queues behind its trigger');
  h.pager.down = false;
  await svc.tick();
  t.deepEqual(h.sent.map((p) => p.action), ['trigger', 'resolve']);
  t.is(svc.status().outbox.pages, 0);
  t.true(h.counts.some(([n, , tags]) => n === 'alerting.pages' && tags?.action === 'trigger' && tags?.rule === 'integration.large'));
  t.true(h.counts.some(([n]) => n === 'alerting.page_failures'));
  await svc.stop(100);
});

test('a page the pager refuses (400) is dropped, not retried forever', async (t) => {
  const h = await harness();
  const svc = await h.make();
  h.pager.refuse = true;
  svc.report(report(h.clock.t, 'failure'));
  h.clock.t += 61_000;
  svc.report(report(h.clock.t, 'failure'));
  await svc.tick();
  await svc.tick();
  t.is(h.pager.calls, 1);
  t.is(svc.status().outbox.pages, 0);
  await svc.stop(100);
});

test('misconfiguration notifies the customer on tributary.notifications, pages nobody and skips Sentry', async (t) => {
  const h = await harness();
  const svc = await h.make();
  for (let s = 0; s < 5; s++) {
    svc.report(report(h.clock.t, 'failure', { errorClass: 'misconfiguration', fingerprint: 'misconfiguration|sink_auth|webhook|HTTP <n>', message: 'HTTP 401 from https://h.example.com/x?token=SECRET' }));
    h.clock.t += 60_000;
    await svc.tick();
  }
  t.is(h.sent.length, 0);
  t.is(h.faults.length, 0);
  t.is(h.produced.length, 1, 'once per episode');
  const m = h.produced[0]!;
  t.is(m.topic, 'tributary.notifications');
  t.is(m.messages[0]!.key, 'int-1');
  const v = JSON.parse(String(m.messages[0]!.value)) as Record<string, unknown>;
  t.deepEqual(Object.keys(v).sort(), ['appKey', 'integrationId', 'reason', 'time']);
  t.is(v.reason, 'HTTP 401 from https://h.example.com/x');
  t.regex(String(v.time), /^\d{4}-\d\d-\d\dT/);
  await svc.stop(100);
});

test('every non-misconfiguration failure goes to Sentry with the sink type from the state table', async (t) => {
  const h = await harness();
  h.rows.push({ integrationId: 'int-1', appKey: 'big-app', tier: 'large', sinkType: 'webhook', status: 'failing' });
  const svc = await h.make();
  await svc.scan();
  svc.report(report(h.clock.t, 'failure'));
  svc.report(report(h.clock.t, 'failure', { fingerprint: 'retryable|connect_server|connect|HTTP <n>' }));
  svc.report(report(h.clock.t, 'recovery'));
  await new Promise((r) => setImmediate(r));
  t.deepEqual(h.faults.map((f) => f.sinkType), ['webhook', 'connect']);
  t.like(h.faults[0], { integrationId: 'int-1', appKey: 'big-app', tier: 'large', errorClass: 'retryable' });
  await svc.stop(100);
});

test('a stalled large integration (backlog, no delivery) pages from the table scan and resolves on progress', async (t) => {
  const h = await harness({ stall: { afterMs: 20_000 } });
  const stuck: IntegrationRow = { integrationId: 'int-9', appKey: 'big', tier: 'large', sinkType: 'webhook', status: 'running', owner: 'n2', counters: { produced: 1000, delivered: 10 } };
  h.rows.push(stuck);
  const svc = await h.make();
  for (let s = 0; s <= 70; s += 10) {
    h.clock.t = 1_000_000 + s * 1000;
    await svc.scan();
    await svc.tick();
  }
  t.deepEqual(h.sent.map((p) => [p.action, p.dedupKey]), [['trigger', 'tributary:integration:int-9']]);
  stuck.counters = { produced: 1000, delivered: 1000 };
  for (let s = 80; s <= 100; s += 10) {
    h.clock.t = 1_000_000 + s * 1000;
    await svc.scan();
    await svc.tick();
  }
  t.deepEqual(h.sent.map((p) => p.action), ['trigger', 'resolve']);
  await svc.stop(100);
});
