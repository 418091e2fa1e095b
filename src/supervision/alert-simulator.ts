// Replays a failure/recovery trace through the real guardian policy on a simulated clock and
// reports what it would page — next to what a naive "page on every failure" policy would send.
// Pure: the trace comes in parsed, the result goes out as data.
import { GuardianPolicy } from './guardian-policy.js';
import type { GuardianPolicyConfig, GuardianPolicyConfigInput } from './guardian-policy-config.js';
import type { FleetMember, PageAction, PageRule, PolicyCounters, Tier } from './guardian-types.js';
import type { TraceEvent } from './trace-format.js';
import type { ExpectedIncidents } from './trace-generator.js';

export interface SimulationOptions {
  policy?: GuardianPolicyConfigInput | GuardianPolicyConfig;
  /** Simulated clock step: how often the health scan and the policy tick run. */
  stepMs?: number;
  /** Overrides the trace's `fleet` lines (else: distinct integrations in the trace). */
  fleetSize?: number;
  /** Keep ticking this long after the last event so open pages can resolve. */
  tailMs?: number;
  naive?: boolean;
  /** The generator's sidecar: each page is checked against its incident's threshold times. */
  expected?: ExpectedIncidents;
  /** How late a trigger or resolve may come and still count as on time. */
  toleranceMs?: number;
}

export interface SimulatedPage {
  time: string;
  action: 'trigger' | 'resolve';
  dedupKey: string;
  rule: PageRule;
  severity: string;
  summary: string;
}

export interface PageEpisode {
  dedupKey: string;
  rule: PageRule;
  severity: string;
  summary: string;
  triggeredAt: string;
  resolvedAt: string | null;
  openForMs: number | null;
}

export interface IncidentCheck {
  id: string;
  description: string;
  dedupKey: string;
  thresholdAt: string;
  clearsAt: string;
  triggers: number;
  triggeredAt: string | null;
  resolvedAt: string | null;
  /** Trigger time minus threshold time (ms). */
  triggerDelayMs: number | null;
  /** Resolve time minus the time the condition cleared (ms). */
  resolveDelayMs: number | null;
  ok: boolean;
}

export interface SimulationResult {
  trace: { reports: number; integrations: number; fleetSize: number; start: string; end: string };
  stepMs: number;
  pages: SimulatedPage[];
  episodes: PageEpisode[];
  notifications: { time: string; integrationId: string; appKey: string; reason: string }[];
  summary: {
    triggered: number;
    resolved: number;
    openAtEnd: number;
    byRule: Record<string, number>;
    notifications: number;
    counters: PolicyCounters;
  };
  naive?: {
    /** Every failure report pages: the old one-service-per-integration behaviour. */
    pagesPerFailure: number;
    /** Even deduplicated per integration (one page per failure episode, resolved on recovery). */
    pagesPerIntegrationEpisode: number;
  };
  evaluation?: {
    incidents: IncidentCheck[];
    /** Triggers whose dedup key belongs to no expected incident: noise that paged. */
    unexpectedTriggers: SimulatedPage[];
    toleranceMs: number;
    ok: boolean;
  };
}

const iso = (t: number): string => new Date(t).toISOString();

interface IntegrationState {
  appKey: string;
  tier: Tier;
  failing: boolean;
  errorClass: FleetMember['errorClass'];
  fingerprint: string;
  nodeId: string | undefined;
  lastFailureAt: number;
}

