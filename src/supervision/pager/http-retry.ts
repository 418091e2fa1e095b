// The pagers' one send loop: POST JSON with a bounded, jittered exponential backoff on 429,
// 5xx and network errors, honouring Retry-After; any other 4xx fails at once. Logs never
// carry the request body or headers (they hold the routing key or token).
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { z } from 'zod';
import { classify, errorMessage } from '../../errors.js';
import { safeUrl, type Logger } from '../../observability/logger.js';

export const pagerRetrySchema = z
  .strictObject({
    /** Total attempts, the first included; a page that cannot be sent within them fails loudly. */
    maxAttempts: z.number().int().min(1).max(20).default(6),
    initialDelayMs: z.number().int().min(0).default(500),
    maxDelayMs: z.number().int().min(0).default(15_000),
    /** Per attempt: response headers and body each. */
    timeoutMs: z.number().int().min(1).default(10_000),
  })
  .prefault({});
export type PagerRetry = z.infer<typeof pagerRetrySchema>;

/** A page that could not be delivered. `retriable` follows KafkaJS's flag so `classify()` reads it. */
export class PagerError extends Error {
  readonly status: number | undefined;
  readonly retriable: boolean;
  readonly attempts: number;
  constructor(message: string, opts: { status?: number | undefined; retriable: boolean; attempts: number; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PagerError';
    this.status = opts.status;
    this.retriable = opts.retriable;
    this.attempts = opts.attempts;
  }
}

export interface PostJsonOptions {
  url: string;
  body: unknown;
  headers?: Record<string, string>;
  retry: PagerRetry;
  logger?: Logger | undefined;
  /** Safe context for log lines (dedup key, pager type); never secrets. */
  context: Record<string, unknown>;
  signal?: AbortSignal | undefined;
}

export interface JsonResponse {
  status: number;
  body: unknown;
  attempts: number;
}

function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (v === undefined) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1_000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function backoffMs(retry: PagerRetry, attempt: number): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** (attempt - 1));
  // Equal jitter: never less than half the step, so retries stay spaced, and never in lockstep.
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text.slice(0, 500);
  }
}

function describeBody(body: unknown): string {
  if (typeof body === 'string') return body;
  if (typeof body === 'object' && body !== null) {
    const b = body as { message?: unknown; errors?: unknown };
    const parts = [typeof b.message === 'string' ? b.message : undefined, Array.isArray(b.errors) ? b.errors.join('; ') : undefined];
    return parts.filter(Boolean).join(': ').slice(0, 500);
  }
  return '';
}

export async function postJsonWithRetry(o: PostJsonOptions): Promise<JsonResponse> {
  const where = safeUrl(o.url);
  const payload = JSON.stringify(o.body);
  for (let attempt = 1; ; attempt += 1) {
    let waitMs: number;
    let reason: string;
    let status: number | undefined;
    try {
      const res = await request(o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...o.headers },
        body: payload,
        headersTimeout: o.retry.timeoutMs,
        bodyTimeout: o.retry.timeoutMs,
        signal: o.signal,
      });
      status = res.statusCode;
      const body = parseBody(await res.body.text());
      if (status >= 200 && status < 300) return { status, body, attempts: attempt };
      reason = `HTTP ${status}${describeBody(body) ? ` (${describeBody(body)})` : ''}`;
      if (status !== 429 && status < 500) {
        throw new PagerError(`page rejected by ${where}: ${reason}`, { status, retriable: false, attempts: attempt });
      }
      waitMs = Math.min(o.retry.maxDelayMs, retryAfterMs(res.headers['retry-after']) ?? backoffMs(o.retry, attempt));
    } catch (err) {
      if (err instanceof PagerError) throw err;
      if (o.signal?.aborted) throw err;
      if (classify(err) !== 'retryable') {
        throw new PagerError(`page to ${where} failed: ${errorMessage(err)}`, { retriable: false, attempts: attempt, cause: err });
      }
      reason = errorMessage(err);
      waitMs = backoffMs(o.retry, attempt);
    }
    if (attempt >= o.retry.maxAttempts) {
      throw new PagerError(`page to ${where} failed after ${attempt} attempts: ${reason}`, { status, retriable: true, attempts: attempt });
    }
    o.logger?.warn({ ...o.context, url: where, attempt, status, retryInMs: waitMs, reason }, 'page send failed; retrying');
    await sleep(waitMs, undefined, { signal: o.signal });
  }
}
