// The sending service shared by the analytics sinks: map each record, refuse what the vendor
// cannot hold, cut the rest into requests, send them concurrently under the adaptive limiter
// through the shared send loop, and turn each vendor answer (partial failures, throttling,
// 413) into exactly one outcome per record, in input order. Each vendor supplies a protocol.
import { ErrorCode, TributaryError, type ErrorCode as Code } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { retryLogLevel, safeUrl } from '../../observability/logger.js';
import { createAdaptiveLimiter, withAdaptiveConcurrency, type AdaptiveLimiter } from '../http/adaptive-concurrency.js';
import { abortError, systemClock, type BackoffOptions, type Clock } from '../http/backoff.js';
import { parseRetryAfter, type RetryLogic } from '../http/retry-logic.js';
import { sendWithRetry } from '../http/send-loop.js';
import { createSsrfAgent, type Resolver } from '../http/ssrf-agent.js';
import { maxResponseKeptBytes, truncateUtf8, type HttpRequest, type HttpTransport } from '../http/transport.js';
import type { EventRecord, RecordOutcome, Sink, SinkContext, WriteResult } from '../types.js';
import { planChunks } from './chunking.js';
import type { CommonAnalyticsConfig } from './config-common.js';
import { mapConnectEvent, type AnalyticsEvent } from './connect-mapping.js';
import { createVendorTransport } from './vendor-transport.js';

/** One event in a request: its position in the write's batch, its id and its vendor JSON. */
export interface EncodedEvent {
  index: number;
  insertId: string;
  json: string;
  bytes: number;
  /** The event's user and device ids, for vendors that throttle per user or device. */
  userId?: string | undefined;
  deviceId?: string | undefined;
}

/** What a vendor's non-2xx answer means for the events of the request (positions within it). */
export type VendorVerdict =
  /** These events are refused; the others were ingested (`othersIngested`) or must be resent. */
  | { kind: 'partial'; rejected: ReadonlyMap<number, string>; othersIngested: boolean; code: Code }
  /** Slow down: refuse `refused` (quota spent) and resend the rest after `delayMs`. */
  | { kind: 'throttled'; refused: ReadonlyMap<number, string>; delayMs: number }
  /** No per-event detail: split the request to find the events responsible. */
  | { kind: 'bisect' }
  /** Nothing will succeed until a person acts (a bad API key answered as 400). */
  | { kind: 'misconfigured'; code: Code; message: string };

export interface VendorProtocol {
  /** The sink type, for logs and messages. */
  readonly name: string;
  readonly url: URL;
  readonly maxRequestEvents: number;
  readonly maxRequestBytes: number;
  /** Larger events are refused before sending (sink_too_large). */
  readonly maxEventBytes: number;
  /** Envelope bytes around the events, for chunking. */
  readonly envelopeBytes: number;
  readonly retryLogic: RetryLogic;
  /** Pure: the vendor JSON of one event, or a reason it cannot be expressed. */
  encode(event: AnalyticsEvent): { ok: true; json: string } | { ok: false; reason: string };
  /** The request for these encoded events (may compress). Called once per request, reused across retries. */
  request(events: readonly EncodedEvent[]): Promise<HttpRequest>;
  /** Reads a `rejected` answer (a 4xx the retry logic hands back) to a request of these events. */
  interpret(answer: { status: number; body: string; headers: HttpResponseHeaders }, events: readonly EncodedEvent[], now: number): VendorVerdict;
}

export type HttpResponseHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Seams for tests; production passes none of these. */
export interface AnalyticsSinkOptions {
  transport?: HttpTransport;
  resolver?: Resolver;
  clock?: Clock;
  random?: () => number;
  /** The limiter (tests inspect it); by default one per sink from `adaptiveConcurrency`. */
  limiter?: AdaptiveLimiter;
}

export interface AnalyticsSinkParts {
  protocol: VendorProtocol;
  config: CommonAnalyticsConfig;
  ctx: SinkContext;
  options: AnalyticsSinkOptions;
  /** The zero-event probe (each sink's healthcheck.ts). */
  healthcheck(transport: HttpTransport, signal: AbortSignal): Promise<void>;
}

/** Bytes of JSON-string overhead are small; the DLQ body stays ≤ 1 KiB. */
function verdictBody(fields: Record<string, unknown>): string {
  return truncateUtf8(Buffer.from(JSON.stringify(fields)), maxResponseKeptBytes);
}

