// Adaptive request concurrency for HTTP sinks (after Vector's ARC): a pure AIMD controller that
// sets how many requests one sink may have in flight, a limiter that enforces it, and a transport wrapper.
//
// The controller raises the limit additively (+1 per window of `limit` answers) while the
// round-trip time stays near its moving baseline and the sink actually fills its limit, and cuts it
// multiplicatively on back-pressure: 429/503, timeouts, or an RTT well above the baseline. At most
// one cut per baseline RTT, so a burst of 429s from one overload counts once. Always within
// [minLimit, maxLimit].
//
// Adopting it in another HTTP sink (the webhook, for instance) takes two steps, nothing else:
//   const limiter = createAdaptiveLimiter(config.adaptiveConcurrency);
//   const transport = withAdaptiveConcurrency(createHttpTransport(…), limiter);
// then issue a write's sub-requests concurrently (Promise.all over its chunks, each through
// sendWithRetry): the wrapper holds each attempt until the limiter has room, so the number in
// flight follows the controller, while a request sleeping between retries holds no slot.
import { TributaryError } from '../../errors.js';
import { abortError } from './backoff.js';
import type { HttpTransport } from './transport.js';

export interface AimdOptions {
  minLimit: number;
  maxLimit: number;
  initialLimit: number;
  /** Multiplier applied on back-pressure, in (0, 1). */
  decreaseRatio: number;
  /** An RTT above baseline × (1 + this) is a congestion signal. */
  rttToleranceRatio: number;
  /** Weight of a new RTT sample in the moving baseline, in (0, 1]. */
  ewmaAlpha: number;
}

export const defaultAimdOptions: AimdOptions = {
  minLimit: 1,
  maxLimit: 8,
  initialLimit: 2,
  decreaseRatio: 0.5,
  rttToleranceRatio: 1,
  ewmaAlpha: 0.2,
};

export interface AimdState {
  /** Fractional so that additive increase can be +1/limit per answer. */
  readonly limit: number;
  /** Moving RTT baseline (ms); undefined until the first sample. */
  readonly baselineRttMs: number | undefined;
  /** When the last decrease happened (ms), for the one-cut-per-RTT rule. */
  readonly lastDecreaseAt: number;
}

export type AimdObservation =
  /** A request answered without back-pressure: its RTT, and how many were in flight when it started. */
  | { kind: 'ok'; rttMs: number; inFlight: number; nowMs: number }
  /** 429, 503, a timeout: the receiver asks us to slow down. */
  | { kind: 'backpressure'; nowMs: number };

const clamp = (n: number, o: AimdOptions): number => Math.min(o.maxLimit, Math.max(o.minLimit, n));

export function initialAimdState(options: AimdOptions): AimdState {
  return { limit: clamp(options.initialLimit, options), baselineRttMs: undefined, lastDecreaseAt: Number.NEGATIVE_INFINITY };
}

/** The whole number of requests allowed in flight now. */
export function currentLimit(state: AimdState): number {
  return Math.max(1, Math.floor(state.limit));
}

/** Pure: the state after one observation. */
export function observe(state: AimdState, obs: AimdObservation, options: AimdOptions): AimdState {
  const decrease = (): AimdState => {
    // One cut per RTT window: the answers to requests already in flight describe the same overload.
    const window = state.baselineRttMs ?? 0;
    if (obs.nowMs - state.lastDecreaseAt < window) return state;
    return { ...state, limit: clamp(Math.floor(state.limit * options.decreaseRatio), options), lastDecreaseAt: obs.nowMs };
  };
  if (obs.kind === 'backpressure') return decrease();

  const rtt = Math.max(0, obs.rttMs);
  const baseline = state.baselineRttMs;
  if (baseline !== undefined && rtt > baseline * (1 + options.rttToleranceRatio) && rtt - baseline > 1) {
    // Latency well above normal: queueing at the receiver. Cut, and let the baseline move only a little.
    const cut = decrease();
    return { ...cut, baselineRttMs: baseline + (options.ewmaAlpha / 4) * (rtt - baseline) };
  }
  const nextBaseline = baseline === undefined ? rtt : baseline + options.ewmaAlpha * (rtt - baseline);
  // Grow only when the limit is what holds us back; an idle sink learns nothing about the receiver.
  const saturated = obs.inFlight >= currentLimit(state);
  const limit = saturated ? clamp(state.limit + 1 / currentLimit(state), options) : state.limit;
  return { ...state, limit, baselineRttMs: nextBaseline };
}

