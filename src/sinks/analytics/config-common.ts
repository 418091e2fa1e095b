// The keys every analytics sink shares (endpoint override, timeouts, retry, adaptive concurrency,
// event naming), as zod fragments, and the checks a schema cannot make alone. Pure.
import { z } from 'zod';
import { ConfigError, ErrorCode } from '../../errors.js';
import { zodIssues } from '../../config/zod-issues.js';
import { isInline, type SecretRef } from '../../control/secrets.js';
import { checkSinkUrl } from '../http/url-policy.js';
import type { ValidateContext } from '../types.js';

export const retrySchema = z
  .strictObject({
    initialMs: z.number().int().min(1).max(600_000).default(500),
    maxMs: z.number().int().min(1).max(3_600_000).default(60_000),
    multiplier: z.number().min(1).max(10).default(2),
    /** After retrying this long, the records are rejected (DLQ) with sink_retries_exhausted. */
    maxRetryAgeMs: z.number().int().min(0).max(7 * 24 * 3_600_000).default(6 * 3_600_000),
    /** Retry-After is honoured up to this. */
    maxRetryAfterMs: z.number().int().min(0).max(24 * 3_600_000).default(15 * 60_000),
  })
  .prefault({});

export const adaptiveConcurrencySchema = z
  .strictObject({
    /** In-flight requests per integration never go below this… */
    minLimit: z.number().int().min(1).max(64).default(1),
    /** …nor above this (also the connection pool size). */
    maxLimit: z.number().int().min(1).max(64).default(8),
    /** Where the limit starts. */
    initialLimit: z.number().int().min(1).max(64).default(2),
    /** Multiplier on back-pressure (429, 503, timeouts, RTT spikes). */
    decreaseRatio: z.number().gt(0).lt(1).default(0.5),
    /** An RTT above baseline × (1 + this) counts as back-pressure. */
    rttToleranceRatio: z.number().gt(0).max(100).default(1),
  })
  .prefault({});

export const commonAnalyticsKeys = {
  /**
   * Replaces the vendor's endpoint origin (`https://host[:port]`, optional path prefix). For
   * proxies and tests; http to loopback in local mode only, like every sink URL.
   */
  baseUrl: z.string().min(1).max(2048).optional(),
  /** Whole-request deadline: connect, send, response headers and the bounded body read. */
  timeoutMs: z.number().int().min(100).max(300_000).default(30_000),
  retry: retrySchema,
  adaptiveConcurrency: adaptiveConcurrencySchema,
  /** Prefix of the event name of every non-CUSTOM event: `Airship ` ⇒ `Airship OPEN`. */
  eventNamePrefix: z.string().max(64).default('Airship '),
};

export type RetryConfig = z.infer<typeof retrySchema>;
export type AdaptiveConcurrencyConfig = z.infer<typeof adaptiveConcurrencySchema>;

export interface CommonAnalyticsConfig {
  baseUrl?: string | undefined;
  timeoutMs: number;
  retry: RetryConfig;
  adaptiveConcurrency: AdaptiveConcurrencyConfig;
  eventNamePrefix: string;
  maxBatchEvents: number;
  maxBatchBytes: number;
}

export type Issue = { path: string; message: string };

const prefixed = (issues: readonly Issue[]): Issue[] => issues.map((i) => ({ path: i.path ? `sink.${i.path}` : 'sink', message: i.message }));

/**
 * Parses with `schema`, then runs the shared checks and `extra` (sink-specific); throws one
 * ConfigError listing every problem with its `sink.*` path.
 */
export function validateAnalyticsConfig<S extends z.ZodType<CommonAnalyticsConfig & { type: string }>>(
  schema: S,
  raw: unknown,
  ctx: ValidateContext,
  secrets: (config: z.infer<S>) => [string, SecretRef | undefined][],
  extra: (config: z.infer<S>) => Issue[] = () => [],
): z.infer<S> {
  const parsed = schema.safeParse(raw);
  const what = `invalid ${typeof (raw as { type?: unknown })?.type === 'string' ? String((raw as { type: string }).type) : 'analytics'} sink`;
  if (!parsed.success) throw new ConfigError(ErrorCode.configInvalid, what, prefixed(zodIssues(parsed.error)));
  const config = parsed.data as z.infer<S>;
  const issues: Issue[] = [];
  if (config.baseUrl !== undefined) {
    const url = checkSinkUrl(config.baseUrl, { local: ctx.local });
    if (!url.ok) issues.push({ path: 'baseUrl', message: url.problem });
    else if (url.url.search) issues.push({ path: 'baseUrl', message: 'must not contain a query string' });
  }
  if (config.retry.maxMs < config.retry.initialMs) issues.push({ path: 'retry.maxMs', message: 'must be at least retry.initialMs' });
  const ac = config.adaptiveConcurrency;
  if (ac.maxLimit < ac.minLimit) issues.push({ path: 'adaptiveConcurrency.maxLimit', message: 'must be at least adaptiveConcurrency.minLimit' });
  if (ac.initialLimit < ac.minLimit || ac.initialLimit > ac.maxLimit) {
    issues.push({ path: 'adaptiveConcurrency.initialLimit', message: 'must be between minLimit and maxLimit' });
  }
  issues.push(...extra(config));
  // Inline secret values are for local experiments; in production a spec carries references only.
  if (!ctx.local) {
    for (const [path, ref] of secrets(config)) {
      if (ref && isInline(ref)) issues.push({ path, message: 'inline secret values are allowed in local mode only; use {"ref": "env:NAME"} or {"ref": "file:/path"}' });
    }
  }
  if (issues.length) throw new ConfigError(ErrorCode.configInvalid, what, prefixed(issues));
  return config;
}

/** The vendor URL: `path` (and `query`) on `baseUrl` when set, else on the vendor's origin. */
export function endpointUrl(defaultOrigin: string, baseUrl: string | undefined, path: string, query: Record<string, string> = {}): URL {
  const base = new URL(baseUrl ?? defaultOrigin);
  const prefix = base.pathname.replace(/\/+$/, '');
  const url = new URL(prefix + path, base.origin);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url;
}
