// The guardian's paging policy (ARCHITECTURE.md §3): a pure, deterministic state machine that
// turns failure reports and fleet snapshots into pages and customer notifications. No I/O, no
// timers: time comes in with every call, so a simulator, a test and the actor drive it alike.
import type { ErrorKind } from '../errors.js';
import { ErrorKind as Kinds } from '../errors.js';
import { fleetDedupKey, fingerprintHash, integrationDedupKey, systemicDedupKey } from './dedup-keys.js';
import {
  parseGuardianPolicyConfig,
  type GuardianPolicyConfig,
  type GuardianPolicyConfigInput,
} from './guardian-policy-config.js';
import {
  PageRule,
  type CustomerNotification,
  type FailureReport,
  type FleetMember,
  type FleetSnapshot,
  type PageAction,
  type PolicyCounters,
  type PolicyOutput,
  type Tier,
} from './guardian-types.js';

/**
 * One integration's failure episode. It starts at the first failure report and is
 * "failing continuously" until a recovery report; it ends only after the integration has
 * stayed healthy for `resolveAfterMs`. A failure inside that window continues the same
 * episode (a flap), so its clock keeps running and a page stays one page.
 */
interface Episode {
  readonly integrationId: string;
  appKey: string;
  tier: Tier;
  nodeId: string | undefined;
  readonly startedAt: number;
  lastFailureAt: number;
  /** Set while healthy inside the resolve window; undefined while failing. */
  recoveredAt: number | undefined;
  /**
   * Start of the current run of page-worthy failures. Misconfiguration clears it (the
   * customer must act, nobody is paged); node faults neither start nor stop it (the node
   * exits and another takes the integration over — the integration's trouble continues).
   */
  pageableSince: number | undefined;
  lastErrorClass: ErrorKind;
  lastFingerprint: string;
  failures: number;
  flaps: number;
  notified: boolean;
  suppressionCounted: boolean;
}

export interface EpisodeView {
  readonly integrationId: string;
  readonly appKey: string;
  readonly tier: Tier;
  readonly status: 'failing' | 'recovering';
  readonly startedAt: number;
  readonly lastFailureAt: number;
  readonly recoveredAt: number | undefined;
  readonly pageableSince: number | undefined;
  readonly lastErrorClass: ErrorKind;
  readonly lastFingerprint: string;
  readonly failures: number;
}

interface FleetState {
  last: { time: number; total: number; counted: readonly FleetMember[]; failing: readonly FleetMember[]; ids: ReadonlySet<string> } | undefined;
  /** First snapshot of the current breach (kept through dips shorter than resolveAfterMs). */
  breachSince: number | undefined;
  /** First snapshot below the thresholds while a breach is open. */
  clearSince: number | undefined;
  /** Every integration counted during the current breach: the ones the fleet page covers. */
  members: Set<string>;
}

interface SystemicState {
  readonly fingerprint: string;
  /** Latest occurrence per integration (bounded by the number of integrations). */
  readonly occurrences: Map<string, { appKey: string; tier: Tier | undefined; time: number }>;
  firstSeenAt: number;
  lastOccurrenceAt: number;
  clearSince: number | undefined;
}

const minutes = (ms: number): string => {
  const m = ms / 60_000;
  return Number.isInteger(m) ? `${m} min` : `${(ms / 1_000).toFixed(0)} s`;
};
const iso = (t: number): string => new Date(t).toISOString();
const clip = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

function zeroCounters(): PolicyCounters {
  return {
    reports: 0,
    failures: 0,
    recoveries: 0,
    flaps: 0,
    byKind: Object.fromEntries(Object.values(Kinds).map((k) => [k, 0])) as Record<ErrorKind, number>,
    suppressed: 0,
    triggers: 0,
    resolves: 0,
    notifications: 0,
  };
}

function tally<T>(items: readonly T[], key: (t: T) => string | undefined, top = Infinity): Record<string, number> {
  const counts = new Map<string, number>();
  for (const it of items) {
    const k = key(it) ?? 'unknown';
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, top));
}

