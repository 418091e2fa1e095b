import test from 'ava';
import fc from 'fast-check';
import { ConfigError, type ErrorKind } from '../../../src/errors.js';
import { fleetDedupKey, integrationDedupKey, systemicDedupKey } from '../../../src/supervision/dedup-keys.js';
import { GuardianPolicy } from '../../../src/supervision/guardian-policy.js';
import type { GuardianPolicyConfigInput } from '../../../src/supervision/guardian-policy-config.js';
import type { FailureReport, FleetMember, PageAction, PolicyOutput, Tier } from '../../../src/supervision/guardian-types.js';

const T0 = Date.parse('2025-03-03T00:00:00.000Z');
const s = 1_000;
const min = 60 * s;

function failure(id: string, at: number, o: Partial<FailureReport> = {}): FailureReport {
  return {
    time: T0 + at,
    integrationId: id,
    appKey: o.appKey ?? `app-${id}`,
    tier: o.tier ?? 'large',
    kind: 'failure',
    errorClass: o.errorClass ?? 'retryable',
    fingerprint: o.fingerprint ?? 'retryable|sink_server|webhook|HTTP <n> from <url>',
    nodeId: o.nodeId,
    message: o.message,
  };
}
const recovery = (id: string, at: number, o: Partial<FailureReport> = {}): FailureReport => ({ ...failure(id, at, o), kind: 'recovery' });

/** Drives a policy like the guardian would: reports at their times, a tick every 10 s in between. */
class Driver {
  readonly policy: GuardianPolicy;
  readonly pages: PageAction[] = [];
  readonly notifications: PolicyOutput['notifications'] = [];
  private now = 0;
  constructor(config: GuardianPolicyConfigInput = {}) {
    this.policy = new GuardianPolicy(config);
  }
  private take(o: PolicyOutput): void {
    this.pages.push(...o.pages);
    this.notifications.push(...o.notifications);
  }
  /** Ticks every 10 s up to `at` (ms after T0). */
  until(at: number): this {
    for (let t = Math.ceil(this.now / 10_000) * 10_000; t <= at; t += 10_000) this.take(this.policy.evaluate(T0 + t));
    this.now = Math.max(this.now, at);
    return this;
  }
  report(r: FailureReport): this {
    this.until(r.time - T0);
    this.take(this.policy.report(r));
    return this;
  }
  /** Failure reports every `everyMs` (restarts) over [from, to), then a recovery at `to` unless omitted. */
  failing(id: string, from: number, to: number, o: Partial<FailureReport> & { everyMs?: number; recover?: boolean } = {}): this {
    for (let t = from; t < to; t += o.everyMs ?? 30 * s) this.report(failure(id, t, o));
    if (o.recover !== false) this.report(recovery(id, to, o));
    return this;
  }
  fleet(at: number, total: number, failing: readonly (string | FleetMember)[]): this {
    this.until(at);
    const members = failing.map((f) => (typeof f === 'string' ? { integrationId: f } : f));
    this.take(this.policy.observeFleet({ time: T0 + at, total, failing: members }));
    return this;
  }
  triggers(): PageAction[] {
    return this.pages.filter((p) => p.action === 'trigger');
  }
  resolves(): PageAction[] {
    return this.pages.filter((p) => p.action === 'resolve');
  }
}

