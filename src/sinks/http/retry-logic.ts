// The one place an HTTP sink's response status becomes an outcome (STYLE.md: outcomes by type).
// A sink may override single statuses (an API that uses 409 for "duplicate, fine" says so here).
import { ErrorCode } from '../../errors.js';

export const HttpOutcome = {
  /** 2xx: the batch is the receiver's now. */
  delivered: 'delivered',
  /** Transient (429, 5xx, 408, network, timeout): retry with backoff, honouring Retry-After. */
  retry: 'retry',
  /** 413: split the batch; one event still too large is rejected. */
  tooLarge: 'tooLarge',
  /** 400/422 and other 4xx: something in the batch is refused; bisect to find the poison records. */
  rejected: 'rejected',
  /** 401/403/404, 3xx, …: nothing will succeed until a person acts; pause the integration. */
  misconfigured: 'misconfigured',
} as const;
export type HttpOutcome = (typeof HttpOutcome)[keyof typeof HttpOutcome];

export interface StatusDecision {
  outcome: HttpOutcome;
  /** The error code recorded for anything but `delivered`. */
  code: ErrorCode;
}

export type StatusOverrides = Readonly<Record<number, StatusDecision>>;

export interface RetryLogic {
  decide(status: number): StatusDecision;
}

const delivered: StatusDecision = { outcome: 'delivered', code: ErrorCode.sinkRejected };

/**
 * The default table.
 * - 3xx is a misconfiguration: redirects are never followed (an SSRF hop could lead anywhere),
 *   and a moved endpoint will answer 3xx for every batch, so DLQ'ing would drain the whole
 *   stream into the DLQ. Pausing keeps the data in Kafka until the URL is fixed.
 * - 401/403/407 (credentials), 404/410 (no such endpoint), 405/501 (endpoint does not take
 *   POST), 402 (account) are misconfigurations for the same reason.
 * - 408/425/429 and 5xx other than 501/505 are transient.
 * - Any other 4xx refuses the content: bisect to the records responsible.
 * - Anything else (1xx, unknown) is ambiguous, and ambiguous means retry (RELIABILITY.md I4).
 */
export function defaultDecision(status: number): StatusDecision {
  if (status >= 200 && status < 300) return delivered;
  if (status >= 300 && status < 400) return { outcome: 'misconfigured', code: ErrorCode.sinkRedirect };
  switch (status) {
    case 401:
    case 403:
    case 407:
      return { outcome: 'misconfigured', code: ErrorCode.sinkAuth };
    case 404:
    case 410:
      return { outcome: 'misconfigured', code: ErrorCode.sinkNotFound };
    case 402:
    case 405:
    case 501:
    case 505:
      return { outcome: 'misconfigured', code: ErrorCode.sinkMisconfigured };
    case 408:
      return { outcome: 'retry', code: ErrorCode.sinkTimeout };
    case 425:
    case 429:
      return { outcome: 'retry', code: ErrorCode.sinkRateLimited };
    case 413:
      return { outcome: 'tooLarge', code: ErrorCode.sinkTooLarge };
    default:
      break;
  }
  if (status >= 400 && status < 500) return { outcome: 'rejected', code: ErrorCode.sinkRejected };
  return { outcome: 'retry', code: ErrorCode.sinkServer };
}

export function createRetryLogic(overrides: StatusOverrides = {}): RetryLogic {
  return { decide: (status) => overrides[status] ?? defaultDecision(status) };
}

export const defaultRetryLogic: RetryLogic = createRetryLogic();

/**
 * Parses a Retry-After header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). Returns
 * milliseconds from `now`, never negative, or undefined when absent or unparsable.
 */
export function parseRetryAfter(value: string | readonly string[] | undefined, now: number): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value) as string | undefined;
  if (v === undefined) return undefined;
  const text = v.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined; // "1.5", "-3": not valid delay-seconds, not a date
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
