// The Connect streaming client the source actor reads from: reconnects, backoff, 307 + cookie,
// and resume from the last offset the caller confirmed, never yielding an offset twice.
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { ErrorCode, TributaryError } from '../../errors.js';
import { compareOffsets } from '../event.js';
import { safeUrl, type Logger } from '../../observability/logger.js';
import { backoffDelay } from './backoff.js';
import { CookieJar } from './cookie-jar.js';
import { copyCounters, emptyCounters, type ConnectClientCounters } from './counters.js';
import { checkEndpoint } from './host-policy.js';
import { createHttpTransport, type ConnectTransport, type TransportResponse } from './http-transport.js';
import { compileConnectClientOptions, type ConnectClientOptions, type ConnectClientOptionsInput } from './options.js';
import type { OffThreadParser } from './line-parse-threads.js';
import { readSession, type SessionContext, type SessionItem } from './read-session.js';
import { reconnectReason, streamError } from './stream-errors.js';
import type { ResumePoint, StreamItem } from './stream-item.js';

/** Collaborators that are not plain options: injected for pooling, tests and fast timers. */
export interface ConnectClientDeps {
  /** A per-integration undici Agent/Pool; when absent (and no transport) the client owns one. */
  dispatcher?: Dispatcher;
  /** Replaces HTTP entirely (unit tests feed bytes in-process). */
  transport?: ConnectTransport;
  /** Uniform in [0, 1), for the full jitter. */
  random?: () => number;
  /** Waits `ms`, rejecting (or resolving) early when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  now?: () => number;
  logger?: Logger;
  /** Parses chunks of many lines on other threads (the node's `LineParseThreads`); absent: on the event loop. */
  lineParser?: OffThreadParser;
}

const decimalOffset = /^\d{1,30}$/;

export class ConnectClient {
  readonly options: Readonly<Omit<ConnectClientOptions, 'token'>>;
  private readonly opts: ConnectClientOptions;
  /** A stream that lived this long counts as healthy even without events. */
  get healthyAfterMs(): number {
    return this.opts.healthyAfterMs;
  }
  private readonly transport: ConnectTransport;
  private readonly jar = new CookieJar();
  private readonly random: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly now: () => number;
  private readonly logger: Logger | undefined;
  private readonly where: string;
  private readonly stats = emptyCounters();
  private readonly session: SessionContext;
  private confirmed: string | undefined;
  private lastYielded: string | undefined;
  private active = false;
  /** 307s in a row, kept across backoff waits so a redirect loop stays throttled (S7). */
  private redirectsInRow = 0;

  constructor(input: ConnectClientOptionsInput, deps: ConnectClientDeps = {}) {
    this.opts = compileConnectClientOptions(input);
    const { token: _token, ...visible } = this.opts;
    this.options = Object.freeze(visible);
    const url = checkEndpoint(new URL(this.opts.path, this.opts.baseUrl).href, this.opts);
    this.where = safeUrl(url.href);
    this.transport =
      deps.transport ??
      createHttpTransport({
        url,
        appKey: this.opts.appKey,
        token: this.opts.token,
        userAgent: this.opts.userAgent,
        connectTimeoutMs: this.opts.connectTimeoutMs,
        headersTimeoutMs: this.opts.headersTimeoutMs,
        ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
      });
    this.random = deps.random ?? Math.random;
    this.sleep = deps.sleep ?? defaultSleep;
    this.now = deps.now ?? Date.now;
    this.logger = deps.logger;
    this.confirmed = this.opts.resumeOffset;
    this.session = { counters: this.stats, lastSeenOffset: this.opts.resumeOffset, parser: deps.lineParser };
  }

  /** The last offset the caller confirmed durable (or the initial resumeOffset). */
  get confirmedOffset(): string | undefined {
    return this.confirmed;
  }

  /** The highest event offset yielded by the running (or last) stream. */
  get lastYieldedOffset(): string | undefined {
    return this.lastYielded;
  }

