// Generates the shipped 24-hour fleet trace (bench/traces/fleet-24h.ndjson) from a seed:
// background noise that must never page, real incidents that must page once each, and a
// sidecar naming those incidents with the times their thresholds are crossed and cleared.
import type { ErrorKind } from '../errors.js';
import { fleetDedupKey, integrationDedupKey, systemicDedupKey } from './dedup-keys.js';
import { parseGuardianPolicyConfig, type GuardianPolicyConfig } from './guardian-policy-config.js';
import { PageRule, type FailureReport, type Tier } from './guardian-types.js';
import { formatTraceFleet, formatTraceReport } from './trace-format.js';

export interface TraceGeneratorOptions {
  seed: number;
  /** ISO start of the 24 hours (default 2025-03-03T00:00:00.000Z). */
  start?: string;
  integrations?: { small: number; medium: number; large: number };
  apps?: { small: number; medium: number; large: number };
  nodes?: number;
  /** The policy the thresholds in the sidecar are computed for (defaults: docs/alerting.md). */
  policy?: GuardianPolicyConfig;
}

export interface ExpectedIncident {
  id: string;
  description: string;
  rule: PageRule;
  dedupKey: string;
  startAt: string;
  /** When the rule's threshold is crossed: a page is due from here (within the tolerance). */
  thresholdAt: string;
  /** When the condition stops holding: the page should resolve from here (within the tolerance). */
  clearsAt: string;
}

export interface NoiseEpisode {
  id: string;
  description: string;
  from: string;
  to: string;
  integrations: number;
}

export interface ExpectedIncidents {
  seed: number;
  start: string;
  end: string;
  fleetSize: number;
  incidents: ExpectedIncident[];
  noise: NoiseEpisode[];
}

export interface GeneratedTrace {
  fleetSize: number;
  start: number;
  end: number;
  reports: FailureReport[];
  expected: ExpectedIncidents;
}

interface Integration {
  id: string;
  appKey: string;
  tier: Tier;
  nodeId: string;
  busy: [number, number][];
}

const minute = 60_000;
const hour = 60 * minute;
const iso = (t: number): string => new Date(t).toISOString();

