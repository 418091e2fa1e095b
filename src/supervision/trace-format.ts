// The alert simulator's trace format (docs/alerting.md): NDJSON, one failure or recovery
// report per line, in time order, plus optional `fleet` lines declaring the fleet size.
import { z } from 'zod';
import { ConfigError, ErrorCode, ErrorKind } from '../errors.js';
import { zodIssues } from '../config/zod-issues.js';
import type { FailureReport } from './guardian-types.js';
import { tiers, type Tier } from './guardian-types.js';

const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2025-03-03T09:20:00.000Z' });
const kinds = Object.values(ErrorKind) as [ErrorKind, ...ErrorKind[]];

export const traceReportSchema = z.strictObject({
  time: isoTime,
  integration: z.string().min(1).max(200),
  app: z.string().min(1).max(200),
  tier: z.enum(tiers as [Tier, ...Tier[]]),
  kind: z.enum(['failure', 'recovery']),
  errorClass: z.enum(kinds),
  fingerprint: z.string().min(1).max(1_000),
  node: z.string().min(1).max(200).optional(),
  message: z.string().max(1_000).optional(),
});

/** Declares the number of integrations known from `time` on (the state table's row count). */
export const traceFleetSchema = z.strictObject({
  time: isoTime,
  kind: z.literal('fleet'),
  total: z.number().int().min(0),
});

export type TraceReportLine = z.infer<typeof traceReportSchema>;
export type TraceFleetLine = z.infer<typeof traceFleetSchema>;
export type TraceLine = TraceReportLine | TraceFleetLine;

export type TraceEvent =
  | { readonly type: 'report'; readonly line: number; readonly report: FailureReport }
  | { readonly type: 'fleet'; readonly line: number; readonly time: number; readonly total: number };

/** At most this many bad lines are listed; the first ones are what a person fixes first. */
const maxListedErrors = 20;

/** Parses a whole trace; throws ConfigError listing each bad line with its number and reason. */
export function parseTrace(text: string, name = 'trace'): TraceEvent[] {
  const events: TraceEvent[] = [];
  const issues: { path: string; message: string }[] = [];
  let previous = Number.NEGATIVE_INFINITY;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && issues.length < maxListedErrors; i += 1) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    const lineNo = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      issues.push({ path: `line ${lineNo}`, message: `not JSON (${(err as Error).message})` });
      continue;
    }
    const isFleet = typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'fleet';
    const parsed = isFleet ? traceFleetSchema.safeParse(value) : traceReportSchema.safeParse(value);
    if (!parsed.success) {
      for (const issue of zodIssues(parsed.error)) issues.push({ path: `line ${lineNo}: ${issue.path || '(root)'}`, message: issue.message });
      continue;
    }
    const time = Date.parse(parsed.data.time);
    if (time < previous) {
      issues.push({ path: `line ${lineNo}: time`, message: `goes backwards (${parsed.data.time}); a trace must be in time order` });
      continue;
    }
    previous = time;
    if (parsed.data.kind === 'fleet') {
      events.push({ type: 'fleet', line: lineNo, time, total: (parsed.data as TraceFleetLine).total });
    } else {
      const d = parsed.data as TraceReportLine;
      events.push({
        type: 'report',
        line: lineNo,
        report: {
          time,
          integrationId: d.integration,
          appKey: d.app,
          tier: d.tier,
          kind: d.kind,
          errorClass: d.errorClass,
          fingerprint: d.fingerprint,
          nodeId: d.node,
          message: d.message,
        },
      });
    }
  }
  if (issues.length > 0) throw new ConfigError(ErrorCode.configInvalid, `invalid ${name}`, issues);
  return events;
}

/** One trace line for a report, with keys in the documented order. */
export function formatTraceReport(r: FailureReport): string {
  const line: TraceReportLine = {
    time: new Date(r.time).toISOString(),
    integration: r.integrationId,
    app: r.appKey,
    tier: r.tier,
    kind: r.kind,
    errorClass: r.errorClass,
    fingerprint: r.fingerprint,
    ...(r.nodeId === undefined ? {} : { node: r.nodeId }),
    ...(r.message === undefined ? {} : { message: r.message }),
  };
  return JSON.stringify(line);
}

export function formatTraceFleet(time: number, total: number): string {
  return JSON.stringify({ time: new Date(time).toISOString(), kind: 'fleet', total } satisfies TraceFleetLine);
}
