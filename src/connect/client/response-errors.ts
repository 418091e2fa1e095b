// Classifies a non-200, non-307 Connect response into one TributaryError (CONNECT_API.md §7):
// 400/401/402/403 need a person; 429 and 5xx are transient; the server's text is kept, truncated.
import { ErrorCode, TributaryError } from '../../errors.js';
import { parseRetryAfter } from './retry-after.js';

/** Longest server error text carried in an error (it ends up in state rows and alerts). */
export const maxErrorTextChars = 500;

/**
 * The human part of an error body: the JSON `error` field (plus `error_code`/`details` when
 * present, as the Python client does), else the raw text; whitespace collapsed, truncated.
 */
export function serverErrorText(body: string): string {
  const trimmed = body.trim();
  let text = trimmed;
  if (trimmed.startsWith('{')) {
    try {
      const v = JSON.parse(trimmed) as Record<string, unknown>;
      if (typeof v.error === 'string' && v.error) {
        text = v.error;
        if (v.error_code !== undefined) text += ` (error_code ${String(v.error_code)})`;
        if (v.details !== undefined) text += `: ${typeof v.details === 'string' ? v.details : JSON.stringify(v.details)}`;
      }
    } catch {
      // Not JSON after all: keep the raw text.
    }
  }
  text = text.replace(/\s+/g, ' ');
  return text.length > maxErrorTextChars ? `${text.slice(0, maxErrorTextChars)}…` : text;
}

const misconfigured: Record<number, { code: ErrorCode; what: string }> = {
  400: { code: ErrorCode.connectBadRequest, what: 'rejected the request' },
  401: { code: ErrorCode.connectAuth, what: 'rejected the token or app key' },
  402: { code: ErrorCode.connectConcurrency, what: 'refused: too many connections or add-on not enabled' },
  403: { code: ErrorCode.connectNotEntitled, what: 'refused: not entitled' },
};

/** The error for a response status (never 200 or 307), its headers and its (capped) body text. */
export function errorForStatus(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  bodyText: string,
  now: number = Date.now(),
): TributaryError {
  const text = serverErrorText(bodyText);
  const suffix = text ? `: ${text}` : '';
  const details = { serverText: text };
  const known = misconfigured[status];
  if (known) return new TributaryError(known.code, `Connect ${known.what} (HTTP ${status})${suffix}`, { status, details });
  const retryAfterMs = parseRetryAfter(headers['retry-after'], now);
  if (status === 429) {
    return new TributaryError(ErrorCode.connectRateLimited, `Connect rate limited the client (HTTP 429)${suffix}`, {
      status,
      retryAfterMs,
      details,
    });
  }
  // 408 (request timeout) is the server's way of saying "try again".
  if (status >= 500 || status === 408) {
    return new TributaryError(ErrorCode.connectServer, `Connect server error (HTTP ${status})${suffix}`, { status, retryAfterMs, details });
  }
  // Any other status (404, 406, a non-307 redirect…) means the URL or protocol version is wrong:
  // retrying will not help, as with Java's "4xx is a bad request".
  return new TributaryError(ErrorCode.connectBadRequest, `Connect answered an unexpected HTTP ${status}${suffix}`, { status, details });
}