// ——— the limiter: the impure part, one per sink instance (one integration) ———

export interface AdaptiveLimiter {
  /** Waits for a slot; rejects with an AbortError when `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<Permit>;
  readonly limit: number;
  readonly inFlight: number;
  readonly state: AimdState;
}

export interface Permit {
  /** Releases the slot with what the request taught us (call exactly once). */
  release(outcome: { kind: 'ok'; rttMs: number } | { kind: 'backpressure' } | { kind: 'neutral' }): void;
}

export function createAdaptiveLimiter(options: Partial<AimdOptions> = {}, now: () => number = () => performance.now()): AdaptiveLimiter {
  const opts: AimdOptions = { ...defaultAimdOptions, ...options };
  let state = initialAimdState(opts);
  let inFlight = 0;
  const waiters: (() => void)[] = [];

  const wake = (): void => {
    while (waiters.length > 0 && inFlight < currentLimit(state)) {
      inFlight++;
      waiters.shift()!();
    }
  };

  return {
    get limit() {
      return currentLimit(state);
    },
    get inFlight() {
      return inFlight;
    },
    get state() {
      return state;
    },
    acquire(signal) {
      if (signal.aborted) return Promise.reject(abortError(signal));
      const grant = (): Permit => {
        const startedWith = inFlight;
        let released = false;
        return {
          release(outcome) {
            if (released) return;
            released = true;
            inFlight--;
            if (outcome.kind === 'ok') state = observe(state, { kind: 'ok', rttMs: outcome.rttMs, inFlight: startedWith, nowMs: now() }, opts);
            if (outcome.kind === 'backpressure') state = observe(state, { kind: 'backpressure', nowMs: now() }, opts);
            wake();
          },
        };
      };
      if (inFlight < currentLimit(state) && waiters.length === 0) {
        inFlight++;
        return Promise.resolve(grant());
      }
      return new Promise<Permit>((resolve, reject) => {
        const onAbort = (): void => {
          const i = waiters.indexOf(ready);
          if (i >= 0) waiters.splice(i, 1);
          reject(abortError(signal));
        };
        const ready = (): void => {
          signal.removeEventListener('abort', onAbort);
          resolve(grant());
        };
        waiters.push(ready);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}

/** Statuses that mean "slow down" to the controller. */
export const backpressureStatuses: ReadonlySet<number> = new Set([429, 503]);

/**
 * A transport whose every attempt waits for a limiter slot and reports its RTT or back-pressure.
 * Errors other than timeouts (refused connections, SSRF) teach the controller nothing.
 */
export function withAdaptiveConcurrency(inner: HttpTransport, limiter: AdaptiveLimiter, now: () => number = () => performance.now()): HttpTransport {
  return {
    async send(req, signal) {
      const permit = await limiter.acquire(signal);
      const started = now();
      try {
        const res = await inner.send(req, signal);
        permit.release(backpressureStatuses.has(res.status) ? { kind: 'backpressure' } : { kind: 'ok', rttMs: now() - started });
        return res;
      } catch (err) {
        const timedOut = err instanceof TributaryError && err.code === 'sink_timeout';
        permit.release(timedOut ? { kind: 'backpressure' } : { kind: 'neutral' });
        throw err;
      }
    },
    close: () => inner.close(),
  };
}