export class GuardianPolicy {
  readonly config: GuardianPolicyConfig;
  private clock = Number.NEGATIVE_INFINITY;
  private readonly episodes = new Map<string, Episode>();
  /** Open pages by dedup key: the single place that guarantees trigger → resolve alternation. */
  private readonly open = new Map<string, PageAction>();
  private readonly fleet: FleetState = { last: undefined, breachSince: undefined, clearSince: undefined, members: new Set() };
  private readonly systemic = new Map<string, SystemicState>();
  private readonly tallies = zeroCounters();
  private pending: { pages: PageAction[]; notifications: CustomerNotification[] } = { pages: [], notifications: [] };

  constructor(config: GuardianPolicyConfigInput | GuardianPolicyConfig = {}) {
    this.config = parseGuardianPolicyConfig(config);
  }

  /** Consumes one failure or recovery report (in arrival order) and evaluates at its time. */
  report(r: FailureReport): PolicyOutput {
    this.tallies.reports += 1;
    if (r.kind === 'failure') this.onFailure(r);
    else this.onRecovery(r);
    return this.evaluate(r.time);
  }

  /** Consumes one scan of the state table (cluster-wide) and evaluates at its time. */
  observeFleet(s: FleetSnapshot): PolicyOutput {
    const kinds = new Set(this.config.fleet.kinds);
    const counted = s.failing.filter((m) => m.errorClass === undefined || kinds.has(m.errorClass));
    const ids = new Set(s.failing.map((m) => m.integrationId));
    this.fleet.last = { time: s.time, total: s.total, counted, failing: s.failing, ids };
    if (this.fleetBreached(counted.length, s.total)) {
      this.fleet.breachSince ??= s.time;
      this.fleet.clearSince = undefined;
      for (const m of counted) this.fleet.members.add(m.integrationId);
    } else if (this.fleet.breachSince !== undefined) {
      this.fleet.clearSince ??= s.time;
    }
    if (this.config.reconcile.enabled) {
      // A recovery reported to another node's guardian never reaches this one; the state
      // table does. Only after a grace period, so a scan older than the report cannot win.
      for (const ep of this.episodes.values()) {
        if (ep.recoveredAt === undefined && !ids.has(ep.integrationId) && s.time - ep.lastFailureAt >= this.config.reconcile.graceMs) {
          ep.recoveredAt = s.time;
        }
      }
    }
    if (this.config.systemic.enabled) {
      const sysKinds = new Set(this.config.systemic.kinds);
      for (const m of s.failing) {
        if (m.fingerprint !== undefined && m.appKey !== undefined && m.errorClass !== undefined && sysKinds.has(m.errorClass)) {
          this.recordOccurrence(m.fingerprint, m.integrationId, m.appKey, m.tier, m.lastFailureAt ?? s.time);
        }
      }
    }
    return this.evaluate(s.time);
  }

  /** The periodic tick: applies every time-based rule as of `now` (epoch ms). */
  evaluate(now: number): PolicyOutput {
    this.clock = Math.max(this.clock, now);
    const t = this.clock;
    this.endRecoveredEpisodes(t);
    this.evaluateFleet(t);
    this.evaluateSystemic(t);
    this.evaluateIntegrations(t);
    const out = this.pending;
    this.pending = { pages: [], notifications: [] };
    return out;
  }

  /** Pages currently open (their trigger actions), for `/status` and tests. */
  openPages(): PageAction[] {
    return [...this.open.values()];
  }

  episodesView(): EpisodeView[] {
    return [...this.episodes.values()].map((e) => ({
      integrationId: e.integrationId,
      appKey: e.appKey,
      tier: e.tier,
      status: e.recoveredAt === undefined ? 'failing' : 'recovering',
      startedAt: e.startedAt,
      lastFailureAt: e.lastFailureAt,
      recoveredAt: e.recoveredAt,
      pageableSince: e.pageableSince,
      lastErrorClass: e.lastErrorClass,
      lastFingerprint: e.lastFingerprint,
      failures: e.failures,
    }));
  }

