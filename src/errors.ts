// Every error Tributary raises or classifies, in one place (ARCHITECTURE.md §5).
// A closed set of codes, each with a kind that decides the action: retry, DLQ, pause, exit.

export const ErrorKind = {
  /** Retry with backoff; never pages alone (network, 5xx, 429, leader change, throttling). */
  retryable: 'retryable',
  /** This record never will succeed: DLQ it and move on (unparsable line, 400/413 for one record). */
  permanent: 'permanent',
  /** Nothing will succeed until a person acts: pause, notify the customer, probe slowly. */
  misconfiguration: 'misconfiguration',
  /** The node itself is unhealthy (Kafka/DynamoDB unreachable past grace): exit non-zero. */
  nodeFault: 'nodeFault',
  /** Unclassified: a bug. Sentry, restart with backoff. */
  fatal: 'fatal',
} as const;
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

export const ErrorCode = {
  configInvalid: 'config_invalid',
  specInvalid: 'spec_invalid',
  secretUnresolved: 'secret_unresolved',
  infraMissingTool: 'infra_missing_tool',
  infraStartFailed: 'infra_start_failed',
  infraPortInUse: 'infra_port_in_use',
  connectAuth: 'connect_auth',
  connectNotEntitled: 'connect_not_entitled',
  connectBadRequest: 'connect_bad_request',
  connectConcurrency: 'connect_concurrency',
  connectRateLimited: 'connect_rate_limited',
  connectServer: 'connect_server',
  connectNetwork: 'connect_network',
  connectIdleTimeout: 'connect_idle_timeout',
  connectRedirectLoop: 'connect_redirect_loop',
  connectStreamCorrupt: 'connect_stream_corrupt',
  connectHostNotAllowed: 'connect_host_not_allowed',
  poisonLine: 'poison_line',
  poisonOversizedLine: 'poison_oversized_line',
  kafkaUnavailable: 'kafka_unavailable',
  stateUnavailable: 'state_unavailable',
  stateConflict: 'state_conflict',
  sinkRejected: 'sink_rejected',
  sinkTooLarge: 'sink_too_large',
  sinkAuth: 'sink_auth',
  sinkNotFound: 'sink_not_found',
  sinkRateLimited: 'sink_rate_limited',
  sinkServer: 'sink_server',
  sinkNetwork: 'sink_network',
  sinkTimeout: 'sink_timeout',
  /** A sink answered 3xx: redirects are never followed, the URL needs fixing. */
  sinkRedirect: 'sink_redirect',
  /** The sink refuses the request shape or account (405, 501, 402) or its storage is unusable. */
  sinkMisconfigured: 'sink_misconfigured',
  /** Transient storage trouble in a local sink (disk full, I/O error). */
  sinkStorage: 'sink_storage',
  /** A record stayed undeliverable for the whole retry budget (maxRetryAgeMs): DLQ it. */
  sinkRetriesExhausted: 'sink_retries_exhausted',
  /** An event the vendor's model cannot hold (no user or device id, unparsable, over the vendor's per-event size): DLQ it. */
  sinkUnmappable: 'sink_unmappable',
  /** The vendor refuses this user's or device's events until its quota resets (Amplitude daily quota): DLQ it. */
  sinkQuotaExceeded: 'sink_quota_exceeded',
  ssrfBlocked: 'ssrf_blocked',
  bug: 'bug',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const kindOfCode: Record<ErrorCode, ErrorKind> = {
  config_invalid: 'misconfiguration',
  spec_invalid: 'misconfiguration',
  secret_unresolved: 'misconfiguration',
  infra_missing_tool: 'nodeFault',
  infra_start_failed: 'nodeFault',
  infra_port_in_use: 'nodeFault',
  connect_auth: 'misconfiguration',
  connect_not_entitled: 'misconfiguration',
  connect_bad_request: 'misconfiguration',
  connect_concurrency: 'misconfiguration',
  connect_rate_limited: 'retryable',
  connect_server: 'retryable',
  connect_network: 'retryable',
  connect_idle_timeout: 'retryable',
  connect_redirect_loop: 'retryable',
  connect_stream_corrupt: 'retryable',
  connect_host_not_allowed: 'misconfiguration',
  poison_line: 'permanent',
  poison_oversized_line: 'permanent',
  kafka_unavailable: 'retryable',
  state_unavailable: 'retryable',
  state_conflict: 'permanent',
  sink_rejected: 'permanent',
  sink_too_large: 'permanent',
  sink_auth: 'misconfiguration',
  sink_not_found: 'misconfiguration',
  sink_rate_limited: 'retryable',
  sink_server: 'retryable',
  sink_network: 'retryable',
  sink_timeout: 'retryable',
  sink_redirect: 'misconfiguration',
  sink_misconfigured: 'misconfiguration',
  sink_storage: 'retryable',
  sink_retries_exhausted: 'permanent',
  sink_unmappable: 'permanent',
  sink_quota_exceeded: 'permanent',
  ssrf_blocked: 'misconfiguration',
  bug: 'fatal',
};

export interface TributaryErrorOptions {
  cause?: unknown;
  /** HTTP status of the response that caused it, when there was one. */
  status?: number;
  /** Milliseconds the server asked us to wait (Retry-After). */
  retryAfterMs?: number;
  /** Extra context safe to log (never secrets). */
  details?: Record<string, unknown>;
}

export class TributaryError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: TributaryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TributaryError';
    this.code = code;
    this.kind = kindOfCode[code];
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
  }
}

