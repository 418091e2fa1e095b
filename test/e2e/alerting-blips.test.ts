// A real run of intermittent trouble: twenty small apps whose Connect streams blip (refused with
// 503 twice, then one stream cut mid-way) through a node with alerting, a loopback PagerDuty,
// a loopback Sentry and a StatsD listener. Nobody is paged; Sentry receives a few events per
// fingerprint, grouped (one issue per kind of blip, not one per app); every event arrives.
import test from 'ava';
import { e2eAlerting, startFixture, startInProcessNode } from '../helpers/pipeline.js';
import { startPagerDutyReceiver } from '../helpers/pagerduty-receiver.js';
import { startSentryReceiver } from '../helpers/sentry-receiver.js';
import { startStatsdListener } from '../helpers/statsd-listener.js';
import { eventually, testDynamo, uniq } from '../helpers/infra.js';
import { StateStore } from '../../src/state/state-store.js';

const apps = 20;
const perApp = 200;

test('twenty small apps whose Connect streams blip page nobody; Sentry gets grouped events; nothing is lost', async (t) => {
  const f = await startFixture(Array.from({ length: apps }, () => ({ size: 'small' as const, totalEvents: perApp, rate: 100 })));
  t.teardown(() => f.close());
  const [pd, sentry, statsd] = await Promise.all([startPagerDutyReceiver(), startSentryReceiver(), startStatsdListener()]);
  t.teardown(() => Promise.all([pd.close(), sentry.close(), statsd.close()]));
  const source = uniq('blips');
  const fleetThresholdMs = 15_000;
  f.nodeConfig.metrics = { enabled: true, port: statsd.port, bufferFlushIntervalMs: 100 };
  f.nodeConfig.sentry = { dsn: sentry.dsn, environment: 'e2e', maxEventsPerFingerprintPerMinute: 5 };
  // Every integration blips at once (20 of 20 ≥ 10 % and ≥ 5): only the duration keeps the fleet rule quiet.
  f.nodeConfig.alerting = e2eAlerting(source, pd.url, { fleet: { failingForMs: fleetThresholdMs }, tiers: { large: { failingForMs: 3_000 } } });
  // Each app: its first two requests refused (503), then its first stream cut after 40 events.
  for (const s of f.specs) f.emulator.setFault(s.app.key, { status: { code: 503, count: 2 }, truncateAfterEvents: 40, truncateMode: 'reset', connections: 1 });
  const startedAt = Date.now();
  const node = await startInProcessNode(f);
  t.teardown(() => node.shutdown(10_000));

  await f.receiver.waitForDelivered(apps * perApp, 90_000);
  const delivered = new Set(f.receiver.delivered());
  for (let i = 0; i < apps; i++) {
    const missing = f.emulator.events(f.specs[i]!.app.key).filter((e) => !delivered.has(e.id));
    t.is(missing.length, 0, `app ${i}: every event delivered`);
  }
  t.is(f.receiver.delivered().length, apps * perApp, 'no duplicate');

  // Every blip was reported as a failure: one degradation episode per app at least (the 503s).
  await statsd.waitFor((l) => l.sum('tributary.supervision.degraded', { role: 'source' }) >= apps, 15_000, 'supervision.degraded');
  t.true(statsd.sum('tributary.source.reconnects') >= apps * 3, 'two refusals and one cut stream per app');
  t.true(statsd.sum('tributary.alerting.sentry_events', { outcome: 'rate_limited' }) >= apps - 5, 'most blips rate-limited before Sentry');

  // Past the fleet threshold from the start: still no page, and every row is running again.
  const state = new StateStore(testDynamo(), f.table);
  await eventually(async () => {
    const rows = await Promise.all(f.specs.map((s) => state.get(s.id)));
    return rows.every((r) => r?.status === 'running') ? true : undefined;
  }, 30_000, 'every integration running again');
  await new Promise((r) => setTimeout(r, Math.max(0, startedAt + fleetThresholdMs + 3_000 - Date.now())));
  t.is(pd.events.length, 0, 'nobody paged');

  // Sentry: one group per kind of blip, each bounded by the per-fingerprint budget (5/min).
  await sentry.waitForEvents(5, 20_000);
  await node.shutdown(10_000); // flushes what Sentry has queued
  const all = sentry.events();
  const groups = new Map<string, number>();
  for (const e of all) groups.set(JSON.stringify(e.fingerprint), (groups.get(JSON.stringify(e.fingerprint)) ?? 0) + 1);
  t.log(`Sentry: ${all.length} events in ${groups.size} groups: ${[...groups].map(([k, n]) => `${n}× ${k}`).join('; ')}`);
  t.true(all.length < apps, 'aggregated: fewer events than apps blipping');
  t.true(groups.size <= 3, 'one group per kind of blip');
  for (const n of groups.values()) t.true(n <= 5, 'per-fingerprint rate limit');
  t.truthy([...groups.keys()].find((k) => k.includes('connect_server')), 'the refusals are one Sentry group');
  for (const e of all) t.like(e.tags, { tier: 'small', sink: 'connect', class: 'retryable' });
});