  counters(): PolicyCounters {
    return { ...this.tallies, byKind: { ...this.tallies.byKind } };
  }

  private onFailure(r: FailureReport): void {
    const c = this.config;
    this.tallies.failures += 1;
    this.tallies.byKind[r.errorClass] += 1;
    let ep = this.episodes.get(r.integrationId);
    if (ep === undefined) {
      ep = {
        integrationId: r.integrationId,
        appKey: r.appKey,
        tier: r.tier,
        nodeId: r.nodeId,
        startedAt: r.time,
        lastFailureAt: r.time,
        recoveredAt: undefined,
        pageableSince: undefined,
        lastErrorClass: r.errorClass,
        lastFingerprint: r.fingerprint,
        failures: 0,
        flaps: 0,
        notified: false,
        suppressionCounted: false,
      };
      this.episodes.set(r.integrationId, ep);
    } else if (ep.recoveredAt !== undefined) {
      // Failed again before the resolve window passed: the same episode continues.
      ep.recoveredAt = undefined;
      ep.flaps += 1;
      this.tallies.flaps += 1;
    }
    ep.appKey = r.appKey;
    ep.tier = r.tier;
    ep.nodeId = r.nodeId ?? ep.nodeId;
    ep.lastFailureAt = Math.max(ep.lastFailureAt, r.time);
    ep.lastErrorClass = r.errorClass;
    ep.lastFingerprint = r.fingerprint;
    ep.failures += 1;
    if (c.pageableKinds.includes(r.errorClass)) ep.pageableSince ??= r.time;
    else if (r.errorClass === 'misconfiguration') ep.pageableSince = undefined;

    if (r.errorClass === 'misconfiguration' && c.misconfiguration.notify && !ep.notified) {
      ep.notified = true;
      this.tallies.notifications += 1;
      this.pending.notifications.push({
        integrationId: r.integrationId,
        appKey: r.appKey,
        reason: r.message ?? r.fingerprint,
        time: r.time,
      });
    }
    if (c.systemic.enabled && c.systemic.kinds.includes(r.errorClass)) {
      this.recordOccurrence(r.fingerprint, r.integrationId, r.appKey, r.tier, r.time);
    }
  }

  private onRecovery(r: FailureReport): void {
    this.tallies.recoveries += 1;
    const ep = this.episodes.get(r.integrationId);
    // A recovery stamped before the episode's latest failure arrived late: it ends nothing.
    if (ep !== undefined && ep.recoveredAt === undefined && r.time >= ep.lastFailureAt) ep.recoveredAt = r.time;
  }

  private recordOccurrence(fp: string, integrationId: string, appKey: string, tier: Tier | undefined, time: number): void {
    let st = this.systemic.get(fp);
    if (st === undefined) {
      st = { fingerprint: fp, occurrences: new Map(), firstSeenAt: time, lastOccurrenceAt: time, clearSince: undefined };
      this.systemic.set(fp, st);
    }
    const prev = st.occurrences.get(integrationId);
    if (prev === undefined || prev.time <= time) st.occurrences.set(integrationId, { appKey, tier, time });
    st.lastOccurrenceAt = Math.max(st.lastOccurrenceAt, time);
  }

  private fleetBreached(failing: number, total: number): boolean {
    const f = this.config.fleet;
    // Integer comparison: 50 of 500 at 10 % must breach, whatever 0.1 × 500 rounds to.
    return total > 0 && failing >= f.minFailing && failing * 1_000_000 >= Math.round(f.minRatio * 1_000_000) * total;
  }

  private endRecoveredEpisodes(now: number): void {
    for (const [id, ep] of this.episodes) {
      if (ep.recoveredAt !== undefined && now - ep.recoveredAt >= this.config.resolveAfterMs) {
        this.episodes.delete(id);
        this.resolve(integrationDedupKey(this.config.source, id), now, {
          reason: 'integration recovered',
          recoveredAt: iso(ep.recoveredAt),
        });
      }
    }
  }

