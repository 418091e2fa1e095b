// From state-table rows to the policy's cluster-wide view: the fleet snapshot (who is failing
// or misconfigured) and stall detection (a running integration with a backlog and no delivery
// progress). Pure: rows and time come in, so every node scanning the same table agrees.
import { ErrorKind } from '../errors.js';
import type { IntegrationRow } from '../state/state-store.js';
import { tiers, type FailureReport, type FleetMember, type FleetSnapshot, type Tier } from './guardian-types.js';

const kinds = new Set<string>(Object.values(ErrorKind));
const tierSet = new Set<string>(tiers);

/** Statuses that count as an integration at all (deleted and rejected specs do not). */
const known = new Set(['starting', 'running', 'paused', 'misconfigured', 'failing']);

export function asTier(v: string | undefined): Tier | undefined {
  return v !== undefined && tierSet.has(v) ? (v as Tier) : undefined;
}

function asKind(v: string | undefined): ErrorKind | undefined {
  return v !== undefined && kinds.has(v) ? (v as ErrorKind) : undefined;
}

function member(row: IntegrationRow, now: number): FleetMember {
  const last = row.lastErrors?.[row.lastErrors.length - 1];
  const at = last ? Date.parse(last.at) : Number.NaN;
  return {
    integrationId: row.integrationId,
    appKey: row.appKey,
    tier: asTier(row.tier),
    // A misconfigured row is the customer's: say so even when its last error says otherwise.
    errorClass: row.status === 'misconfigured' ? 'misconfiguration' : asKind(last?.class),
    fingerprint: last?.fingerprint,
    nodeId: row.owner,
    lastFailureAt: Number.isFinite(at) ? Math.min(at, now) : undefined,
  };
}

/** The snapshot the policy's fleet rule reads; `extra` are members judged failing otherwise (stalls). */
export function fleetSnapshot(rows: readonly IntegrationRow[], now: number, extra: readonly FleetMember[] = []): FleetSnapshot {
  const live = rows.filter((r) => r.status === undefined || known.has(r.status));
  const failing = live.filter((r) => r.status === 'failing' || r.status === 'misconfigured').map((r) => member(r, now));
  const listed = new Set(failing.map((m) => m.integrationId));
  for (const m of extra) if (!listed.has(m.integrationId)) failing.push(m);
  return { time: now, total: live.length, failing };
}

export const stallFingerprint = (sinkType: string): string => `retryable|sink_stalled|${sinkType}|no delivery progress with a backlog`;

interface Progress {
  consumed: number;
  since: number;
  stalled: boolean;
}

/**
 * Judges delivery progress across scans. A running integration whose backlog (produced −
 * delivered − dead-lettered − deduplicated) stays above zero while nothing is consumed for
 * `afterMs` is stalled: a failure report (time = when progress stopped, so the page threshold
 * counts from there), repeated every scan while it lasts, and a recovery report on progress.
 */
export class StallDetector {
  private readonly progress = new Map<string, Progress>();

  constructor(private readonly afterMs: number) {}

  observe(rows: readonly IntegrationRow[], now: number): { reports: FailureReport[]; stalled: FleetMember[] } {
    const reports: FailureReport[] = [];
    const stalled: FleetMember[] = [];
    const seen = new Set<string>();
    for (const row of rows) {
      const tier = asTier(row.tier);
      if (row.status !== 'running' || tier === undefined || row.appKey === undefined) continue;
      seen.add(row.integrationId);
      const c = row.counters ?? {};
      const consumed = (c.delivered ?? 0) + (c.dlq ?? 0) + (c.deduplicated ?? 0);
      const backlog = (c.produced ?? 0) - consumed;
      let p = this.progress.get(row.integrationId);
      if (p === undefined) {
        this.progress.set(row.integrationId, { consumed, since: now, stalled: false });
        continue;
      }
      const base = { integrationId: row.integrationId, appKey: row.appKey, tier, nodeId: row.owner };
      const sinkType = row.sinkType ?? 'unknown';
      if (consumed !== p.consumed || backlog <= 0) {
        if (p.stalled) reports.push({ ...base, time: now, kind: 'recovery', errorClass: 'retryable', fingerprint: stallFingerprint(sinkType) });
        p = { consumed, since: now, stalled: false };
        this.progress.set(row.integrationId, p);
        continue;
      }
      if (now - p.since < this.afterMs) continue;
      const fp = stallFingerprint(sinkType);
      // The first report is stamped when progress stopped; later ones keep the episode alive.
      reports.push({
        ...base,
        time: p.stalled ? now : p.since,
        kind: 'failure',
        errorClass: 'retryable',
        fingerprint: fp,
        message: `no delivery progress for ${Math.round((now - p.since) / 1000)} s with ${backlog} events waiting in Kafka`,
      });
      p.stalled = true;
      stalled.push({ ...base, errorClass: 'retryable', fingerprint: fp, lastFailureAt: now });
    }
    // No longer running (failing, paused, deleted): its own status speaks for it now.
    for (const id of this.progress.keys()) if (!seen.has(id)) this.progress.delete(id);
    return { reports, stalled };
  }
}
