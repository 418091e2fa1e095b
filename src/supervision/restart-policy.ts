// Supervision as a plain function (STYLE.md): a fault and the child's crash history in, a
// decision out. Restart budgets and ×3 backoff live here because nact has neither.
import { z } from 'zod';
import type { ErrorKind } from '../errors.js';

export type Decision =
  | { type: 'resume' }
  | { type: 'restart'; delayMs: number; attempt: number }
  | { type: 'halt'; reason: string }
  | { type: 'escalate'; reason: string };

export const restartPolicySchema = z.strictObject({
  initialDelayMs: z.number().int().min(0).default(1_000),
  multiplier: z.number().min(1).default(3),
  maxDelayMs: z.number().int().min(0).default(60_000),
  /** At most this many restarts within `budgetWindowMs`; past it the fault is escalated. */
  maxRestarts: z.number().int().min(1).default(10),
  budgetWindowMs: z.number().int().min(1).default(600_000),
  /** A child that ran this long without a fault starts its backoff from the beginning again. */
  healthyAfterMs: z.number().int().min(0).default(60_000),
});
export type RestartPolicyConfig = z.infer<typeof restartPolicySchema>;

export interface CrashHistory {
  /** Times of restarts decided within the budget window. */
  restarts: readonly number[];
  /** Consecutive faults without a healthy period between them. */
  consecutive: number;
  /** Time of the last fault, to tell a healthy run from a flap. */
  lastFaultAt: number | undefined;
}

export const emptyHistory: CrashHistory = { restarts: [], consecutive: 0, lastFaultAt: undefined };

export interface Fault {
  kind: ErrorKind;
  message: string;
  at: number;
}

/**
 * retryable / fatal ⇒ restart after initial × multiplier^(n-1), capped, with ±20 % jitter so a
 * fleet restarting after one outage does not stampede; misconfiguration ⇒ halt (a person must
 * act); nodeFault ⇒ escalate (the node exits); permanent ⇒ resume (the record was DLQ'd, the
 * child keeps its state). Over budget ⇒ escalate.
 */
export function decide(
  config: RestartPolicyConfig,
  history: CrashHistory,
  fault: Fault,
  random: () => number = Math.random,
): { decision: Decision; history: CrashHistory } {
  const healthy = history.lastFaultAt === undefined || fault.at - history.lastFaultAt >= config.healthyAfterMs;
  const consecutive = healthy ? 1 : history.consecutive + 1;
  const recent = history.restarts.filter((t) => fault.at - t < config.budgetWindowMs);
  const base: CrashHistory = { restarts: recent, consecutive, lastFaultAt: fault.at };
  switch (fault.kind) {
    case 'permanent':
      return { decision: { type: 'resume' }, history: base };
    case 'misconfiguration':
      return { decision: { type: 'halt', reason: fault.message }, history: base };
    case 'nodeFault':
      return { decision: { type: 'escalate', reason: fault.message }, history: base };
    case 'retryable':
    case 'fatal': {
      if (recent.length >= config.maxRestarts) {
        return {
          decision: { type: 'escalate', reason: `restart budget exhausted: ${recent.length} restarts in ${config.budgetWindowMs} ms; last: ${fault.message}` },
          history: base,
        };
      }
      const raw = Math.min(config.maxDelayMs, config.initialDelayMs * config.multiplier ** (consecutive - 1));
      const delayMs = Math.round(raw * (0.8 + 0.4 * random()));
      return {
        decision: { type: 'restart', delayMs: Math.min(delayMs, config.maxDelayMs), attempt: consecutive },
        history: { ...base, restarts: [...recent, fault.at] },
      };
    }
  }
}
