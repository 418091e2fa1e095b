// Sentry for faults that wake nobody (ARCHITECTURE.md §3, §6): one event per fault, tagged and
// fingerprinted so one bug across 200 integrations is one issue, rate-limited per fingerprint,
// scrubbed of secrets before it leaves the process. No DSN ⇒ a reporter that does nothing, and
// the SDK is never loaded: importing @sentry/node costs a process ~0.5 s and ~30 MiB of RSS
// (its OpenTelemetry instrumentation comes with it), which a node without Sentry should not pay.
import type { ErrorEvent, Event, NodeClient, Scope } from '@sentry/node';
import type { NodeConfig } from '../config/node-config.js';
import { classify, fingerprint as fingerprintOf, type ErrorKind } from '../errors.js';
import { safeUrl, type Logger } from './logger.js';

export type SentryConfig = NodeConfig['sentry'];

export interface Fault {
  error: unknown;
  integrationId: string;
  appKey: string;
  tier: string;
  /** The sink's type, or `connect` for the source side, or `unknown`. */
  sinkType: string;
  errorClass?: ErrorKind | undefined;
  /** The error's normalised fingerprint (errors.ts `fingerprint()`); computed when absent. */
  fingerprint?: string | undefined;
  nodeId?: string | undefined;
  /** Extra context: scrubbed like everything else (secret-named keys dropped, URLs stripped). */
  extra?: Record<string, unknown> | undefined;
}

export type CaptureOutcome = 'sent' | 'rate_limited' | 'disabled';

export interface FaultReporter {
  readonly enabled: boolean;
  /** Queues one fault for Sentry (never throws, never waits for the network). */
  captureFault(fault: Fault): CaptureOutcome;
  /** Waits up to `timeoutMs` for queued events to be sent; true when all went out. */
  flush(timeoutMs?: number): Promise<boolean>;
  /** Flushes, then releases the client. Idempotent. */
  close(timeoutMs?: number): Promise<boolean>;
}

/** The Sentry grouping key: class + sink type + normalised message (from the error fingerprint). */
export function sentryFingerprint(f: Pick<Fault, 'error' | 'errorClass' | 'sinkType' | 'fingerprint'>): string[] {
  const cls = f.errorClass ?? classify(f.error);
  return [cls, f.sinkType || 'unknown', f.fingerprint ?? fingerprintOf(f.error)];
}

/** Per-fingerprint budget of events per minute (fixed windows). Pure: time comes in. */
export class FingerprintRateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(
    private readonly maxPerMinute: number,
    private readonly windowMs = 60_000,
  ) {}

  allow(key: string, now: number): boolean {
    let w = this.windows.get(key);
    if (w === undefined || now - w.start >= this.windowMs) {
      if (this.windows.size > 10_000) this.prune(now);
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    if (w.count >= this.maxPerMinute) return false;
    w.count += 1;
    return true;
  }

  private prune(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
  }
}

const secretKey = /(token|secret|passw|authori[sz]ation|cookie|routing.?key|api.?key|signature|credential|session|dsn)/i;
const urlPattern = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

/** Strips what may carry a secret from free text: URL userinfo and query, bearer/basic values, key=value secrets. */
export function scrubText(s: string): string {
  return s
    .replace(urlPattern, (u) => (/^https?:/i.test(u) ? safeUrl(u.replace(/[),.;]+$/, '')) : '<url>'))
    .replace(/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]')
    .replace(/\b([A-Za-z_-]*(?:token|secret|password|passwd|api[_-]?key|routing[_-]?key|signature)[A-Za-z_-]*)\s*[=:]\s*("[^"]*"|'[^']*'|[^\s&,;]+)/gi, '$1=[redacted]');
}