/** mulberry32: a tiny, well-distributed 32-bit PRNG; the same seed gives the same trace everywhere. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const fingerprints = {
  blips: [
    'retryable|sink_timeout|webhook|sink did not answer within <n> ms',
    'retryable|connect_network|connect|socket hang up',
    'retryable|sink_server|webhook|HTTP <n> from <url>',
    'retryable|connect_idle_timeout|connect|no data from Connect for <n> ms',
    'retryable|sink_rate_limited|kinesis|ProvisionedThroughputExceededException',
  ],
  badNode: 'nodeFault|kafka_unavailable|Kafka unreachable for <n> ms, past the grace period',
  misconfig: [
    'misconfiguration|sink_auth|webhook|sink rejected the credentials: HTTP <n>',
    'misconfiguration|connect_auth|connect|Connect returned <n>: invalid app key or access token',
    'misconfiguration|sink_not_found|s3|bucket does not exist',
  ],
  largeSink: 'retryable|sink_server|s3|HTTP <n> from <url>: ServiceUnavailable',
  outage: 'retryable|sink_server|amplitude|HTTP <n> from <url>',
  bug: "fatal|bug|TypeError: Cannot read properties of undefined (reading 'offset')",
} as const;

export function generateTrace(options: TraceGeneratorOptions): GeneratedTrace {
  const rng = prng(options.seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const shuffle = <T>(xs: T[]): T[] => {
    for (let i = xs.length - 1; i > 0; i -= 1) {
      const j = Math.floor(rng() * (i + 1));
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  };
  const policy = options.policy ?? parseGuardianPolicyConfig({});
  const start = Date.parse(options.start ?? '2025-03-03T00:00:00.000Z');
  const end = start + 24 * hour;
  const counts = options.integrations ?? { small: 400, medium: 80, large: 20 };
  const appCounts = options.apps ?? { small: 230, medium: 55, large: 15 };
  const nodeCount = options.nodes ?? 10;

  // The fleet: every app has at least one integration; the rest are spread at random.
  const appKey = (): string => Array.from({ length: 12 }, () => '0123456789abcdefghijklmnopqrstuvwxyz'[int(0, 35)]).join('');
  const fleet: Integration[] = [];
  for (const tier of ['small', 'medium', 'large'] as const) {
    const apps = Array.from({ length: Math.min(appCounts[tier], counts[tier]) }, appKey);
    for (let i = 0; i < counts[tier]; i += 1) {
      fleet.push({ id: '', appKey: i < apps.length ? apps[i]! : pick(apps), tier, nodeId: '', busy: [] });
    }
  }
  shuffle(fleet).forEach((f, i) => {
    f.id = `int-${String(i + 1).padStart(4, '0')}`;
    // Round-robin: every node runs the same share, as the control-topic assignment tends to.
    f.nodeId = `node-${String((i % nodeCount) + 1).padStart(2, '0')}`;
  });
  const fleetSize = fleet.length;

  const reports: FailureReport[] = [];
  const margin = 3 * minute; // gap between two episodes of one integration, so they never merge
  const isFree = (f: Integration, from: number, to: number): boolean =>
    f.busy.every(([a, b]) => to + margin <= a || from >= b + margin);

  /**
   * One failure period: a report on the first crash, then one per restart (backoff ×3 from
   * 1 s, capped at 60 s, as the supervisors restart), or one per slow probe when paused on
   * misconfiguration; a recovery report at `to` unless the period outlasts the trace.
   */
  const failPeriod = (f: Integration, from: number, to: number, errorClass: ErrorKind, fingerprint: string, message?: string): void => {
    const report = (time: number, kind: 'failure' | 'recovery'): void => {
      reports.push({ time, integrationId: f.id, appKey: f.appKey, tier: f.tier, kind, errorClass, fingerprint, nodeId: f.nodeId, message });
    };
    report(from, 'failure');
    if (errorClass === 'misconfiguration') {
      for (let t = from + 5 * minute; t < Math.min(to, end); t += 5 * minute) report(t, 'failure');
    } else {
      for (let delay = 1_000, t = from + delay; t < to; delay = Math.min(delay * 3, 60_000), t += delay) report(t, 'failure');
    }
    if (to <= end) report(to, 'recovery');
    f.busy.push([from, to]);
  };

  const incidents: ExpectedIncident[] = [];
  const noise: NoiseEpisode[] = [];
  const jitterMs = (): number => int(0, 10 * minute) + int(0, 999);

  // 1. Five misconfigured small apps, for hours (some still broken when the trace ends).
  const smallApps = shuffle([...new Set(fleet.filter((f) => f.tier === 'small').map((f) => f.appKey))]).slice(0, 5);
  for (const app of smallApps) {
    const from = start + int(1, 6) * hour + jitterMs();
    const to = from + int(4, 10) * hour + jitterMs();
    const fp = pick(fingerprints.misconfig);
    const members = fleet.filter((f) => f.appKey === app);
    for (const f of members) {
      failPeriod(f, from + int(0, 30_000), to, 'misconfiguration', fp, 'the sink or Connect rejected this integration’s credentials; update them in the integration spec');
    }
    noise.push({ id: `misconfigured-${app}`, description: `small app ${app} misconfigured (${fp.split('|')[1]})`, from: iso(from), to: iso(Math.min(to, end)), integrations: members.length });
  }

  // 2. A bad node: everything on it fails for 2 minutes, then a fresh node takes over.
  {
    const node = `node-${String(int(1, nodeCount)).padStart(2, '0')}`;
    const from = start + 3 * hour + jitterMs();
    const members = fleet.filter((f) => f.nodeId === node && isFree(f, from, from + 3 * minute));
    for (const f of members) failPeriod(f, from + int(0, 5_000), from + 2 * minute + int(0, 10_000), 'nodeFault', fingerprints.badNode);
    noise.push({ id: 'bad-node', description: `${node} cannot reach Kafka: its integrations fail 2 min`, from: iso(from), to: iso(from + 2 * minute + 10_000), integrations: members.length });
  }

  // 3. One large app's sink down for 20 minutes: the large-tier rule pages.
  {
    const from = start + 9 * hour + 20 * minute + jitterMs();
    const to = from + 20 * minute;
    const f = pick(fleet.filter((x) => x.tier === 'large' && isFree(x, from, to)));
    failPeriod(f, from, to, 'retryable', fingerprints.largeSink);
    incidents.push({
      id: 'large-sink-down',
      description: `large app ${f.appKey}: integration ${f.id}'s sink returns 503 for 20 min`,
      rule: PageRule.largeIntegration,
      dedupKey: integrationDedupKey(policy.source, f.id),
      startAt: iso(from),
      thresholdAt: iso(from + policy.tiers.large.failingForMs),
      clearsAt: iso(to),
    });
  }

  // 4. A provider outage: 15 % of the fleet (every tier) fails for 15 minutes.
  const outage = { from: start + 14 * hour + jitterMs(), to: 0 };
  outage.to = outage.from + 15 * minute;
  {
    const n = Math.round(fleetSize * 0.15);
    const members = shuffle(fleet.filter((f) => isFree(f, outage.from, outage.to + minute))).slice(0, n);
    for (const f of members) failPeriod(f, outage.from + int(0, 30_000), outage.to + int(0, 30_000), 'retryable', fingerprints.outage);
  }

  // 5. A bug: one fingerprint crashes 30 integrations of every tier, in 30 apps, until a fix ships.
  const bug = { from: start + 19 * hour + 30 * minute + jitterMs(), fix: 0 };
  bug.fix = bug.from + 9 * minute;
  {
    const usedApps = new Set<string>();
    const chosen: Integration[] = [];
    for (const [tier, n] of [['large', 4], ['medium', 8], ['small', 18]] as const) {
      for (const f of shuffle(fleet.filter((x) => x.tier === tier && isFree(x, bug.from, bug.fix + minute)))) {
        if (chosen.filter((c) => c.tier === tier).length >= n) break;
        if (usedApps.has(f.appKey)) continue;
        usedApps.add(f.appKey);
        chosen.push(f);
      }
    }
    for (const f of chosen) failPeriod(f, bug.from + int(0, 120_000), bug.fix + int(0, 20_000), 'fatal', fingerprints.bug);
  }

  // 6. Background blips: 2 % of the fleet each hour, failing then recovering within 1–3 min.
  let blips = 0;
  for (let h = 0; h < 24; h += 1) {
    const n = Math.round(fleetSize * 0.02);
    let placed = 0;
    for (const f of shuffle([...fleet])) {
      if (placed >= n) break;
      const from = start + h * hour + int(0, 56 * minute);
      const to = from + int(60_000, 180_000);
      if (!isFree(f, from, to)) continue;
      failPeriod(f, from, to, 'retryable', pick(fingerprints.blips));
      placed += 1;
    }
    blips += placed;
  }
  noise.push({ id: 'blips', description: `${blips} blips: 2 % of the fleet each hour, 1–3 min each`, from: iso(start), to: iso(end), integrations: blips });

  // Stable sort keeps each integration's own reports in the order they were emitted.
  reports.sort((a, b) => a.time - b.time);

  incidents.push(fleetIncident(reports, policy, fleetSize, outage), systemicIncident(reports, policy, bug));
  incidents.sort((a, b) => Date.parse(a.startAt) - Date.parse(b.startAt));

  return {
    fleetSize,
    start,
    end,
    reports,
    expected: { seed: options.seed, start: iso(start), end: iso(end), fleetSize, incidents, noise },
  };
}

