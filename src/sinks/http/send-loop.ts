// Sends one request until it gets an answer that is not transient: retries with full-jitter
// backoff and Retry-After inside a retry budget; a misconfiguration or an abort is thrown.
import { ErrorCode, TributaryError, classify, type ErrorCode as Code } from '../../errors.js';
import { safeUrl } from '../../observability/logger.js';
import { abortError, nextDelay, systemClock, type BackoffOptions, type Clock } from './backoff.js';
import { parseRetryAfter, type RetryLogic } from './retry-logic.js';
import type { HttpRequest, HttpResponse, HttpTransport } from './transport.js';

export interface RetryEvent {
  /** Requests made so far for this payload. */
  attempt: number;
  delayMs: number;
  code: Code;
  status?: number;
}

export interface SendLoopOptions {
  retryLogic: RetryLogic;
  backoff: BackoffOptions;
  /** Clock time after which no new retry starts (the write's start + maxRetryAgeMs). */
  deadline: number;
  clock?: Clock;
  random?: () => number;
  onRetry?: (event: RetryEvent) => void;
}

export type SendOutcome =
  | { outcome: 'delivered'; status: number; attempts: number }
  | { outcome: 'tooLarge' | 'rejected'; status: number; body: string; code: Code; attempts: number }
  | { outcome: 'exhausted'; error: TributaryError; attempts: number; status?: number; body?: string };

/**
 * Sends the request until delivered, refused (too large / rejected: returned for the caller to split
 * or bisect) or out of budget (`exhausted`). Throws a `misconfiguration` TributaryError on
 * 401/403/404/3xx/SSRF, an AbortError when `signal` aborts (promptly, even mid-wait), and
 * rethrows unclassified errors (bugs). Nothing is assumed delivered when it throws.
 */
export async function sendWithRetry(
  transport: HttpTransport,
  prepare: HttpRequest | (() => HttpRequest),
  options: SendLoopOptions,
  signal: AbortSignal,
): Promise<SendOutcome> {
  const clock = options.clock ?? systemClock;
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) throw abortError(signal);
    // Rebuilt per attempt when a function: a signed timestamp must be fresh, not hours old.
    const req = typeof prepare === 'function' ? prepare() : prepare;
    let failure: { code: Code; error: TributaryError; status?: number; body?: string; retryAfterMs?: number };
    try {
      const res = await transport.send(req, signal);
      const decision = options.retryLogic.decide(res.status);
      switch (decision.outcome) {
        case 'delivered':
          return { outcome: 'delivered', status: res.status, attempts: attempt };
        case 'tooLarge':
        case 'rejected':
          return { outcome: decision.outcome, status: res.status, body: res.body, code: decision.code, attempts: attempt };
        case 'misconfigured':
          throw statusError(decision.code, req, res, clock.now());
        case 'retry': {
          const retryAfterMs = parseRetryAfter(res.headers['retry-after'], clock.now());
          failure = { code: decision.code, error: statusError(decision.code, req, res, clock.now()), status: res.status, body: res.body, retryAfterMs };
          break;
        }
      }
    } catch (err) {
      if (signal.aborted) throw abortError(signal);
      if (classify(err) !== 'retryable') throw err;
      const error = err instanceof TributaryError ? err : new TributaryError(ErrorCode.sinkNetwork, String((err as Error).message ?? err), { cause: err });
      failure = { code: error.code, error };
    }

    const delayMs = nextDelay(attempt - 1, failure.retryAfterMs, options.backoff, options.random);
    if (clock.now() + delayMs > options.deadline) {
      const error = new TributaryError(
        ErrorCode.sinkRetriesExhausted,
        `gave up after ${attempt} attempts: ${failure.error.message}`,
        { cause: failure.error, ...(failure.status === undefined ? {} : { status: failure.status }) },
      );
      return {
        outcome: 'exhausted',
        error,
        attempts: attempt,
        ...(failure.status === undefined ? {} : { status: failure.status }),
        ...(failure.body === undefined ? {} : { body: failure.body }),
      };
    }
    options.onRetry?.({ attempt, delayMs, code: failure.code, ...(failure.status === undefined ? {} : { status: failure.status }) });
    await clock.sleep(delayMs, signal);
  }
}

function statusError(code: Code, req: HttpRequest, res: HttpResponse, now: number): TributaryError {
  const retryAfter = parseRetryAfter(res.headers['retry-after'], now);
  return new TributaryError(code, `HTTP ${res.status} from ${safeUrl(req.url.href)}`, {
    status: res.status,
    ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
    details: res.body ? { responseBody: res.body } : undefined,
  });
}
