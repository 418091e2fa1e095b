// The send loop for AWS calls that succeed or fail as a whole (S3 PutObject): retry transient
// errors with full-jitter backoff inside the retry budget; report a refusal; throw on
// misconfiguration or abort.
import { ErrorCode, TributaryError } from '../../errors.js';
import { abortError, fullJitter, type BackoffOptions, type Clock } from '../http/backoff.js';
import { awsError } from './errors.js';

export type RequestOutcome =
  | { outcome: 'delivered'; attempts: number }
  /** The service refused the request on its merits (a 4xx other than auth/not-found). */
  | { outcome: 'rejected'; error: TributaryError; attempts: number }
  /** Still failing transiently when the retry budget ran out. */
  | { outcome: 'exhausted'; error: TributaryError; attempts: number };

export interface RequestLoopOptions {
  /** Operation and resource, for messages. */
  what: string;
  backoff: Pick<BackoffOptions, 'initialMs' | 'maxMs' | 'multiplier'>;
  deadline: number;
  clock: Clock;
  random: () => number;
  onRetry?: (event: { attempt: number; delayMs: number; code: ErrorCode; status?: number | undefined }) => void;
}

/**
 * Calls `send` until it resolves, is refused, or the budget runs out. Throws a `misconfiguration`
 * TributaryError, an AbortError when `signal` aborts (promptly, even mid-wait), or an
 * unclassified error (a bug). Nothing is assumed delivered when it throws.
 */
export async function sendAwsRequest(send: (signal: AbortSignal) => Promise<unknown>, o: RequestLoopOptions, signal: AbortSignal): Promise<RequestOutcome> {
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) throw abortError(signal);
    let error: TributaryError;
    try {
      await send(signal);
      return { outcome: 'delivered', attempts: attempt };
    } catch (raw) {
      if (signal.aborted) throw abortError(signal);
      const err = awsError(raw, o.what);
      if (!(err instanceof TributaryError)) throw err;
      if (err.kind === 'misconfiguration') throw err;
      if (err.kind !== 'retryable') return { outcome: 'rejected', error: err, attempts: attempt };
      error = err;
    }
    const delayMs = fullJitter(attempt - 1, o.backoff, o.random);
    if (o.clock.now() + delayMs > o.deadline) {
      const exhausted = new TributaryError(ErrorCode.sinkRetriesExhausted, `gave up after ${attempt} attempts: ${error.message}`, {
        cause: error,
        ...(error.status === undefined ? {} : { status: error.status }),
      });
      return { outcome: 'exhausted', error: exhausted, attempts: attempt };
    }
    o.onRetry?.({ attempt, delayMs, code: error.code, status: error.status });
    await o.clock.sleep(delayMs, signal);
  }
}