/** When the counted-failing share first reaches the fleet thresholds in the outage, and when it drops back. */
function fleetIncident(reports: readonly FailureReport[], policy: GuardianPolicyConfig, total: number, outage: { from: number; to: number }): ExpectedIncident {
  const need = Math.max(policy.fleet.minFailing, Math.ceil(policy.fleet.minRatio * total - 1e-9));
  const failing = new Set<string>();
  let breachAt: number | undefined;
  let clearAt: number | undefined;
  for (const r of reports) {
    if (r.kind === 'failure' && policy.fleet.kinds.includes(r.errorClass)) failing.add(r.integrationId);
    else failing.delete(r.integrationId);
    if (r.time < outage.from) continue;
    if (breachAt === undefined && failing.size >= need) breachAt = r.time;
    if (breachAt !== undefined && clearAt === undefined && failing.size < need) {
      clearAt = r.time;
      break;
    }
  }
  if (breachAt === undefined || clearAt === undefined) throw new Error('the generated outage does not cross the fleet thresholds');
  return {
    id: 'provider-outage',
    description: `a provider outage: 15 % of the fleet failing for 15 min (threshold ${need} of ${total})`,
    rule: PageRule.fleet,
    dedupKey: fleetDedupKey(policy.source),
    startAt: iso(outage.from),
    thresholdAt: iso(breachAt + policy.fleet.failingForMs),
    clearsAt: iso(clearAt),
  };
}

/** When the bug's fingerprint reaches `minApps` distinct apps, and when its last integration recovers. */
function systemicIncident(reports: readonly FailureReport[], policy: GuardianPolicyConfig, bug: { from: number; fix: number }): ExpectedIncident {
  const mine = reports.filter((r) => r.fingerprint === fingerprints.bug);
  const apps = new Set<string>();
  let thresholdAt: number | undefined;
  for (const r of mine) {
    if (r.kind !== 'failure') continue;
    apps.add(r.appKey);
    if (apps.size >= policy.systemic.minApps) {
      thresholdAt = r.time;
      break;
    }
  }
  if (thresholdAt === undefined) throw new Error('the generated bug does not reach the systemic threshold');
  const lastRecovery = Math.max(...mine.filter((r) => r.kind === 'recovery').map((r) => r.time));
  const affected = new Set(mine.map((r) => r.integrationId)).size;
  const appCount = new Set(mine.map((r) => r.appKey)).size;
  return {
    id: 'systemic-bug',
    description: `a bug crashing ${affected} integrations in ${appCount} apps, all tiers, until a fix ships`,
    rule: PageRule.systemic,
    dedupKey: systemicDedupKey(policy.source, fingerprints.bug),
    startAt: iso(bug.from),
    thresholdAt: iso(thresholdAt),
    clearsAt: iso(lastRecovery),
  };
}

/** The trace as NDJSON: a `fleet` line declaring the fleet size, then every report in time order. */
export function formatGeneratedTrace(g: GeneratedTrace): string {
  return `${[formatTraceFleet(g.start, g.fleetSize), ...g.reports.map(formatTraceReport)].join('\n')}\n`;
}