  private evaluateFleet(now: number): void {
    const f = this.config.fleet;
    const st = this.fleet;
    if (!f.enabled) return;
    if (st.clearSince !== undefined && now - st.clearSince >= this.config.resolveAfterMs) {
      this.resolve(fleetDedupKey(this.config.source), now, { reason: 'fleet below thresholds', clearSince: iso(st.clearSince) });
      st.breachSince = undefined;
      st.clearSince = undefined;
      st.members.clear();
    }
    const last = st.last;
    if (
      st.breachSince === undefined ||
      st.clearSince !== undefined ||
      now - st.breachSince < f.failingForMs ||
      last === undefined ||
      now - last.time > f.snapshotMaxAgeMs
    ) {
      return;
    }
    const key = fleetDedupKey(this.config.source);
    if (this.open.has(key)) return;
    const n = last.counted.length;
    const pct = ((100 * n) / last.total).toFixed(1);
    const topFp = Object.keys(tally(last.counted, (m) => m.fingerprint, 1))[0];
    this.trigger({
      dedupKey: key,
      severity: f.severity,
      summary: clip(
        `Fleet: ${n} of ${last.total} integrations (${pct}%) failing for ${minutes(now - st.breachSince)}` +
          (topFp && topFp !== 'unknown' ? ` — most common error: ${topFp}` : ''),
        1_000,
      ),
      time: now,
      component: 'fleet',
      group: 'fleet',
      class: PageRule.fleet,
      details: {
        rule: PageRule.fleet,
        failing: n,
        total: last.total,
        ratio: n / last.total,
        breachSince: iso(st.breachSince),
        thresholds: { minRatio: f.minRatio, minFailing: f.minFailing, failingForMs: f.failingForMs },
        byTier: tally(last.counted, (m) => m.tier),
        byErrorClass: tally(last.counted, (m) => m.errorClass),
        byNode: tally(last.counted, (m) => m.nodeId, 10),
        topFingerprints: tally(last.counted, (m) => m.fingerprint, 5),
        integrations: last.counted.slice(0, this.config.maxListedIntegrations).map((m) => m.integrationId),
      },
    });
  }

  private evaluateSystemic(now: number): void {
    const s = this.config.systemic;
    if (!s.enabled) return;
    const fresh = this.fleet.last !== undefined && now - this.fleet.last.time <= this.config.fleet.snapshotMaxAgeMs;
    for (const [fp, st] of this.systemic) {
      for (const [id, o] of st.occurrences) if (o.time < now - s.windowMs) st.occurrences.delete(id);
      const key = systemicDedupKey(this.config.source, fp);
      if (this.open.has(key)) {
        const stillFailing =
          [...this.episodes.values()].some((e) => e.recoveredAt === undefined && e.lastFingerprint === fp) ||
          (fresh && this.fleet.last!.failing.some((m) => m.fingerprint === fp));
        if (stillFailing) st.clearSince = undefined;
        else st.clearSince ??= now;
        const cleared = st.clearSince !== undefined && now - st.clearSince >= this.config.resolveAfterMs;
        const quiet = now - st.lastOccurrenceAt >= s.quietMs;
        if (cleared || quiet) {
          this.resolve(key, now, {
            reason: cleared ? 'every affected integration recovered' : `not seen for ${minutes(s.quietMs)}`,
          });
          // Forget the window: after a resolve the full threshold is needed again.
          this.systemic.delete(fp);
        }
        continue;
      }
      const occ = [...st.occurrences.entries()].map(([integrationId, o]) => ({ integrationId, ...o }));
      const apps = new Set(occ.map((o) => o.appKey));
      if (apps.size >= s.minApps) {
        this.trigger({
          dedupKey: key,
          severity: s.severity,
          summary: clip(`Systemic bug: one error in ${apps.size} apps (${occ.length} integrations) within ${minutes(s.windowMs)}: ${fp}`, 1_000),
          time: now,
          component: `fingerprint:${fingerprintHash(fp)}`,
          group: 'fleet',
          class: PageRule.systemic,
          details: {
            rule: PageRule.systemic,
            fingerprint: fp,
            apps: apps.size,
            integrationsAffected: occ.length,
            firstSeenAt: iso(st.firstSeenAt),
            thresholds: { minApps: s.minApps, windowMs: s.windowMs },
            byTier: tally(occ, (o) => o.tier),
            integrations: occ.slice(0, this.config.maxListedIntegrations).map((o) => o.integrationId),
          },
        });
      } else if (st.occurrences.size === 0) {
        this.systemic.delete(fp);
      }
    }
  }

