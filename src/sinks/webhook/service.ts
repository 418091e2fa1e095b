// The webhook Sink: POSTs batches through the shared send loop, splits on 413 and bisects on
// 400/422 so one poison record goes to the DLQ while its neighbours are delivered.
import { TributaryError } from '../../errors.js';
import { retryLogLevel, safeUrl } from '../../observability/logger.js';
import { abortError, systemClock, type BackoffOptions, type Clock } from '../http/backoff.js';
import { defaultRetryLogic, type RetryLogic } from '../http/retry-logic.js';
import { sendWithRetry, type SendOutcome } from '../http/send-loop.js';
import { createSsrfAgent, type Resolver } from '../http/ssrf-agent.js';
import { createHttpTransport, type HttpRequest, type HttpTransport } from '../http/transport.js';
import type { EventRecord, RecordOutcome, Sink, SinkContext, WriteResult } from '../types.js';
import type { WebhookConfig } from './config.js';
import { healthcheckWebhook } from './healthcheck.js';
import { buildWebhookRequest, signPayload, type WebhookRequest } from './request-builder.js';

/** Seams for tests; production passes none of these. */
export interface WebhookSinkOptions {
  /** Replaces the SSRF-guarded undici transport (unit tests of split/bisect). */
  transport?: HttpTransport;
  /** The DNS used by the SSRF guard (tests point names at chosen addresses). */
  resolver?: Resolver;
  clock?: Clock;
  random?: () => number;
  retryLogic?: RetryLogic;
}

interface Prepared {
  url: URL;
  baseHeaders: Record<string, string>;
  signingSecret: string | undefined;
}

/** Resolves the secrets once per build: a rotated secret takes effect when the integration restarts. */
async function prepare(config: WebhookConfig, ctx: SinkContext): Promise<Prepared> {
  const baseHeaders: Record<string, string> = { ...config.headers };
  const auth = config.auth;
  if (auth.type === 'bearer') baseHeaders.authorization = `Bearer ${await ctx.resolveSecret(auth.token)}`;
  if (auth.type === 'basic') {
    const password = await ctx.resolveSecret(auth.password);
    baseHeaders.authorization = `Basic ${Buffer.from(`${auth.username}:${password}`).toString('base64')}`;
  }
  if (auth.type === 'header') baseHeaders[auth.name.toLowerCase()] = await ctx.resolveSecret(auth.value);
  const signingSecret = config.signing ? await ctx.resolveSecret(config.signing.secret) : undefined;
  return { url: new URL(config.url), baseHeaders, signingSecret };
}

