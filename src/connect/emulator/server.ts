// The Connect emulator's HTTP server and programmatic handle: routes Connect requests through
// faults, auth, affinity, validation, concurrency and entitlement checks to a stream session.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setMaxListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { ConnectEvent } from '../event.js';
import { handleAdmin, type AppStats, type ReleaseResult } from './admin-api.js';
import { AppLog } from './app-log.js';
import { connectErrorCode, errorForStatus, sendError } from './error-response.js';
import { FaultBoard } from './faults.js';
import { acceptsConnectNdjson, basicCredentials, bearerToken, cookieValue, sameSecret } from './http-headers.js';
import { parseEmulatorOptions, parseFault, type AppOptions, type EmulatorInput, type EmulatorOptions, type Fault, type FaultInput } from './options.js';
import { hashString, mixSeed } from './prng.js';
import { parseRequestBody } from './request-body.js';
import { ServedRecord, type ServedEvent } from './served-record.js';
import { compressAhead, runStreamSession, type StreamEndReason } from './stream-session.js';

const maxRequestBody = 1024 * 1024;
/** How long close() lets streams finish their gzip before cutting connections. */
const closeGraceMs = 1_000;

export interface EmulatedAppInfo {
  key: string;
  token: string;
  masterSecret?: string | undefined;
  size: AppOptions['size'];
  rate: number | 'max';
}

export interface ConnectEmulator {
  /** Base URL, e.g. http://127.0.0.1:43121 */
  readonly url: string;
  /** `${url}/api/events` */
  readonly eventsUrl: string;
  /** `${url}/api/events/general` (compliance stream) */
  readonly complianceUrl: string;
  readonly port: number;
  readonly apps: readonly EmulatedAppInfo[];
  readonly options: EmulatorOptions;
  /** Replaces the fault knobs of one app, or of every app with `*`. */
  setFault(appKey: string, fault: FaultInput): void;
  /** Clears one app's faults, or all of them. */
  clearFaults(appKey?: string): void;
  faults(): Record<string, Fault>;
  /** Events served so far (held in memory, oldest first). */
  served(appKey: string): ServedEvent[];
  /** Events in the app's retention window, oldest first (catches the log up to now first). */
  events(appKey: string): ConnectEvent[];
  /** Appends events (missing envelope fields are filled in); returns them with their offsets. */
  append(appKey: string, events: readonly Partial<ConnectEvent>[]): ConnectEvent[];
  /** The app's newest offset (after catching up to now), or undefined when it has none. */
  lastOffset(appKey: string): string | undefined;
  stats(appKey: string): AppStats;
  /** Ends every stream (gzip finished where possible), closes the server and the served file. */
  close(): Promise<void>;
}

interface AppState {
  options: AppOptions;
  log: AppLog;
  cookie: string;
  active: number;
  connections: number;
  responses: Record<string, number>;
  bytesSent: number;
  endReasons: Record<string, number>;
}

export async function startConnectEmulator(input: EmulatorInput | EmulatorOptions): Promise<ConnectEmulator> {
  const options = parseEmulatorOptions(input);
  const emulator = new Emulator(options);
  await emulator.listen();
  return emulator;
}

class Emulator implements ConnectEmulator {
  readonly options: EmulatorOptions;
  readonly apps: readonly EmulatedAppInfo[];
  private readonly state = new Map<string, AppState>();
  private readonly board = new FaultBoard();
  private readonly record: ServedRecord;
  private readonly server: Server;
  private readonly shutdown = new AbortController();
  private readonly sessions = new Set<Promise<unknown>>();
  /** Releases set for a later time (`release` with `atMs`): dropped at close. */
  private readonly pendingReleases = new Set<NodeJS.Timeout>();
  private connectionSeq = 0;
  private address: AddressInfo | undefined;