/** Recursively scrubs a value: secret-named keys dropped, strings scrubbed; bounded depth. */
export function scrubValue(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return scrubText(v);
  if (depth > 6 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => scrubValue(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (secretKey.test(k)) continue;
    out[k] = scrubValue(x, depth + 1);
  }
  return out;
}

/** Sentry's `beforeSend`: no request headers, cookies, bodies or query strings; no secrets in text. */
export function scrubEvent<E extends Event>(event: E): E {
  if (event.request) {
    event.request = { ...(event.request.url ? { url: safeUrl(event.request.url) } : {}), ...(event.request.method ? { method: event.request.method } : {}) };
  }
  if (typeof event.message === 'string') event.message = scrubText(event.message);
  for (const ex of event.exception?.values ?? []) {
    if (ex.value) ex.value = scrubText(ex.value);
    for (const frame of ex.stacktrace?.frames ?? []) delete frame.vars;
  }
  delete event.breadcrumbs;
  delete event.user;
  if (event.extra) event.extra = scrubValue(event.extra) as Record<string, unknown>;
  if (event.contexts) event.contexts = scrubValue(event.contexts) as typeof event.contexts;
  if (event.tags) event.tags = scrubValue(event.tags) as typeof event.tags;
  return event;
}

/**
 * Sentry captures an Error object once (it marks it); a fault recurring with the same object
 * (a restart loop re-throwing a cached error) must still count, so each capture gets a copy.
 */
function freshError(e: unknown): Error {
  if (!(e instanceof Error)) return new Error(typeof e === 'string' ? e : JSON.stringify(e));
  const copy = new Error(e.message, e.cause === undefined ? undefined : { cause: e.cause });
  copy.name = e.name;
  if (e.stack !== undefined) copy.stack = e.stack;
  return copy;
}

class DisabledReporter implements FaultReporter {
  readonly enabled = false;
  captureFault(): CaptureOutcome {
    return 'disabled';
  }
  async flush(): Promise<boolean> {
    return true;
  }
  async close(): Promise<boolean> {
    return true;
  }
}

class SentryReporter implements FaultReporter {
  readonly enabled = true;
  private readonly limiter: FingerprintRateLimiter;
  private closed: Promise<boolean> | undefined;

  constructor(
    private readonly client: NodeClient,
    private readonly scope: Scope,
    maxPerMinute: number,
    private readonly now: () => number,
  ) {
    this.limiter = new FingerprintRateLimiter(maxPerMinute);
  }

  captureFault(f: Fault): CaptureOutcome {
    if (this.closed) return 'disabled';
    const fp = sentryFingerprint(f);
    if (!this.limiter.allow(fp.join('\u0000'), this.now())) return 'rate_limited';
    const cls = fp[0] as ErrorKind;
    const error = freshError(f.error);
    this.scope.captureException(error, {
      captureContext: {
        level: cls === 'retryable' ? 'warning' : 'error',
        fingerprint: fp,
        tags: {
          integration: f.integrationId,
          app: f.appKey,
          tier: f.tier,
          sink: fp[1]!,
          class: cls,
          ...(f.nodeId ? { node: f.nodeId } : {}),
        },
        ...(f.extra ? { contexts: { fault: f.extra } } : {}),
      },
    });
    return 'sent';
  }

  async flush(timeoutMs = 5_000): Promise<boolean> {
    return this.client.flush(timeoutMs);
  }

  close(timeoutMs = 5_000): Promise<boolean> {
    this.closed ??= Promise.resolve(this.client.close(timeoutMs)).catch(() => false);
    return this.closed;
  }
}

export interface SentryDeps {
  logger?: Logger | undefined;
  env?: NodeJS.ProcessEnv;
  release?: string;
  serverName?: string;
  now?: () => number;
}

/**
 * A reporter for the node. Uses its own client and scope rather than the global `Sentry.init`,
 * so it neither installs process-wide handlers nor instruments HTTP (nothing to leak, and two
 * reporters can live in one test process). DSN: config, else SENTRY_DSN.
 */
export async function createFaultReporter(config: SentryConfig, deps: SentryDeps = {}): Promise<FaultReporter> {
  const dsn = config.dsn ?? (deps.env ?? process.env).SENTRY_DSN;
  if (!dsn) return new DisabledReporter();
  const { NodeClient, Scope, defaultStackParser, linkedErrorsIntegration, makeNodeTransport } = await import('@sentry/node');
  const client = new NodeClient({
    dsn,
    environment: config.environment,
    ...(deps.release ? { release: deps.release } : {}),
    ...(deps.serverName ? { serverName: deps.serverName } : {}),
    transport: makeNodeTransport,
    stackParser: defaultStackParser,
    integrations: [linkedErrorsIntegration()],
    sendDefaultPii: false,
    sendClientReports: false,
    maxBreadcrumbs: 0,
    tracesSampleRate: 0,
    beforeSend: (event: ErrorEvent) => scrubEvent(event),
  });
  const scope = new Scope();
  scope.setClient(client);
  client.init();
  deps.logger?.info({ sentry: safeUrl(dsn), environment: config.environment }, 'sentry enabled');
  return new SentryReporter(client, scope, config.maxEventsPerFingerprintPerMinute, deps.now ?? Date.now);
}