export async function createWebhookSink(config: WebhookConfig, ctx: SinkContext, options: WebhookSinkOptions = {}): Promise<Sink> {
  const prepared = await prepare(config, ctx);
  const clock = options.clock ?? systemClock;
  const retryLogic = options.retryLogic ?? defaultRetryLogic;
  const backoff: BackoffOptions = { ...config.retry };
  const transport =
    options.transport ??
    createHttpTransport({
      dispatcher: createSsrfAgent({
        local: ctx.local,
        connections: config.maxConnections,
        connectTimeoutMs: Math.min(config.timeoutMs, 10_000),
        ...(options.resolver ? { resolver: options.resolver } : {}),
      }),
      timeoutMs: config.timeoutMs,
    });
  const log = ctx.logger.child({ sink: 'webhook', integrationId: ctx.integrationId, url: safeUrl(config.url) });

  const build = (records: readonly EventRecord[]): Promise<WebhookRequest> =>
    buildWebhookRequest(records, {
      format: config.format,
      gzip: config.gzip,
      integrationId: ctx.integrationId,
      timestamp: Math.floor(clock.now() / 1000),
      baseHeaders: prepared.baseHeaders,
    });

  /** Per attempt: the body is reused, the signed timestamp is fresh. */
  const toHttp = (built: WebhookRequest): (() => HttpRequest) => () => {
    const headers = { ...built.headers };
    if (prepared.signingSecret !== undefined) {
      const ts = Math.floor(clock.now() / 1000);
      headers['x-tributary-timestamp'] = String(ts);
      headers['x-tributary-signature'] = signPayload(prepared.signingSecret, ts, built.payload);
    }
    return { method: 'POST', url: prepared.url, headers, body: built.body };
  };

  async function write(batch: readonly EventRecord[], signal: AbortSignal): Promise<WriteResult> {
    if (signal.aborted) throw abortError(signal);
    const outcomes: RecordOutcome[] = new Array<RecordOutcome>(batch.length);
    const stats = { requests: 0, retries: 0, bytesSent: 0 };
    const deadline = clock.now() + config.retry.maxRetryAgeMs;

    const reject = (lo: number, hi: number, error: TributaryError, attempts: number, status?: number, body?: string): void => {
      for (let i = lo; i < hi; i++) {
        outcomes[i] = {
          status: 'rejected',
          error,
          attempts,
          ...(status === undefined ? {} : { httpStatus: status }),
          ...(body ? { responseBody: body } : {}),
        };
      }
    };

    // Halves are sent left then right, so records keep their order at the receiver.
    const deliver = async (lo: number, hi: number, priorAttempts: number): Promise<void> => {
      const records = batch.slice(lo, hi);
      const built = await build(records);
      if (built.payload.length > config.maxBatchBytes && hi - lo > 1) {
        // The caller batches by event bytes; framing can tip it over: split without asking.
        const mid = lo + Math.ceil((hi - lo) / 2);
        await deliver(lo, mid, priorAttempts);
        await deliver(mid, hi, priorAttempts);
        return;
      }
      const result: SendOutcome = await sendWithRetry(
        transport,
        toHttp(built),
        {
          retryLogic,
          backoff,
          deadline,
          clock,
          ...(options.random ? { random: options.random } : {}),
          onRetry: (e) => {
            stats.retries++;
            log[retryLogLevel(e.attempt)]({ event: 'sink.retry', stage: 'send', code: e.code, status: e.status, attempt: e.attempt, delayMs: e.delayMs, events: hi - lo }, 'webhook send failed; retrying');
          },
        },
        signal,
      );
      stats.requests += result.attempts;
      const attempts = priorAttempts + result.attempts;
      switch (result.outcome) {
        case 'delivered':
          stats.bytesSent += built.body.length;
          for (let i = lo; i < hi; i++) outcomes[i] = { status: 'delivered' };
          return;
        case 'exhausted':
          log.warn({ event: 'sink.error', stage: 'send', code: result.error.code, status: result.status, events: hi - lo, attempts }, 'webhook retry budget exhausted; records go to the DLQ');
          reject(lo, hi, result.error, attempts, result.status, result.body);
          return;
        case 'tooLarge':
        case 'rejected': {
          if (hi - lo === 1) {
            const error = new TributaryError(result.code, `HTTP ${result.status} from ${safeUrl(config.url)} for event ${batch[lo]!.eventId}`, {
              status: result.status,
            });
            log.warn({ event: 'sink.error', stage: 'send', code: result.code, status: result.status, eventId: batch[lo]!.eventId }, 'webhook refused a record; it goes to the DLQ');
            reject(lo, hi, error, attempts, result.status, result.body);
            return;
          }
          const mid = lo + Math.ceil((hi - lo) / 2);
          await deliver(lo, mid, attempts);
          await deliver(mid, hi, attempts);
          return;
        }
      }
    };

    await deliver(0, batch.length, 0);
    return { outcomes, requests: stats.requests, retries: stats.retries, bytesSent: stats.bytesSent };
  }

  return {
    limits: { maxBatchEvents: config.maxBatchEvents, maxBatchBytes: config.maxBatchBytes },
    write,
    healthcheck: (signal) =>
      healthcheckWebhook({ transport, retryLogic, request: async () => toHttp(await build([]))() }, signal),
    close: () => transport.close(),
  };
}