/** A configuration or spec problem, carrying the path of every bad key. */
export class ConfigError extends TributaryError {
  readonly issues: readonly { path: string; message: string }[];
  constructor(
    code: typeof ErrorCode.configInvalid | typeof ErrorCode.specInvalid,
    what: string,
    issues: readonly { path: string; message: string }[],
  ) {
    super(code, `${what}:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

const severity: Record<ErrorKind, number> = {
  retryable: 0,
  permanent: 1,
  misconfiguration: 2,
  nodeFault: 3,
  fatal: 4,
};

/**
 * The kind of any thrown value. Walks the `cause` chain: the most severe kind found wins,
 * so any non-retryable link makes the whole error non-retryable. Unknown errors are bugs,
 * except well-known transient network errors from Node itself.
 */
export function classify(err: unknown): ErrorKind {
  let worst: ErrorKind | undefined;
  const seen = new Set<unknown>();
  for (let e: unknown = err; e !== undefined && e !== null && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const kind = kindOf(e);
    if (kind !== undefined && (worst === undefined || severity[kind] > severity[worst])) worst = kind;
  }
  return worst ?? 'fatal';
}

const transientNodeCodes = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH',
  'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED', 'ERR_STREAM_PREMATURE_CLOSE', 'Z_BUF_ERROR',
]);

function kindOf(e: unknown): ErrorKind | undefined {
  if (e instanceof TributaryError) return e.kind;
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && transientNodeCodes.has(code)) return 'retryable';
  // kafkajs marks its own errors with `retriable`.
  const retriable = (e as { retriable?: unknown }).retriable;
  if (typeof retriable === 'boolean') return retriable ? 'retryable' : undefined;
  if ((e as { name?: unknown }).name === 'AbortError') return 'retryable';
  return undefined;
}

/** A stable, low-cardinality fingerprint: class + code + message with ids and numbers removed. */
export function fingerprint(err: unknown, extra: readonly string[] = []): string {
  const code = err instanceof TributaryError ? err.code : ((err as { code?: unknown })?.code ?? 'unknown');
  const message = err instanceof Error ? err.message : String(err);
  const normalised = message
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
    .replace(/https?:\/\/[^\s"']+/g, '<url>')
    .replace(/\b\d+(\.\d+)?\b/g, '<n>')
    .slice(0, 200);
  return [classify(err), String(code), ...extra, normalised].join('|');
}

/** Message of any thrown value, for logs and state rows (never includes request headers). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
