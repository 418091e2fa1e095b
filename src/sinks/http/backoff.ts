// Full-jitter exponential backoff, an abortable sleep and the retry budget, shared by every
// sink (HTTP or not). Clock, sleep and randomness are injected so tests run in microseconds.

export interface BackoffOptions {
  /** First retry's ceiling. */
  initialMs: number;
  /** Growth per attempt. */
  multiplier: number;
  /** Ceiling of any single wait. */
  maxMs: number;
  /** Give up on a record after retrying it this long (then it is rejected: retries exhausted). */
  maxRetryAgeMs: number;
  /** A server's Retry-After is honoured up to this, so one bad header cannot park a sink for days. */
  maxRetryAfterMs: number;
}

export const defaultBackoff: BackoffOptions = {
  initialMs: 500,
  multiplier: 2,
  maxMs: 60_000,
  maxRetryAgeMs: 6 * 60 * 60 * 1000,
  maxRetryAfterMs: 15 * 60 * 1000,
};

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with an AbortError as soon as `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/**
 * Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): a uniform wait in
 * [0, min(cap, initial × multiplier^retry)), which spreads many sinks retrying at once.
 * `retry` counts from 0.
 */
export function fullJitter(retry: number, options: Pick<BackoffOptions, 'initialMs' | 'multiplier' | 'maxMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * Math.pow(options.multiplier, Math.max(0, retry)));
  return Math.floor(random() * ceiling);
}

/** The wait before the next attempt: the server's Retry-After when it gave one, else jitter. */
export function nextDelay(retry: number, retryAfterMs: number | undefined, options: BackoffOptions, random: () => number = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, options.maxRetryAfterMs);
  return fullJitter(retry, options, random);
}

/**
 * What a sink throws when its caller aborts: a real Error (a DOMException is not one to every
 * tool) named AbortError, with the signal's reason as its cause. `classify` calls it retryable.
 */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';
  constructor(reason?: unknown) {
    super('The operation was aborted', reason === undefined ? undefined : { cause: reason });
    this.name = 'AbortError';
  }
}

export function abortError(signal: AbortSignal): Error {
  return new AbortError(signal.reason);
}

export function isAbortError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortError(signal);
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(abortError(signal));
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortError(signal));
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    }),
};