  /**
   * Records that every event up to `offset` is durable (in Kafka): reconnects resume after it.
   * Lower or equal offsets are ignored (acks may arrive out of order); an offset past the last
   * one yielded is a caller bug and throws, because resuming from it would skip events.
   */
  confirm(offset: string): void {
    if (!decimalOffset.test(offset)) throw new TributaryError(ErrorCode.bug, `confirm(): "${offset.slice(0, 40)}" is not a decimal offset`);
    if (this.confirmed !== undefined && !offsetAfter(offset, this.confirmed)) return;
    if (this.lastYielded !== undefined && offsetAfter(offset, this.lastYielded)) {
      throw new TributaryError(ErrorCode.bug, `confirm(${offset}) is past the last yielded offset ${this.lastYielded}`);
    }
    this.confirmed = offset;
  }

  counters(): ConnectClientCounters {
    return copyCounters(this.stats);
  }

  /** Closes the undici Agent the client owns (a passed-in dispatcher stays the caller's). */
  async close(): Promise<void> {
    await this.transport.close();
  }

  /**
   * The same items as `batches()`, one at a time. Simpler to consume; `batches()` saves an
   * async step per event on fast streams.
   */
  async *stream(signal: AbortSignal = new AbortController().signal): AsyncGenerator<StreamItem, void, undefined> {
    for await (const batch of this.batches(signal)) {
      yield* batch;
      batch.length = 0;
    }
  }

  /**
   * A session chunk's items without the events already yielded (offsets must strictly increase),
   * counted. Synchronous, and `batch` is emptied: the generators above keep their variables while
   * they wait for the next chunk, and an idle stream's last one (its events, the inflate buffer
   * their raw lines are slices of) would stay alive there on every quiet integration of a node.
   * The caller of `batches()` empties what it was given for the same reason.
   */
  private newItems(batch: SessionItem[]): { items: StreamItem[]; events: number } {
    const items: StreamItem[] = [];
    let events = 0;
    for (const item of batch) {
      if (item.kind === 'event') {
        if (this.lastYielded !== undefined && !offsetAfter(item.offset, this.lastYielded)) {
          this.stats.duplicatesDropped++;
          continue;
        }
        this.lastYielded = item.offset;
        this.stats.events++;
        events++;
      }
      items.push(item);
    }
    batch.length = 0;
    return { items, events };
  }

