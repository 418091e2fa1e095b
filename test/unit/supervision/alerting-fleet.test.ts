import test from 'ava';
import type { IntegrationRow } from '../../../src/state/state-store.js';
import { fleetSnapshot, StallDetector, stallFingerprint } from '../../../src/supervision/alerting-fleet.js';

const row = (id: string, over: Partial<IntegrationRow> = {}): IntegrationRow => ({
  integrationId: id,
  appKey: `app-${id}`,
  tier: 'large',
  sinkType: 'webhook',
  status: 'running',
  owner: 'node-1',
  counters: { produced: 100, delivered: 100 },
  ...over,
});

test('the snapshot counts every live integration and lists failing and misconfigured rows', (t) => {
  const at = '2025-01-01T00:00:00.000Z';
  const rows = [
    row('a'),
    row('b', { status: 'failing', lastErrors: [{ class: 'retryable', code: 'sink_server', message: 'x', fingerprint: 'fp-b', at }] }),
    row('c', { status: 'misconfigured', lastErrors: [{ class: 'retryable', code: 'x', message: 'x', fingerprint: 'fp-c', at }] }),
    row('d', { status: 'paused' }),
    row('e', { status: 'deleted' }),
    row('f', { status: 'rejected' }),
  ];
  const s = fleetSnapshot(rows, Date.parse(at) + 1000);
  t.is(s.total, 4);
  t.deepEqual(s.failing.map((m) => [m.integrationId, m.errorClass, m.fingerprint]), [
    ['b', 'retryable', 'fp-b'],
    ['c', 'misconfiguration', 'fp-c'],
  ]);
  t.is(s.failing[0]!.lastFailureAt, Date.parse(at));
});

test('a backlog without delivery progress for afterMs is a stall, stamped when progress stopped; progress recovers it', (t) => {
  const d = new StallDetector(10_000);
  const stuck = (delivered: number) => [row('a', { counters: { produced: 500, delivered } }), row('b')];
  t.deepEqual(d.observe(stuck(100), 0).reports, []);
  t.deepEqual(d.observe(stuck(100), 5_000).reports, []);
  const r = d.observe(stuck(100), 12_000);
  t.is(r.reports.length, 1);
  t.like(r.reports[0], { integrationId: 'a', kind: 'failure', errorClass: 'retryable', time: 0, tier: 'large', fingerprint: stallFingerprint('webhook') });
  t.deepEqual(r.stalled.map((m) => m.integrationId), ['a']);
  const again = d.observe(stuck(100), 20_000);
  t.like(again.reports[0], { kind: 'failure', time: 20_000 });
  const rec = d.observe(stuck(150), 25_000);
  t.like(rec.reports[0], { integrationId: 'a', kind: 'recovery', time: 25_000 });
  t.deepEqual(rec.stalled, []);
});

test('an idle integration (no backlog) and a failing row are never stalls', (t) => {
  const d = new StallDetector(1_000);
  const rows = [row('idle'), row('f', { status: 'failing', counters: { produced: 10, delivered: 0 } })];
  for (const now of [0, 5_000, 10_000]) t.deepEqual(d.observe(rows, now).reports, []);
});