  constructor(options: EmulatorOptions) {
    this.options = options;
    // Every open stream waits on this signal (one listener each): a thousand streams is the design,
    // not the leak Node's default warning (at 11 listeners) guesses.
    setMaxListeners(0, this.shutdown.signal);
    const startMs = Date.now();
    const instanceSecret = randomBytes(16).toString('hex');
    for (const app of options.apps) {
      const seed = app.seed ?? mixSeed(options.seed, hashString(app.key));
      const log = new AppLog(app, seed, startMs, () => {
        const f = this.board.effective(app.key);
        return {
          duplicateProbability: f.duplicateProbability ?? app.duplicateProbability,
          outOfOrderProbability: f.outOfOrderProbability ?? app.outOfOrderProbability,
        };
      });
      const cookie = createHash('sha256').update(`${instanceSecret}:${app.key}`).digest('hex').slice(0, 24);
      this.state.set(app.key, { options: app, log, cookie, active: 0, connections: 0, responses: {}, bytesSent: 0, endReasons: {} });
    }
    this.apps = options.apps.map((a) => ({ key: a.key, token: a.token, masterSecret: a.masterSecret, size: a.size, rate: this.app(a.key).log.ratePerSec }));
    for (const [key, fault] of Object.entries(options.faults)) this.board.set(key, fault);
    this.record = new ServedRecord(options.servedLimit, options.servedFile);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) sendError(res, 500, `emulator error: ${(err as Error).message}`, connectErrorCode.server);
        else res.destroy();
      });
    });
  }

  get url(): string {
    const a = this.address!;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  get eventsUrl(): string {
    return `${this.url}/api/events`;
  }

  get complianceUrl(): string {
    return `${this.url}/api/events/general`;
  }

  get port(): number {
    return this.address!.port;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.address = this.server.address() as AddressInfo;
  }

  setFault(appKey: string, fault: FaultInput): void {
    this.checkFaultKey(appKey);
    this.board.set(appKey, parseFault(fault));
  }

  clearFaults(appKey?: string): void {
    this.board.clear(appKey);
  }

  faults(): Record<string, Fault> {
    return this.board.snapshot();
  }

  served(appKey: string): ServedEvent[] {
    this.app(appKey);
    return this.record.list(appKey);
  }

  events(appKey: string): ConnectEvent[] {
    const { log } = this.app(appKey);
    log.catchUp(Date.now());
    return log.events();
  }

  append(appKey: string, events: readonly Partial<ConnectEvent>[]): ConnectEvent[] {
    const { log } = this.app(appKey);
    log.catchUp(Date.now());
    return log.append(events, Date.now());
  }

  /** Generates `count` events for the app now (see AppLog.generate). */
  generate(appKey: string, count: number): { firstOffset: string; lastOffset: string } | undefined {
    const { log } = this.app(appKey);
    log.catchUp(Date.now());
    const made = log.generate(count, Date.now());
    return made && { firstOffset: String(made.firstOffset), lastOffset: String(made.lastOffset) };
  }

  /** Makes `count` events for the app and holds them back until `release` (see AppLog.hold); returns how many are held. */
  hold(appKey: string, count: number): number {
    const { log } = this.app(appKey);
    log.catchUp(Date.now());
    return log.hold(count, Date.now());
  }

  /**
   * Appends the held events of `appKeys` at one moment: now (see AppLog.release), or `atMs` when
   * that is later. For a later moment they are stamped now (the next offsets, `processed` = atMs)
   * and, for apps with `cacheBatches`, their batches compressed now, yielding between batches so
   * that open streams keep their keep-alives. Serving such a burst then costs the emulator, which
   * shares the machine with what it serves, no serialising and no deflate. All go out together:
   * at atMs, or as soon as preparing ends when it took longer (`releaseAt`; still stamped atMs),
   * so no app's burst is served while another's is being prepared.
   */
  async releaseTogether(appKeys: readonly string[], atMs?: number): Promise<ReleaseResult> {
    const apps = [...new Set(appKeys)].map((key) => ({ key, state: this.app(key) }));
    const now = Date.now();
    const released: ReleaseResult['apps'] = {};
    const offsets = (key: string, made: { firstOffset: number; lastOffset: number } | undefined) => {
      released[key] = made ? { count: made.lastOffset - made.firstOffset + 1, firstOffset: String(made.firstOffset), lastOffset: String(made.lastOffset) } : { count: 0 };
    };
    for (const { state } of apps) state.log.catchUp(now);
    if (atMs === undefined || atMs <= now) {
      for (const { key, state } of apps) offsets(key, state.log.release(now));
      return { apps: released };
    }
    const staged = apps.map(({ key, state }) => ({ key, state, entries: state.log.stage(atMs) }));
    for (const { key, entries } of staged) offsets(key, entries.length ? { firstOffset: entries[0]!.offset, lastOffset: entries[entries.length - 1]!.offset } : undefined);
    for (const { state, entries } of staged) {
      if (state.options.cacheBatches) state.log.stats.batchesCached += await compressAhead(entries, this.options.gzipLevel);
    }
    const prepared = Date.now();
    const releaseAt = Math.max(atMs, prepared);
    if (!this.shutdown.signal.aborted) {
      const timer = setTimeout(() => {
        this.pendingReleases.delete(timer);
        for (const { state, entries } of staged) {
          state.log.catchUp(Date.now());
          state.log.publish(entries);
        }
      }, releaseAt - prepared);
      this.pendingReleases.add(timer);
    }
    return { apps: released, at: atMs, releaseAt, prepareMs: prepared - now };
  }

  lastOffset(appKey: string): string | undefined {
    const { log } = this.app(appKey);
    log.catchUp(Date.now());
    const last = log.lastOffset;
    return last === undefined ? undefined : String(last);
  }

  stats(appKey: string): AppStats {
    const s = this.app(appKey);
    s.log.catchUp(Date.now());
    const served = this.record.summary(appKey);
    const last = s.log.lastOffset;
    return {
      key: appKey,
      size: s.options.size,
      rate: s.log.ratePerSec,
      oldestOffset: String(s.log.oldestOffset),
      lastOffset: last === undefined ? null : String(last),
      retained: s.log.retainedCount,
      held: s.log.heldCount,
      ...s.log.stats,
      served: served.total,
      servedDropped: served.dropped,
      connections: { active: s.active, total: s.connections },
      responses: { ...s.responses },
      streamEnds: { ...s.endReasons },
      bytesSent: s.bytesSent,
    };
  }

  async close(): Promise<void> {
    this.shutdown.abort();
    for (const timer of this.pendingReleases) clearTimeout(timer);
    this.pendingReleases.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const grace = new Promise<void>((resolve) => setTimeout(resolve, closeGraceMs).unref());
    await Promise.race([Promise.allSettled([...this.sessions]), grace]);
    // Streams that finished their gzip leave idle keep-alive sockets; close those first so the
    // final bytes are not cut off, then cut whatever still hangs (a trickling stream).
    this.server.closeIdleConnections();
    await Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, 200).unref())]);
    this.server.closeAllConnections();
    await closed;
    await this.record.close();
  }

  private app(appKey: string): AppState {
    const s = this.state.get(appKey);
    if (!s) throw new RangeError(`the emulator has no app with key "${appKey}"`);
    return s;
  }

  private checkFaultKey(appKey: string): void {
    if (appKey !== '*') this.app(appKey);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const path = url.pathname;
    if (this.options.admin && (path === '/_admin' || path.startsWith('/_admin/'))) {
      await handleAdmin(req, res, path, url.searchParams, {
        hasApp: (k) => this.state.has(k),
        stats: () => [...this.state.keys()].map((k) => this.stats(k)),
        appStats: (k) => this.stats(k),
        served: (k) => this.served(k),
        servedSummary: (k) => this.record.summary(k),
        events: (k) => this.events(k),
        append: (k, e) => this.append(k, e),
        generate: (k, n) => this.generate(k, n),
        hold: (k, n) => this.hold(k, n),
        release: (keys, at) => this.releaseTogether(keys, at),
        setFault: (k, f) => this.board.set(k, f),
        clearFaults: (k) => this.clearFaults(k),
        faults: () => this.faults(),
      });
      return;
    }
    const compliance = /^\/api\/events\/general\/?$/.test(path);
    if (!compliance && !/^\/api\/events\/?$/.test(path)) {
      sendError(res, 404, `No such resource ${path}`, connectErrorCode.notFound);
      return;
    }
    if (req.method !== 'POST') {
      sendError(res, 405, 'Only POST is supported', connectErrorCode.methodNotAllowed, undefined, { Allow: 'POST' });
      return;
    }
    const body = await readBody(req);
    if (body === undefined) {
      sendError(res, 413, 'Request body too large', connectErrorCode.bodyTooLarge);
      return;
    }

    // Who is asking: X-UA-Appkey + Bearer on the event stream, Basic key:masterSecret on the compliance stream.
    const basic = compliance ? basicCredentials(req.headers.authorization) : undefined;
    const appKey = compliance ? basic?.user : headerValue(req.headers['x-ua-appkey']);
    const app = appKey === undefined ? undefined : this.state.get(appKey);
    if (!app || appKey === undefined) {
      sendError(res, 401, compliance ? 'Unauthorized: Basic app key and master secret required' : 'Unauthorized: unknown or missing X-UA-Appkey', connectErrorCode.unauthorized);
      return;
    }
    const respond = (status: number, error: string, code: number, details?: Record<string, unknown>, headers?: Record<string, string>) => {
      app.responses[status] = (app.responses[status] ?? 0) + 1;
      sendError(res, status, error, code, details, headers);
    };

    const statusFault = this.board.takeStatus(appKey);
    if (statusFault) {
      const { error, errorCode } = errorForStatus(statusFault.code);
      const headers: Record<string, string> = statusFault.retryAfterSeconds !== undefined ? { 'Retry-After': String(statusFault.retryAfterSeconds) } : {};
      respond(statusFault.code, statusFault.message ?? error, errorCode, { fault: true }, headers);
      return;
    }

    const authorised = compliance
      ? app.options.masterSecret !== undefined && sameSecret(basic?.password, app.options.masterSecret)
      : sameSecret(bearerToken(req.headers.authorization), app.options.token);
    if (!authorised) {
      respond(401, 'Unauthorized', connectErrorCode.unauthorized);
      return;
    }
    if (!acceptsConnectNdjson(headerValue(req.headers.accept))) {
      respond(406, 'Not acceptable: use Accept: application/vnd.urbanairship+x-ndjson; version=3;', connectErrorCode.notAcceptable);
      return;
    }

    const fault = this.board.effective(appKey);
    const affinity = app.options.affinity ?? this.options.affinity;
    if (fault.redirectForever || (affinity && cookieValue(req.headers.cookie, 'SRV') !== app.cookie)) {
      // Affinity: no Location; the client re-POSTs the same request with the cookie.
      const value = fault.redirectForever ? randomBytes(12).toString('hex') : app.cookie;
      app.responses[307] = (app.responses[307] ?? 0) + 1;
      res.writeHead(307, { 'Set-Cookie': `SRV=${value}; Path=/`, 'Content-Length': '0' });
      res.end();
      return;
    }

    const parsed = parseRequestBody(body);
    if (!parsed.ok) {
      respond(400, parsed.error, parsed.errorCode, parsed.details);
      return;
    }
    const request = parsed.request;
    const notEntitled = new Set(app.options.notEntitledTypes ?? []);
    if (!compliance) notEntitled.add('COMPLIANCE');
    const refused = [...new Set((request.filters ?? []).flatMap((f) => f.types ?? []).filter((t) => notEntitled.has(t)))];
    if (refused.length > 0) {
      respond(403, `Requested event types to which client is not entitled ${refused.join(',')}`, connectErrorCode.notEntitled, { types: refused });
      return;
    }
    if (app.options.maxConnections !== undefined && app.active >= app.options.maxConnections) {
      respond(402, errorForStatus(402).error, connectErrorCode.tooManyConnections, { limit: app.options.maxConnections });
      return;
    }

    app.active += 1;
    app.connections += 1;
    app.responses[200] = (app.responses[200] ?? 0) + 1;
    const connection = ++this.connectionSeq;
    const session = runStreamSession(res, {
      app: app.log,
      request,
      faults: this.board.takeStreamFaults(appKey),
      excludes: compliance ? (type) => type !== 'COMPLIANCE' : (type) => notEntitled.has(type),
      keepAliveMs: this.options.keepAliveMs,
      sessionMaxMs: app.options.sessionMaxMs,
      gzipLevel: this.options.gzipLevel,
      signal: this.shutdown.signal,
      onServed: (entry) => this.record.add(appKey, { id: entry.event.id, offset: entry.event.offset, type: entry.event.type, connection }),
    });
    const tracked = session.then(
      (end: { reason: StreamEndReason; bytesSent: number }) => {
        app.endReasons[end.reason] = (app.endReasons[end.reason] ?? 0) + 1;
        app.bytesSent += end.bytesSent;
      },
      () => {
        app.endReasons.error = (app.endReasons.error ?? 0) + 1;
        res.destroy();
      },
    ).finally(() => {
      app.active -= 1;
      this.sessions.delete(tracked);
    });
    this.sessions.add(tracked);
    await tracked;
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Reads the request body. Node's parser ends the body once Content-Length bytes arrived, so a
 * client that never half-closes (the Node Connect client) is answered all the same.
 */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Keep draining an oversized body (without keeping it) so the 413 can still be written.
    if (size <= maxRequestBody) chunks.push(chunk);
  }
  return size > maxRequestBody ? undefined : Buffer.concat(chunks).toString('utf8');
}