export function createAnalyticsSink(parts: AnalyticsSinkParts): Sink {
  const { protocol, config, ctx, options } = parts;
  const clock = options.clock ?? systemClock;
  const backoff: BackoffOptions = { ...config.retry };
  const limiter = options.limiter ?? createAdaptiveLimiter(config.adaptiveConcurrency);
  const inner =
    options.transport ??
    createVendorTransport({
      dispatcher: createSsrfAgent({
        local: ctx.local,
        connections: config.adaptiveConcurrency.maxLimit,
        connectTimeoutMs: Math.min(config.timeoutMs, 10_000),
        ...(options.resolver ? { resolver: options.resolver } : {}),
      }),
      timeoutMs: config.timeoutMs,
    });
  // The last answer's headers per request object: the send loop hands back a refused answer's
  // status and body, and a throttling verdict also needs its Retry-After.
  const answerHeaders = new WeakMap<HttpRequest, HttpResponseHeaders>();
  const adaptive = withAdaptiveConcurrency(inner, limiter);
  const transport: HttpTransport = {
    async send(req, signal) {
      const res = await adaptive.send(req, signal);
      answerHeaders.set(req, res.headers);
      return res;
    },
    close: () => adaptive.close(),
  };
  const log: Logger = ctx.logger.child({ sink: protocol.name, integrationId: ctx.integrationId, url: safeUrl(protocol.url.href) });

  async function write(batch: readonly EventRecord[], signal: AbortSignal): Promise<WriteResult> {
    if (signal.aborted) throw abortError(signal);
    const outcomes = new Array<RecordOutcome>(batch.length);
    const stats = { requests: 0, retries: 0, bytesSent: 0 };
    const deadline = clock.now() + config.retry.maxRetryAgeMs;

    const rejectOne = (index: number, error: TributaryError, attempts: number, status: number | undefined, body: string | undefined): void => {
      outcomes[index] = {
        status: 'rejected',
        error,
        attempts,
        ...(status === undefined ? {} : { httpStatus: status }),
        ...(body ? { responseBody: body } : {}),
      };
    };

    // 1. Map and encode; refuse what the vendor's model or limits cannot hold, without a request.
    const ready: EncodedEvent[] = [];
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i]!;
      const mapped = mapConnectEvent(record, { eventNamePrefix: config.eventNamePrefix });
      const encoded = mapped.ok ? protocol.encode(mapped.event) : mapped;
      if (!encoded.ok) {
        const error = new TributaryError(ErrorCode.sinkUnmappable, `${protocol.name}: event ${record.eventId}: ${encoded.reason}`);
        rejectOne(i, error, 0, undefined, verdictBody({ insert_id: record.eventId, reason: encoded.reason }));
        continue;
      }
      const bytes = Buffer.byteLength(encoded.json);
      if (bytes > protocol.maxEventBytes) {
        const reason = `the ${protocol.name} event is ${bytes} bytes, above the ${protocol.maxEventBytes}-byte limit per event`;
        rejectOne(i, new TributaryError(ErrorCode.sinkTooLarge, `${protocol.name}: event ${record.eventId}: ${reason}`), 0, undefined, verdictBody({ insert_id: record.eventId, reason }));
        continue;
      }
      ready.push({ index: i, insertId: record.eventId, json: encoded.json, bytes, userId: mapped.ok ? mapped.event.userId : undefined, deviceId: mapped.ok ? mapped.event.deviceId : undefined });
    }
    if (ready.length < batch.length) {
      log.warn({ event: 'sink.error', stage: 'encode', code: 'sink_unmappable', events: batch.length - ready.length }, `${protocol.name}: events refused before sending; they go to the DLQ`);
    }

    // 2. Requests of one chunk; the recursion handles 413 splits, partial failures and throttling.
    const deliver = async (events: readonly EncodedEvent[], priorAttempts: number): Promise<void> => {
      if (events.length === 0) return;
      const req = await protocol.request(events);
      const result = await sendWithRetry(
        transport,
        req,
        {
          retryLogic: protocol.retryLogic,
          backoff,
          deadline,
          clock,
          ...(options.random ? { random: options.random } : {}),
          onRetry: (e) => {
            stats.retries++;
            log[retryLogLevel(e.attempt)]({ event: 'sink.retry', stage: 'send', code: e.code, status: e.status, attempt: e.attempt, delayMs: e.delayMs, events: events.length }, `${protocol.name} send failed; retrying`);
          },
        },
        signal,
      );
      stats.requests += result.attempts;
      const attempts = priorAttempts + result.attempts;
      if (result.outcome === 'delivered') {
        stats.bytesSent += req.body?.length ?? 0;
        for (const e of events) outcomes[e.index] = { status: 'delivered' };
        return;
      }
      if (result.outcome === 'exhausted') {
        log.warn({ event: 'sink.error', stage: 'send', code: result.error.code, status: result.status, events: events.length, attempts }, `${protocol.name} retry budget exhausted; records go to the DLQ`);
        const body = result.body === undefined ? undefined : truncateUtf8(Buffer.from(result.body), maxResponseKeptBytes);
        for (const e of events) rejectOne(e.index, result.error, attempts, result.status, body);
        return;
      }
      const split = async (): Promise<void> => {
        const mid = Math.ceil(events.length / 2);
        await deliver(events.slice(0, mid), attempts);
        await deliver(events.slice(mid), attempts);
      };
      const rejectSingle = (code: Code): void => {
        const e = events[0]!;
        const error = new TributaryError(code, `${protocol.name}: HTTP ${result.status} for event ${e.insertId}`, { status: result.status });
        log.warn({ event: 'sink.error', stage: 'send', code, status: result.status, eventId: e.insertId }, `${protocol.name} refused a record; it goes to the DLQ`);
        rejectOne(e.index, error, attempts, result.status, verdictBody({ status: result.status, insert_id: e.insertId, response: truncateUtf8(Buffer.from(result.body), 768) }));
      };
      if (result.outcome === 'tooLarge') {
        if (events.length === 1) rejectSingle(result.code);
        else await split();
        return;
      }
      const verdict = protocol.interpret({ status: result.status, body: result.body, headers: answerHeaders.get(req) ?? {} }, events, clock.now());
      switch (verdict.kind) {
        case 'misconfigured':
          throw new TributaryError(verdict.code, `${protocol.name}: HTTP ${result.status}: ${verdict.message}`, { status: result.status });
        case 'bisect':
          if (events.length === 1) rejectSingle(result.code);
          else await split();
          return;
        case 'partial': {
          if (verdict.rejected.size === 0) {
            // A partial failure that names no event is no guide: find the culprits by halves.
            if (events.length === 1) rejectSingle(result.code);
            else await split();
            return;
          }
          const rest: EncodedEvent[] = [];
          events.forEach((e, pos) => {
            const reason = verdict.rejected.get(pos);
            if (reason === undefined) {
              rest.push(e);
              return;
            }
            const error = new TributaryError(verdict.code, `${protocol.name}: HTTP ${result.status} for event ${e.insertId}: ${reason}`, { status: result.status });
            rejectOne(e.index, error, attempts, result.status, verdictBody({ status: result.status, insert_id: e.insertId, reason }));
          });
          log.warn({ event: 'sink.error', stage: 'send', code: verdict.code, status: result.status, events: verdict.rejected.size }, `${protocol.name} refused some events; they go to the DLQ`);
          if (verdict.othersIngested) {
            if (rest.length) stats.bytesSent += req.body?.length ?? 0;
            for (const e of rest) outcomes[e.index] = { status: 'delivered' };
          } else {
            await deliver(rest, attempts);
          }
          return;
        }
        case 'throttled': {
          const rest: EncodedEvent[] = [];
          events.forEach((e, pos) => {
            const reason = verdict.refused.get(pos);
            if (reason === undefined) {
              rest.push(e);
              return;
            }
            const error = new TributaryError(ErrorCode.sinkQuotaExceeded, `${protocol.name}: event ${e.insertId}: ${reason}`, { status: result.status });
            rejectOne(e.index, error, attempts, result.status, verdictBody({ status: result.status, insert_id: e.insertId, reason }));
          });
          if (rest.length === 0) return;
          const delayMs = Math.min(verdict.delayMs, config.retry.maxRetryAfterMs);
          if (clock.now() + delayMs > deadline) {
            const error = new TributaryError(ErrorCode.sinkRetriesExhausted, `${protocol.name}: still throttled (HTTP ${result.status}) after ${attempts} attempts`, { status: result.status });
            const body = truncateUtf8(Buffer.from(result.body), maxResponseKeptBytes);
            for (const e of rest) rejectOne(e.index, error, attempts, result.status, body);
            return;
          }
          stats.retries++;
          log.warn({ event: 'sink.retry', stage: 'send', code: 'sink_rate_limited', status: result.status, delayMs, events: rest.length, refused: verdict.refused.size }, `${protocol.name} throttled; pausing before resending`);
          await clock.sleep(delayMs, signal);
          await deliver(rest, attempts);
          return;
        }
      }
    };

    // 3. Chunks run concurrently; the limiter inside the transport decides how many are in flight.
    const ranges = planChunks(
      ready.map((e) => e.bytes),
      { maxEvents: protocol.maxRequestEvents, maxBytes: protocol.maxRequestBytes, envelopeBytes: protocol.envelopeBytes, separatorBytes: 1 },
    );
    const settled = await Promise.allSettled(ranges.map(([lo, hi]) => deliver(ready.slice(lo, hi), 0)));
    // Any throw (misconfiguration, abort, a bug) wins: nothing of this write counts as delivered.
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) throw signal.aborted ? abortError(signal) : failure.reason;
    return { outcomes, requests: stats.requests, retries: stats.retries, bytesSent: stats.bytesSent };
  }

  return {
    limits: { maxBatchEvents: config.maxBatchEvents, maxBatchBytes: config.maxBatchBytes },
    write,
    healthcheck: (signal) => parts.healthcheck(inner, signal),
    close: () => transport.close(),
  };
}

/** Retry-After when the vendor sent one, else `fallbackMs`. */
export function retryAfterOr(headers: HttpResponseHeaders, now: number, fallbackMs: number): number {
  return parseRetryAfter(headers['retry-after'], now) ?? fallbackMs;
}