  /**
   * Streams until `signal` aborts (then returns quietly) or a misconfiguration error (400, 401,
   * 402, 403, or any non-retryable status), which is thrown. Transient failures never end it:
   * they yield `reconnecting`, wait, and resume from the confirmed offset. Events whose offset is
   * ≤ one already yielded by this call are dropped, so yielded offsets strictly increase.
   */
  async *batches(signal: AbortSignal = new AbortController().signal): AsyncGenerator<StreamItem[], void, undefined> {
    if (this.active) throw new TributaryError(ErrorCode.bug, 'ConnectClient.stream() is already running');
    this.active = true;
    // A new stream starts deduplicating from what is durable: the caller re-reads anything after it.
    this.lastYielded = this.confirmed;
    let attempt = 0;
    try {
      while (!signal.aborted) {
        const conn = new AbortController();
        const abortConn = () => conn.abort(signal.reason);
        signal.addEventListener('abort', abortConn, { once: true });
        let error: TributaryError | undefined;
        let healthy = false;
        try {
          const resumeFrom = this.resumePoint();
          let res: TransportResponse | undefined;
          try {
            this.stats.requests++;
            res = await this.transport.open({ body: this.requestBody(resumeFrom), cookie: this.jar.header(), signal: conn.signal });
          } catch (err) {
            if (signal.aborted) return;
            const e = err instanceof TributaryError ? err : streamError(err);
            if (e.kind !== 'retryable') {
              this.logger?.error({ url: this.where, code: e.code, status: e.status }, 'Connect refused the stream: %s', e.message);
              throw e;
            }
            error = e;
          }
          if (res?.kind === 'redirect') {
            this.stats.redirects++;
            this.jar.store(res.setCookie);
            // Re-POST at once while under the cap; past it, every further 307 costs a backoff wait.
            if (++this.redirectsInRow <= this.opts.maxRedirects) continue;
            error = new TributaryError(ErrorCode.connectRedirectLoop, `Connect answered ${this.redirectsInRow} redirects in a row`, {
              status: 307,
            });
          } else if (res?.kind === 'stream') {
            this.redirectsInRow = 0;
            this.stats.connects++;
            yield [{ kind: 'connected', attempt, resumeFrom }];
            const connectedAt = this.now();
            try {
              for await (const batch of readSession(res, this.opts, this.session, conn.signal)) {
                const out = this.newItems(batch);
                // The first event proves the stream works: the next failure starts backoff afresh.
                if (out.events) {
                  healthy = true;
                  attempt = 0;
                }
                if (out.items.length > 0) yield out.items;
              }
            } catch (err) {
              if (signal.aborted) return;
              error = streamError(err);
            }
            if (this.now() - connectedAt >= this.opts.healthyAfterMs) {
              healthy = true;
              attempt = 0;
            }
          } else if (error === undefined && res !== undefined) {
            error = new TributaryError(ErrorCode.bug, 'transport returned an unknown response');
          }
        } finally {
          signal.removeEventListener('abort', abortConn);
          conn.abort();
        }
        if (signal.aborted) return;
        // A healthy stream that simply ended (Connect closes sessions) resumes at once; anything
        // else waits, so a server that ends every stream immediately cannot make us spin.
        const backingOff = !(error === undefined && healthy);
        const delayMs = backingOff ? this.delayFor(error, attempt) : 0;
        const reason = reconnectReason(error);
        this.stats.reconnects[reason]++;
        // A healthy session's plain end is routine (Connect ends sessions; the local emulator every
        // 10 s): debug, counted by reason in the metrics. Anything else is worth a warning.
        const level = backingOff ? 'warn' : 'debug';
        this.logger?.[level]({ url: this.where, reason, code: error?.code, status: error?.status, delayMs, attempt }, 'Connect stream reconnecting');
        yield [{ kind: 'reconnecting', reason, error, delayMs, attempt }];
        // Full jitter may draw 0 ms: still a backoff step, so the next ceiling grows.
        if (backingOff) attempt++;
        try {
          await this.sleep(delayMs, signal);
        } catch {
          // Aborted while waiting.
        }
      }
    } finally {
      this.active = false;
    }
  }

  private delayFor(error: TributaryError | undefined, attempt: number): number {
    const jittered = backoffDelay(this.opts.backoff, attempt, this.random);
    const asked = error?.retryAfterMs;
    // Retry-After is a floor (honoured, clamped to maxRetryAfterMs); a longer backoff still wins.
    return asked === undefined ? jittered : Math.max(Math.min(asked, this.opts.maxRetryAfterMs), jittered);
  }

  private resumePoint(): ResumePoint {
    return this.confirmed !== undefined ? { resumeOffset: this.confirmed } : { start: this.opts.start };
  }

  private requestBody(from: ResumePoint): Buffer {
    const body: Record<string, unknown> = 'resumeOffset' in from ? { resume_offset: from.resumeOffset } : { start: from.start };
    if (this.opts.filters) body.filters = this.opts.filters;
    if (this.opts.subset) body.subset = this.opts.subset;
    if (this.opts.enableOffsetUpdates) body.enable_offset_updates = true;
    return Buffer.from(JSON.stringify(body));
  }
}

/**
 * a > b for decimal offset strings. Without leading zeros a longer string is a larger number and
 * equal lengths compare as text: no BigInt per event on the hot path.
 */
function offsetAfter(a: string, b: string): boolean {
  if ((a.length > 1 && a[0] === '0') || (b.length > 1 && b[0] === '0')) return compareOffsets(a, b) > 0;
  return a.length !== b.length ? a.length > b.length : a > b;
}

async function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return;
  await sleepFor(ms, undefined, { signal });
}
