// The final summary of `tributary local --json` and its exit code: every event the emulator
// served must have reached its sink (by id, duplicates counted apart). Pure, unit-tested.

export interface IntegrationEvidence {
  id: string;
  app: string;
  tier: string;
  sink: string;
  status: string;
  /** Ids the Connect emulator served for the integration's app. */
  servedIds: Iterable<string>;
  /** Distinct ids the sink accepted (webhook receiver or file sink files). */
  deliveredIds: ReadonlySet<string>;
  /** Deliveries of an id already delivered (a receiver sees these; the file sink should not write them). */
  duplicates: number;
  dlq: number;
}

export interface IntegrationSummary {
  id: string;
  app: string;
  tier: string;
  sink: string;
  status: string;
  served: number;
  /** Served ids that reached the sink (unique). */
  delivered: number;
  /** Served ids that did not. */
  missing: number;
  /** A few missing ids, for a first look. */
  missingSample: string[];
  duplicates: number;
  dlq: number;
  ok: boolean;
}

export interface LocalSummary {
  ok: boolean;
  /** Why not ok, in words (empty when ok). */
  problems: string[];
  ranMs: number;
  integrations: IntegrationSummary[];
  node: { id: string; health: Record<string, string>; drained: boolean | undefined };
  pages: { opened: number; resolved: number; open: number };
  dataDir: string;
  logFile: string;
}

export interface SummaryInput {
  ranMs: number;
  integrations: IntegrationEvidence[];
  node: LocalSummary['node'];
  pages: LocalSummary['pages'];
  dataDir: string;
  logFile: string;
}

export function summarizeIntegration(e: IntegrationEvidence): IntegrationSummary {
  const served = new Set(e.servedIds);
  const missing: string[] = [];
  for (const id of served) if (!e.deliveredIds.has(id)) missing.push(id);
  const delivered = served.size - missing.length;
  return {
    id: e.id,
    app: e.app,
    tier: e.tier,
    sink: e.sink,
    status: e.status,
    served: served.size,
    delivered,
    missing: missing.length,
    missingSample: missing.slice(0, 5),
    duplicates: e.duplicates,
    dlq: e.dlq,
    // A smoke test that moved nothing has not shown anything works.
    ok: served.size > 0 && missing.length === 0,
  };
}

export function buildSummary(input: SummaryInput): LocalSummary {
  const integrations = input.integrations.map(summarizeIntegration);
  const problems: string[] = [];
  if (integrations.length === 0) problems.push('no integrations ran');
  for (const i of integrations) {
    if (i.served === 0) problems.push(`${i.id}: the emulator served no events`);
    else if (i.missing > 0) problems.push(`${i.id}: ${i.missing} of ${i.served} served events were not delivered (${i.dlq} in the DLQ)`);
  }
  return {
    ok: problems.length === 0,
    problems,
    ranMs: input.ranMs,
    integrations,
    node: input.node,
    pages: input.pages,
    dataDir: input.dataDir,
    logFile: input.logFile,
  };
}

/** 0 only when every served event was delivered for every integration. */
export function exitCodeOf(summary: Pick<LocalSummary, 'ok'>): number {
  return summary.ok ? 0 : 1;
}

/** Human-readable lines of the summary (the non-JSON ending). */
export function summaryLines(s: LocalSummary): string[] {
  const lines = [`Summary after ${(s.ranMs / 1000).toFixed(0)} s: ${s.ok ? 'every served event was delivered' : 'NOT every served event was delivered'}`];
  for (const i of s.integrations) {
    lines.push(
      `  ${i.id.padEnd(14)} ${i.sink.padEnd(8)} served ${String(i.served).padStart(7)}  delivered ${String(i.delivered).padStart(7)}  missing ${i.missing}  duplicates ${i.duplicates}  dlq ${i.dlq}  ${i.status}`,
    );
  }
  lines.push(`  pages opened ${s.pages.opened}, resolved ${s.pages.resolved}, open ${s.pages.open}`);
  for (const p of s.problems) lines.push(`  problem: ${p}`);
  return lines;
}
