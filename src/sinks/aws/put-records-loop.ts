// The send loop for batch APIs that answer per record (Firehose PutRecordBatch, Kinesis
// PutRecords): resend only the records that failed, with full-jitter backoff inside the retry
// budget; bisect a batch the service refuses as a whole; throw on misconfiguration.
import { ErrorCode, TributaryError } from '../../errors.js';
import { abortError, fullJitter, type Clock } from '../http/backoff.js';
import type { RecordOutcome } from '../types.js';
import type { AwsRetryConfig } from './config.js';
import { awsError, decideAws } from './errors.js';

/** A service's answer for one record of a request, in request order. */
export type EntryResult = { ok: true } | { ok: false; errorCode: string; errorMessage?: string | undefined };

export interface PutLoopRetryEvent {
  attempt: number;
  delayMs: number;
  code: ErrorCode;
  /** Records resent in the next request. */
  records: number;
}

export interface PutLoopOptions {
  /** Operation and resource, for messages (`PutRecordBatch to stream "x"`). */
  what: string;
  /** Sends one request carrying exactly these input indices; returns one result per index. */
  put(indices: readonly number[], signal: AbortSignal): Promise<EntryResult[]>;
  retry: AwsRetryConfig;
  /** Clock time after which no new retry starts (the write's start + maxRetryAgeMs). */
  deadline: number;
  clock: Clock;
  random: () => number;
  onRetry?: (event: PutLoopRetryEvent) => void;
}

export interface PutLoopStats {
  requests: number;
  retries: number;
}

/**
 * Delivers `indices` and writes their outcomes into `outcomes`. Records the service accepted are
 * never sent again. Throws a `misconfiguration` TributaryError (nothing assumed delivered), an
 * AbortError when `signal` aborts, or an unclassified error (a bug).
 */
export async function putWithPartialRetries(
  indices: readonly number[],
  o: PutLoopOptions,
  outcomes: RecordOutcome[],
  stats: PutLoopStats,
  signal: AbortSignal,
): Promise<void> {
  const tries = new Map<number, number>();
  const tried = (i: number): number => tries.get(i) ?? 0;
  const reject = (i: number, error: TributaryError): void => {
    outcomes[i] = { status: 'rejected', error, attempts: tried(i) };
  };

  let pending = [...indices];
  for (let retry = 0; pending.length > 0; retry++) {
    if (signal.aborted) throw abortError(signal);
    let failure: TributaryError | undefined;
    let results: EntryResult[] | undefined;
    try {
      stats.requests++;
      results = await o.put(pending, signal);
    } catch (raw) {
      if (signal.aborted) throw abortError(signal);
      const err = awsError(raw, o.what);
      if (!(err instanceof TributaryError)) throw err;
      if (err.kind === 'misconfiguration') throw err;
      for (const i of pending) tries.set(i, tried(i) + 1);
      if (err.kind === 'permanent') {
        // The service refused the request as a whole: halve it until the refused records stand alone.
        if (pending.length === 1) {
          reject(pending[0]!, err);
          return;
        }
        const mid = Math.ceil(pending.length / 2);
        await putWithPartialRetries(pending.slice(0, mid), o, outcomes, stats, signal);
        await putWithPartialRetries(pending.slice(mid), o, outcomes, stats, signal);
        return;
      }
      failure = err;
    }

    if (results) {
      if (results.length !== pending.length) {
        // A malformed answer says nothing about which records landed: resend them all (I4).
        failure = new TributaryError(ErrorCode.sinkServer, `${o.what}: ${results.length} results for ${pending.length} records`);
        for (const i of pending) tries.set(i, tried(i) + 1);
      } else {
        const next: number[] = [];
        let first: { code: ErrorCode; errorCode: string; message: string } | undefined;
        for (let k = 0; k < pending.length; k++) {
          const i = pending[k]!;
          const r = results[k]!;
          tries.set(i, tried(i) + 1);
          if (r.ok) {
            outcomes[i] = { status: 'delivered' };
            continue;
          }
          const message = `${o.what}: record refused: ${r.errorCode}${r.errorMessage ? `: ${r.errorMessage}` : ''}`.slice(0, 500);
          const decision = decideAws(r.errorCode, undefined) ?? { kind: 'rejected' as const, code: ErrorCode.sinkRejected };
          if (decision.kind === 'misconfigured') throw new TributaryError(decision.code, message, { details: { awsError: r.errorCode } });
          if (decision.kind === 'rejected' && tried(i) >= o.retry.maxRecordAttempts) {
            reject(i, new TributaryError(decision.code === ErrorCode.sinkTooLarge ? decision.code : ErrorCode.sinkRejected, message, { details: { awsError: r.errorCode } }));
            continue;
          }
          first ??= { code: decision.code, errorCode: r.errorCode, message };
          next.push(i);
        }
        if (next.length === 0) return;
        failure = new TributaryError(first!.code, `${next.length} of ${pending.length} records failed, first: ${first!.message}`, { details: { awsError: first!.errorCode } });
        pending = next;
      }
    }

    const delayMs = fullJitter(retry, o.retry, o.random);
    if (o.clock.now() + delayMs > o.deadline) {
      const attemptsMax = Math.max(...pending.map(tried));
      const error = new TributaryError(ErrorCode.sinkRetriesExhausted, `gave up after ${attemptsMax} attempts: ${failure!.message}`, { cause: failure! });
      for (const i of pending) reject(i, error);
      return;
    }
    o.onRetry?.({ attempt: retry + 1, delayMs, code: failure!.code, records: pending.length });
    stats.retries++;
    await o.clock.sleep(delayMs, signal);
  }
}