export function simulateAlerts(events: readonly TraceEvent[], options: SimulationOptions = {}): SimulationResult {
  const stepMs = options.stepMs ?? 10_000;
  const tailMs = options.tailMs ?? 15 * 60_000;
  const toleranceMs = options.toleranceMs ?? 60_000;
  if (!(stepMs > 0)) throw new RangeError('stepMs must be positive');
  const policy = new GuardianPolicy(options.policy ?? {});
  const reports = events.flatMap((e) => (e.type === 'report' ? [e.report] : []));
  const distinct = new Set(reports.map((r) => r.integrationId)).size;
  const times = events.map((e) => (e.type === 'report' ? e.report.time : e.time));
  const start = times.length > 0 ? Math.min(...times) : 0;
  const end = times.length > 0 ? Math.max(...times) : 0;

  // The simulated state table: what the health actor's scan would see at each step.
  const table = new Map<string, IntegrationState>();
  let declaredTotal: number | undefined;
  const pages: PageAction[] = [];
  const notifications: SimulationResult['notifications'] = [];
  const collect = (o: { pages: PageAction[]; notifications: { integrationId: string; appKey: string; reason: string; time: number }[] }): void => {
    pages.push(...o.pages);
    for (const n of o.notifications) notifications.push({ time: iso(n.time), integrationId: n.integrationId, appKey: n.appKey, reason: n.reason });
  };

  let naivePerFailure = 0;
  let naivePerEpisode = 0;
  const naiveOpen = new Set<string>();

  let i = 0;
  // Steps are aligned to the step size, as a periodic scan would be.
  for (let t = Math.floor(start / stepMs) * stepMs; t <= end + tailMs; t += stepMs) {
    for (; i < events.length; i += 1) {
      const e = events[i]!;
      const at = e.type === 'report' ? e.report.time : e.time;
      if (at > t) break;
      if (e.type === 'fleet') {
        declaredTotal = e.total;
        continue;
      }
      const r = e.report;
      const prev = table.get(r.integrationId);
      if (r.kind === 'failure') {
        table.set(r.integrationId, {
          appKey: r.appKey,
          tier: r.tier,
          failing: true,
          errorClass: r.errorClass,
          fingerprint: r.fingerprint,
          nodeId: r.nodeId,
          lastFailureAt: r.time,
        });
        naivePerFailure += 1;
        if (!naiveOpen.has(r.integrationId)) {
          naiveOpen.add(r.integrationId);
          naivePerEpisode += 1;
        }
      } else {
        if (prev) prev.failing = false;
        naiveOpen.delete(r.integrationId);
      }
      collect(policy.report(r));
    }
    const failing: FleetMember[] = [];
    for (const [integrationId, s] of table) {
      if (!s.failing) continue;
      failing.push({
        integrationId,
        appKey: s.appKey,
        tier: s.tier,
        errorClass: s.errorClass,
        fingerprint: s.fingerprint,
        nodeId: s.nodeId,
        lastFailureAt: s.lastFailureAt,
      });
    }
    collect(policy.observeFleet({ time: t, total: options.fleetSize ?? declaredTotal ?? distinct, failing }));
  }

  const simulated: SimulatedPage[] = pages.map((p) => ({
    time: iso(p.time),
    action: p.action,
    dedupKey: p.dedupKey,
    rule: p.class,
    severity: p.severity,
    summary: p.summary,
  }));
  const episodes = pairEpisodes(pages);
  const byRule: Record<string, number> = {};
  for (const p of pages) if (p.action === 'trigger') byRule[p.class] = (byRule[p.class] ?? 0) + 1;

  const result: SimulationResult = {
    trace: {
      reports: reports.length,
      integrations: distinct,
      fleetSize: options.fleetSize ?? declaredTotal ?? distinct,
      start: iso(start),
      end: iso(end),
    },
    stepMs,
    pages: simulated,
    episodes,
    notifications,
    summary: {
      triggered: pages.filter((p) => p.action === 'trigger').length,
      resolved: pages.filter((p) => p.action === 'resolve').length,
      openAtEnd: policy.openPages().length,
      byRule,
      notifications: notifications.length,
      counters: policy.counters(),
    },
  };
  if (options.naive) result.naive = { pagesPerFailure: naivePerFailure, pagesPerIntegrationEpisode: naivePerEpisode };
  if (options.expected) result.evaluation = evaluate(pages, options.expected, toleranceMs);
  return result;
}

function pairEpisodes(pages: readonly PageAction[]): PageEpisode[] {
  const open = new Map<string, PageEpisode>();
  const done: PageEpisode[] = [];
  for (const p of pages) {
    if (p.action === 'trigger') {
      const ep: PageEpisode = {
        dedupKey: p.dedupKey,
        rule: p.class,
        severity: p.severity,
        summary: p.summary,
        triggeredAt: iso(p.time),
        resolvedAt: null,
        openForMs: null,
      };
      open.set(p.dedupKey, ep);
      done.push(ep);
    } else {
      const ep = open.get(p.dedupKey);
      if (ep) {
        ep.resolvedAt = iso(p.time);
        ep.openForMs = p.time - Date.parse(ep.triggeredAt);
        open.delete(p.dedupKey);
      }
    }
  }
  return done;
}

function evaluate(pages: readonly PageAction[], expected: ExpectedIncidents, toleranceMs: number): NonNullable<SimulationResult['evaluation']> {
  const keys = new Set(expected.incidents.map((i) => i.dedupKey));
  const incidents = expected.incidents.map((inc): IncidentCheck => {
    const threshold = Date.parse(inc.thresholdAt);
    const clears = Date.parse(inc.clearsAt);
    const mine = pages.filter((p) => p.dedupKey === inc.dedupKey);
    const triggers = mine.filter((p) => p.action === 'trigger');
    const trigger = triggers[0];
    const resolve = mine.find((p) => p.action === 'resolve' && trigger !== undefined && p.time >= trigger.time);
    const triggerDelayMs = trigger ? trigger.time - threshold : null;
    const resolveDelayMs = resolve ? resolve.time - clears : null;
    const ok =
      triggers.length === 1 &&
      triggerDelayMs !== null &&
      triggerDelayMs >= 0 &&
      triggerDelayMs <= toleranceMs &&
      resolveDelayMs !== null &&
      resolveDelayMs >= 0 &&
      resolveDelayMs <= toleranceMs;
    return {
      id: inc.id,
      description: inc.description,
      dedupKey: inc.dedupKey,
      thresholdAt: inc.thresholdAt,
      clearsAt: inc.clearsAt,
      triggers: triggers.length,
      triggeredAt: trigger ? iso(trigger.time) : null,
      resolvedAt: resolve ? iso(resolve.time) : null,
      triggerDelayMs,
      resolveDelayMs,
      ok,
    };
  });
  const unexpectedTriggers = pages
    .filter((p) => p.action === 'trigger' && !keys.has(p.dedupKey))
    .map((p) => ({ time: iso(p.time), action: p.action, dedupKey: p.dedupKey, rule: p.class, severity: p.severity, summary: p.summary }));
  return { incidents, unexpectedTriggers, toleranceMs, ok: incidents.every((i) => i.ok) && unexpectedTriggers.length === 0 };
}