const ids = (n: number, prefix = 'i'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

test('a large integration failing continuously for 5 min pages critical once, at the threshold', (t) => {
  const d = new Driver().failing('big', 0, 20 * min, { everyMs: 60 * s, recover: false }).until(20 * min);
  t.is(d.triggers().length, 1);
  const page = d.triggers()[0]!;
  t.is(page.time, T0 + 5 * min);
  t.is(page.severity, 'critical');
  t.is(page.dedupKey, 'tributary:integration:big');
  t.is(page.class, 'integration.large');
  t.is(page.component, 'big');
  t.is(page.group, 'app-big');
  t.regex(page.summary, /integration big failing for 5 min/);
  t.is(d.resolves().length, 0);
});

test('a large integration that recovers before 5 min never pages', (t) => {
  const d = new Driver().failing('big', 0, 4 * min + 50 * s, { everyMs: 10 * s }).until(30 * min);
  t.deepEqual(d.pages, []);
});

test('a page resolves resolveAfterMs after recovery, within 60 s', (t) => {
  const d = new Driver().failing('big', 0, 10 * min).until(20 * min);
  t.is(d.triggers().length, 1);
  t.is(d.resolves().length, 1);
  t.is(d.resolves()[0]!.time, T0 + 10 * min + 30 * s);
  t.is(d.resolves()[0]!.details.reason, 'integration recovered');
});

test('the large-tier rule can be switched off', (t) => {
  const d = new Driver({ tiers: { large: { enabled: false } } }).failing('big', 0, 30 * min).until(40 * min);
  t.deepEqual(d.pages, []);
});

test('a medium integration pages at 30 min with a lower severity, not at 29', (t) => {
  const short = new Driver().failing('mid', 0, 29 * min, { tier: 'medium', everyMs: 60 * s }).until(40 * min);
  t.deepEqual(short.pages, []);
  const long = new Driver().failing('mid', 0, 45 * min, { tier: 'medium', everyMs: 60 * s }).until(50 * min);
  t.deepEqual(long.triggers().map((p) => [p.time - T0, p.severity, p.class]), [[30 * min, 'error', 'integration.medium']]);
  t.is(long.resolves().length, 1);
});

test('small apps never page alone, however long they fail, unless configured to', (t) => {
  const d = new Driver().failing('tiny', 0, 10 * 60 * min, { tier: 'small', everyMs: 5 * min }).until(11 * 60 * min);
  t.deepEqual(d.pages, []);
  const on = new Driver({ tiers: { small: { enabled: true, failingForMs: 60 * min } } })
    .failing('tiny', 0, 2 * 60 * min, { tier: 'small', everyMs: 5 * min })
    .until(3 * 60 * min);
  t.deepEqual(on.triggers().map((p) => [p.time - T0, p.severity]), [[60 * min, 'warning']]);
});

test('a flap shorter than resolveAfterMs stays one episode: the clock keeps running and nothing re-pages', (t) => {
  const d = new Driver()
    .failing('big', 0, 3 * min) // recovers at 3 min …
    .failing('big', 3 * min + 20 * s, 4 * min) // … fails again 20 s later: same episode
    .failing('big', 4 * min + 10 * s, 12 * min, { recover: false })
    .until(12 * min);
  t.deepEqual(d.triggers().map((p) => p.time - T0), [5 * min], 'threshold counted from the first failure');
  t.is(d.policy.counters().flaps, 2);
  // Flapping while paged: brief recoveries neither resolve nor re-trigger.
  d.report(recovery('big', 12 * min)).failing('big', 12 * min + 25 * s, 14 * min).until(14 * min + 25 * s);
  t.is(d.triggers().length, 1);
  t.is(d.resolves().length, 0);
  d.until(15 * min);
  t.deepEqual(d.resolves().map((p) => p.time - T0), [14 * min + 30 * s]);
});

test('once resolved, the same key needs the full threshold again', (t) => {
  const d = new Driver().failing('big', 0, 6 * min).until(7 * min);
  t.is(d.triggers().length, 1);
  t.is(d.resolves().length, 1);
  d.failing('big', 8 * min, 12 * min + 50 * s).until(20 * min);
  t.is(d.triggers().length, 1, 'a new 4m50s episode does not page');
  d.failing('big', 21 * min, 27 * min).until(30 * min);
  t.deepEqual(d.triggers().map((p) => p.time - T0), [5 * min, 26 * min]);
});

test('a recovery stamped before the latest failure arrived late and ends nothing', (t) => {
  const d = new Driver().report(failure('big', 0)).report(failure('big', 2 * min)).report(recovery('big', 1 * min)).until(6 * min);
  t.is(d.triggers().length, 1);
});

test('misconfiguration never pages; it notifies the customer once per integration per episode', (t) => {
  const d = new Driver().failing('big', 0, 2 * 60 * min, { errorClass: 'misconfiguration', everyMs: 5 * min, message: 'sink returned 401' }).until(3 * 60 * min);
  t.deepEqual(d.pages, []);
  t.deepEqual(d.notifications, [{ integrationId: 'big', appKey: 'app-big', reason: 'sink returned 401', time: T0 }]);
  // A new episode after a real recovery notifies again; a flap does not.
  d.failing('big', 4 * 60 * min, 4 * 60 * min + 5 * min, { errorClass: 'misconfiguration' })
    .failing('big', 4 * 60 * min + 5 * min + 10 * s, 4 * 60 * min + 10 * min, { errorClass: 'misconfiguration' })
    .until(5 * 60 * min);
  t.is(d.notifications.length, 2);
  t.is(d.policy.counters().notifications, 2);
  const quiet = new Driver({ misconfiguration: { notify: false } }).failing('x', 0, 10 * min, { errorClass: 'misconfiguration' });
  t.deepEqual(quiet.notifications, []);
});

test('misconfiguration restarts the page clock; a fix that turns into an outage needs the full threshold', (t) => {
  const d = new Driver()
    .failing('big', 0, 20 * min, { errorClass: 'misconfiguration', everyMs: 60 * s, recover: false })
    .failing('big', 20 * min, 30 * min, { errorClass: 'retryable', everyMs: 60 * s, recover: false })
    .until(30 * min);
  t.deepEqual(d.triggers().map((p) => p.time - T0), [25 * min]);
});

test('node faults are counted, not paged, by the integration rules', (t) => {
  const d = new Driver().failing('big', 0, 20 * min, { errorClass: 'nodeFault', everyMs: 60 * s }).until(25 * min);
  t.deepEqual(d.pages, []);
  t.is(d.policy.counters().byKind.nodeFault, 20);
});

test('node faults neither start nor stop the page clock of an integration already failing', (t) => {
  const d = new Driver()
    .failing('big', 0, 3 * min, { everyMs: 60 * s, recover: false })
    .failing('big', 3 * min, 4 * min, { errorClass: 'nodeFault', everyMs: 30 * s, recover: false })
    .failing('big', 4 * min, 6 * min, { everyMs: 60 * s, recover: false })
    .until(6 * min);
  t.deepEqual(d.triggers().map((p) => p.time - T0), [5 * min]);
});

test('fleet: 10 % and at least 5 failing for 5 min pages once; 49 of 500 does not', (t) => {
  const run = (failing: number, total: number, forMs: number): Driver => {
    // Scans every 30 s while the failures last; the first clean scan at `forMs`.
    const d = new Driver();
    for (let at = 0; at < forMs; at += 30 * s) d.fleet(at, total, ids(failing));
    return d.fleet(forMs, total, []).until(forMs + 5 * min);
  };
  const at10 = run(50, 500, 8 * min);
  t.deepEqual(at10.triggers().map((p) => [p.time - T0, p.dedupKey, p.severity]), [[5 * min, 'tributary:fleet', 'critical']]);
  t.is(at10.triggers()[0]!.details.failing, 50);
  t.deepEqual(at10.resolves().map((p) => p.time - T0), [8 * min + 30 * s], 'clean scan at 8 min + resolveAfterMs');
  t.deepEqual(run(49, 500, 8 * min).pages, [], 'under 10 %');
  t.deepEqual(run(4, 40, 8 * min).pages, [], '10 % but fewer than 5 integrations');
  t.is(run(5, 40, 8 * min).triggers().length, 1, '5 of 40');
  t.deepEqual(run(100, 500, 4 * min + 50 * s).pages, [], 'shorter than 5 min');
  t.deepEqual(
    (() => {
      const d = new Driver({ fleet: { enabled: false } });
      for (let at = 0; at <= 10 * min; at += 30 * s) d.fleet(at, 500, ids(100));
      return d.pages;
    })(),
    [],
    'rule off',
  );
});

test('fleet: misconfigured integrations are not counted; node faults are', (t) => {
  const misconfigured = ids(60).map((integrationId) => ({ integrationId, errorClass: 'misconfiguration' as const }));
  const d = new Driver();
  for (let at = 0; at <= 10 * min; at += 30 * s) d.fleet(at, 500, misconfigured);
  t.deepEqual(d.pages, []);
  const nodes = ids(60).map((integrationId) => ({ integrationId, errorClass: 'nodeFault' as const, nodeId: 'node-03' }));
  const e = new Driver();
  for (let at = 0; at <= 6 * min; at += 30 * s) e.fleet(at, 500, nodes);
  t.is(e.triggers().length, 1);
  t.deepEqual(e.triggers()[0]!.details.byNode, { 'node-03': 60 });
});

test('fleet: a dip shorter than resolveAfterMs keeps the breach; a stale scan never pages', (t) => {
  const d = new Driver();
  for (let at = 0; at <= 3 * min; at += 30 * s) d.fleet(at, 100, ids(20));
  d.fleet(3 * min + 10 * s, 100, ids(3)); // 20 s dip
  for (let at = 3 * min + 30 * s; at <= 6 * min; at += 30 * s) d.fleet(at, 100, ids(20));
  t.deepEqual(d.triggers().map((p) => p.time - T0), [5 * min]);
  const stale = new Driver().fleet(0, 100, ids(20)).until(20 * min);
  t.deepEqual(stale.pages, [], 'one scan, then silence: the health scan stalled');
});

test('fleet: several nodes scanning the same table make the same dedup key and decision', (t) => {
  const a = new Driver({ source: 'prod-us' });
  const b = new Driver({ source: 'prod-us' });
  // Each node sees only its own integrations' reports, but both scan the same table.
  for (let at = 0; at <= 7 * min; at += 30 * s) {
    a.report(failure('n1-x', at, { tier: 'small' }));
    b.report(failure('n2-y', at + 10 * s, { tier: 'small' }));
    a.fleet(at + 15 * s, 100, ids(15));
    b.fleet(at + 15 * s, 100, ids(15));
  }
  t.is(a.triggers().length, 1);
  t.deepEqual(a.triggers().map((p) => [p.dedupKey, p.time]), b.triggers().map((p) => [p.dedupKey, p.time]));
  t.is(a.triggers()[0]!.dedupKey, fleetDedupKey('prod-us'));
  t.is(integrationDedupKey('prod-us', 'x'), 'prod-us:integration:x');
  t.is(systemicDedupKey('prod-us', 'fatal|bug|x'), systemicDedupKey('prod-us', 'fatal|bug|x'));
  t.not(systemicDedupKey('prod-us', 'fatal|bug|x'), systemicDedupKey('prod-us', 'fatal|bug|y'));
});

test('an integration covered by a fleet breach does not page on its own, and pages if it outlasts the fleet', (t) => {
  const d = new Driver();
  d.report(failure('big', 0));
  const scan = (from: number, to: number, members: string[]): void => {
    for (let at = from; at <= to; at += 30 * s) {
      d.report(failure('big', at + 1));
      d.fleet(at + 2, 100, members);
    }
  };
  scan(0, 10 * min, ['big', ...ids(19)]);
  t.deepEqual(d.triggers().map((p) => [p.dedupKey, p.time - T0]), [['tributary:fleet', 5 * min + 2]]);
  t.is(d.policy.counters().suppressed, 1);
  scan(10 * min + 30 * s, 12 * min, ['big']);
  t.deepEqual(d.triggers().map((p) => [p.dedupKey, p.time - T0]), [
    ['tributary:fleet', 5 * min + 2],
    ['tributary:integration:big', 11 * min + 2],
  ], 'the fleet resolves 30 s after the first clean scan; the large integration still fails: it pages now');
  const off = new Driver({ suppression: { duringFleet: false } });
  for (let at = 0; at <= 6 * min; at += 30 * s) {
    off.report(failure('big', at));
    off.fleet(at, 100, ['big', ...ids(19)]);
  }
  t.is(off.triggers().length, 2);
});

const bug = "fatal|bug|TypeError: Cannot read properties of undefined (reading 'offset')";

test('systemic: one fingerprint in 10 apps within 10 min pages at the 10th app; 9 do not', (t) => {
  const d = new Driver();
  for (let i = 0; i < 10; i += 1) d.report(failure(`i${i}`, i * 30 * s, { tier: 'small', errorClass: 'fatal', fingerprint: bug }));
  t.deepEqual(d.triggers().map((p) => [p.time - T0, p.class, p.dedupKey]), [[9 * 30 * s, 'systemic', systemicDedupKey('tributary', bug)]]);
  t.is(d.triggers()[0]!.details.apps, 10);
  const nine = new Driver();
  for (let i = 0; i < 9; i += 1) nine.report(failure(`i${i}`, i * 30 * s, { tier: 'small', errorClass: 'fatal', fingerprint: bug }));
  nine.until(30 * min);
  t.deepEqual(nine.pages, []);
});

test('systemic: counts distinct apps, within the window, of bug classes only', (t) => {
  const sameApp = new Driver();
  for (let i = 0; i < 20; i += 1) sameApp.report(failure(`i${i}`, i * s, { tier: 'small', errorClass: 'fatal', fingerprint: bug, appKey: 'one-app' }));
  t.deepEqual(sameApp.triggers(), [], '20 integrations of one app');
  const slow = new Driver();
  for (let i = 0; i < 10; i += 1) slow.failing(`i${i}`, i * 70 * s, i * 70 * s + 20 * s, { tier: 'small', errorClass: 'fatal', fingerprint: bug });
  slow.until(30 * min);
  t.deepEqual(slow.pages, [], '10 apps, but spread over 10.5 min');
  const transient = new Driver();
  for (let i = 0; i < 30; i += 1) transient.report(failure(`i${i}`, i * s, { tier: 'small', fingerprint: 'retryable|sink_server|x' }));
  t.deepEqual(transient.pages, [], 'a shared transient error is the fleet rule’s business');
  const off = new Driver({ systemic: { enabled: false } });
  for (let i = 0; i < 10; i += 1) off.report(failure(`i${i}`, i * s, { tier: 'small', errorClass: 'fatal', fingerprint: bug }));
  t.deepEqual(off.pages, []);
});

test('systemic: resolves once every affected integration recovered, and needs the full threshold again', (t) => {
  const d = new Driver();
  const opts = { tier: 'small', errorClass: 'fatal', fingerprint: bug } as const;
  for (let i = 0; i < 12; i += 1) d.report(failure(`i${i}`, i * 10 * s, opts));
  for (let i = 0; i < 12; i += 1) d.report(recovery(`i${i}`, 8 * min + i * s, opts));
  t.is(d.triggers().length, 1);
  t.is(d.resolves().length, 0, 'the last one recovered at 8:11');
  d.until(10 * min);
  // Clear from 8:11; resolveAfterMs later, at the next 10 s tick.
  t.deepEqual(d.resolves().map((p) => p.time - T0), [8 * min + 50 * s]);
  t.is(d.resolves()[0]!.details.reason, 'every affected integration recovered');
  d.report(failure('i0', 11 * min, { tier: 'small', errorClass: 'fatal', fingerprint: bug })).until(12 * min);
  t.is(d.triggers().length, 1, 'one app again is not ten');
});

test('systemic: resolves after 10 quiet minutes when recoveries never arrive', (t) => {
  const d = new Driver({ reconcile: { enabled: false } });
  for (let i = 0; i < 10; i += 1) d.report(failure(`i${i}`, i * s, { tier: 'small', errorClass: 'fatal', fingerprint: bug }));
  d.until(30 * min);
  t.deepEqual(d.resolves().map((p) => [p.time - T0, p.details.reason]), [[9 * s + 10 * min + 1 * s, 'not seen for 10 min']]);
});

test('an integration whose fingerprint has a systemic page does not page on its own', (t) => {
  const d = new Driver();
  for (let i = 0; i < 10; i += 1) d.report(failure(`i${i}`, i * s, { tier: 'small', errorClass: 'fatal', fingerprint: bug }));
  d.failing('big', 0, 8 * min, { errorClass: 'fatal', fingerprint: bug, everyMs: 20 * s, appKey: 'app-i0' });
  t.deepEqual(d.triggers().map((p) => p.class), ['systemic']);
  t.is(d.policy.counters().suppressed, 1);
});

test('a recovery seen only in the state table ends the episode after the grace period', (t) => {
  const d = new Driver().failing('big', 0, 7 * min, { recover: false }); // last report at 6:30
  t.is(d.triggers().length, 1);
  d.fleet(7 * min, 100, ['big']);
  d.fleet(8 * min, 100, []); // moved to another node and recovered there; 1.5 min after the last report
  d.until(9 * min);
  t.is(d.resolves().length, 0, 'inside the grace period');
  d.fleet(9 * min, 100, []).until(10 * min);
  t.deepEqual(d.resolves().map((p) => p.time - T0), [9 * min + 30 * s]);
});

test('a bad config names the key', (t) => {
  const err = t.throws(() => new GuardianPolicy({ fleet: { minRatio: 2 }, tiers: { large: { severity: 'loud' as never } } } as GuardianPolicyConfigInput), { instanceOf: ConfigError });
  t.regex(err!.message, /fleet\.minRatio/);
  t.regex(err!.message, /tiers\.large\.severity/);
  t.throws(() => new GuardianPolicy({ nope: 1 } as never), { message: /nope: unknown key/ });
});

test('defaults match docs/alerting.md', (t) => {
  const c = new GuardianPolicy().config;
  t.is(c.tiers.large.failingForMs, 5 * min);
  t.is(c.tiers.medium.failingForMs, 30 * min);
  t.false(c.tiers.small.enabled);
  t.is(c.fleet.minRatio, 0.1);
  t.is(c.fleet.minFailing, 5);
  t.is(c.fleet.failingForMs, 5 * min);
  t.is(c.systemic.minApps, 10);
  t.is(c.systemic.windowMs, 10 * min);
  t.is(c.systemic.quietMs, 10 * min);
  t.true(c.resolveAfterMs < 60 * s);
});

// ---- property: whatever happens, pages alternate trigger → resolve per key, and all resolve in the end

const kinds: ErrorKind[] = ['retryable', 'permanent', 'misconfiguration', 'nodeFault', 'fatal'];
const tierList: Tier[] = ['small', 'medium', 'large'];
const command = fc.oneof(
  fc.record({ type: fc.constant('fail' as const), id: fc.nat(7), dt: fc.nat(40_000), kind: fc.constantFrom(...kinds), fp: fc.nat(2) }),
  fc.record({ type: fc.constant('recover' as const), id: fc.nat(7), dt: fc.nat(40_000) }),
  fc.record({ type: fc.constant('tick' as const), dt: fc.nat(60_000) }),
  fc.record({ type: fc.constant('fleet' as const), dt: fc.nat(40_000), failing: fc.uniqueArray(fc.nat(7)), total: fc.integer({ min: 0, max: 12 }) }),
);
const fastConfig: GuardianPolicyConfigInput = {
  resolveAfterMs: 20_000,
  tiers: { large: { failingForMs: 60_000 }, medium: { failingForMs: 120_000 }, small: { enabled: true, failingForMs: 180_000 } },
  fleet: { minFailing: 2, minRatio: 0.3, failingForMs: 60_000 },
  systemic: { minApps: 2, windowMs: 120_000, quietMs: 120_000, kinds: ['fatal', 'retryable'] },
  reconcile: { graceMs: 30_000 },
};

test('property: per dedup key, pages alternate trigger → resolve, and every page resolves once all is well', (t) => {
  fc.assert(
    fc.property(fc.array(command, { maxLength: 200 }), fc.boolean(), (commands, suppress) => {
      const policy = new GuardianPolicy({ ...fastConfig, suppression: { duringFleet: suppress, duringSystemic: suppress } });
      const pages: PageAction[] = [];
      let now = T0;
      const meta = (id: number) => ({ integrationId: `i${id}`, appKey: `a${id % 5}`, tier: tierList[id % 3]! });
      for (const c of commands) {
        now += c.dt;
        if (c.type === 'fail') {
          pages.push(...policy.report({ ...meta(c.id), time: now, kind: 'failure', errorClass: c.kind, fingerprint: `fp${c.fp}` }).pages);
        } else if (c.type === 'recover') {
          pages.push(...policy.report({ ...meta(c.id), time: now, kind: 'recovery', errorClass: 'retryable', fingerprint: 'fp0' }).pages);
        } else if (c.type === 'tick') {
          pages.push(...policy.evaluate(now).pages);
        } else {
          const failing = c.failing.map((id) => ({ ...meta(id), errorClass: 'fatal' as const, fingerprint: `fp${id % 3}` }));
          pages.push(...policy.observeFleet({ time: now, total: c.total, failing }).pages);
        }
      }
      // Everything recovers and the table empties: every open page must resolve.
      for (let id = 0; id <= 7; id += 1) pages.push(...policy.report({ ...meta(id), time: now, kind: 'recovery', errorClass: 'retryable', fingerprint: 'fp0' }).pages);
      for (let k = 1; k <= 10; k += 1) pages.push(...policy.observeFleet({ time: now + k * 60_000, total: 8, failing: [] }).pages);

      const open = new Set<string>();
      let last = Number.NEGATIVE_INFINITY;
      for (const p of pages) {
        if (p.action === 'trigger') {
          if (open.has(p.dedupKey)) return false; // two triggers without a resolve between
          open.add(p.dedupKey);
        } else {
          if (!open.has(p.dedupKey)) return false; // a resolve without a trigger
          open.delete(p.dedupKey);
        }
        if (p.time < last) return false;
        last = p.time;
      }
      return open.size === 0 && policy.openPages().length === 0;
    }),
    { numRuns: 500 },
  );
  t.pass();
});