  private evaluateIntegrations(now: number): void {
    for (const ep of this.episodes.values()) {
      if (ep.recoveredAt !== undefined || ep.pageableSince === undefined) continue;
      const rule = this.config.tiers[ep.tier];
      if (!rule.enabled || now - ep.pageableSince < rule.failingForMs) continue;
      const key = integrationDedupKey(this.config.source, ep.integrationId);
      if (this.open.has(key)) continue;
      const coveredBy = this.coveringPage(ep);
      if (coveredBy !== undefined) {
        if (!ep.suppressionCounted) this.tallies.suppressed += 1;
        ep.suppressionCounted = true;
        continue;
      }
      const ruleName = ep.tier === 'large' ? PageRule.largeIntegration : ep.tier === 'medium' ? PageRule.mediumIntegration : PageRule.smallIntegration;
      this.trigger({
        dedupKey: key,
        severity: rule.severity,
        summary: clip(
          `${ep.tier[0]!.toUpperCase()}${ep.tier.slice(1)} app ${ep.appKey}: integration ${ep.integrationId} failing for ` +
            `${minutes(now - ep.pageableSince)} (${ep.lastErrorClass}: ${ep.lastFingerprint})`,
          1_000,
        ),
        time: now,
        component: ep.integrationId,
        group: ep.appKey,
        class: ruleName,
        details: {
          rule: ruleName,
          integrationId: ep.integrationId,
          appKey: ep.appKey,
          tier: ep.tier,
          nodeId: ep.nodeId,
          failingSince: iso(ep.pageableSince),
          episodeStartedAt: iso(ep.startedAt),
          failures: ep.failures,
          flaps: ep.flaps,
          lastErrorClass: ep.lastErrorClass,
          lastFingerprint: ep.lastFingerprint,
          thresholdMs: rule.failingForMs,
        },
      });
    }
  }

  /** The fleet or systemic page (open or about to open) that already speaks for this integration. */
  private coveringPage(ep: Episode): string | undefined {
    const sup = this.config.suppression;
    if (sup.duringFleet && this.config.fleet.enabled && this.fleet.breachSince !== undefined && this.fleet.members.has(ep.integrationId)) {
      return fleetDedupKey(this.config.source);
    }
    const sys = systemicDedupKey(this.config.source, ep.lastFingerprint);
    if (sup.duringSystemic && this.open.has(sys)) return sys;
    return undefined;
  }

  private trigger(page: Omit<PageAction, 'action' | 'source'>): void {
    if (this.open.has(page.dedupKey)) return;
    const action: PageAction = { action: 'trigger', source: this.config.source, ...page };
    this.open.set(page.dedupKey, action);
    this.tallies.triggers += 1;
    this.pending.pages.push(action);
  }

  private resolve(dedupKey: string, now: number, extra: Record<string, unknown>): void {
    const opened = this.open.get(dedupKey);
    if (opened === undefined) return;
    this.open.delete(dedupKey);
    this.tallies.resolves += 1;
    this.pending.pages.push({
      ...opened,
      action: 'resolve',
      time: now,
      details: { ...opened.details, ...extra, triggeredAt: iso(opened.time), openForMs: now - opened.time },
    });
  }
}

export function createGuardianPolicy(config: GuardianPolicyConfigInput | GuardianPolicyConfig = {}): GuardianPolicy {
  return new GuardianPolicy(config);
}
