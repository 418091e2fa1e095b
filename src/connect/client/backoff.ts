// Reconnect delays: exponential (×3 from 1 s by default), capped, with full jitter so many
// integrations failing together do not reconnect in lockstep (AWS "Exponential Backoff and Jitter").

export interface BackoffPolicy {
  /** Ceiling of the first delay. */
  initialMs: number;
  /** Growth of the ceiling per attempt. */
  multiplier: number;
  /** Cap on any ceiling. */
  maxMs: number;
}

export const defaultBackoff: BackoffPolicy = { initialMs: 1000, multiplier: 3, maxMs: 60_000 };

/** The ceiling for attempt n (0-based): min(maxMs, initialMs · multiplier^n). */
export function backoffCeiling(policy: BackoffPolicy, attempt: number): number {
  const n = Math.max(0, Math.floor(attempt));
  // Computed in floating point; the min keeps huge attempt counts (Infinity) at the cap.
  return Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** n);
}

/** Full jitter: uniform in [0, ceiling). `random` must return a value in [0, 1). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * backoffCeiling(policy, attempt));
}
