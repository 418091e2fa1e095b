// A real HTTP receiver for sink tests (integration and e2e): node:http on 127.0.0.1, records
// every event it accepts and misbehaves on demand, the way third-party endpoints do.
//
// Usage:
//   const rx = await startHttpReceiver({ signingSecret: 'k' });   // port 0 ⇒ any free port
//   t.teardown(() => rx.close());
//   …point a sink at rx.url (http://127.0.0.1:<port>/ingest)…
//   await rx.waitForDelivered(100);                              // deadline, never a fixed sleep
//   t.deepEqual([...rx.deliveredSet()].sort(), [...expectedIds].sort());   // ava compares Sets in insertion order
//
// What it records (`rx.requests`): one ReceivedRequest per request — status answered, wire
// bytes, event ids in the body, signature verdict. `rx.delivered()` lists the ids of events in
// requests answered 2xx, in arrival order, duplicates included (`deliveredSet()` for unique).
//
// Bodies: gunzipped when `Content-Encoding: gzip`; a JSON array when Content-Type is
// application/json, otherwise NDJSON; an event's id is its `id` field. A zero-event body (a
// sink's probe) is accepted and delivers nothing.
//
// Behaviours, checked in this order for each request (all reset by `reset()`):
//   stop() / start()         stop listening (connections refused, open sockets destroyed) and
//                            listen again on the same port
//   hang(true)               hold every request without answering (until hang(false) or stop())
//   setDelay(ms)             answer each request only after `ms`
//   failNext(status, times, {headers, body})
//                            answer `status` to the next `times` requests (queue; Infinity ok)
//   rateLimitNext(times, retryAfter)
//                            429 with `Retry-After: <retryAfter>` (seconds or an HTTP-date)
//   setMaxBodyBytes(n)       413 for bodies (as sent, i.e. compressed) above n bytes
//   signing / authorization  401 when `signingSecret` is set and the signature is missing,
//                            wrong or stale, or when `expectAuthorization` does not match
//   rejectIds(pred, status)  400 (or 422) for a body holding any id matching `pred`; the
//                            response body lists the refused ids as JSON {"rejected": [...]}
//   otherwise                200 and the events count as delivered
//
// Always `await rx.close()` (a teardown): it destroys held sockets and closes the server.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface HttpReceiverOptions {
  /** Port to listen on; 0 (default) picks a free one, kept across stop()/start(). */
  port?: number;
  /** Path in `url`; requests to any path are accepted. */
  path?: string;
  /** When set, every request must carry a valid X-Tributary-Signature (else 401). */
  signingSecret?: string;
  /** Signatures older than this are refused as replays (seconds). */
  signatureToleranceSeconds?: number;
  /** When set, the Authorization header must equal this (else 401). */
  expectAuthorization?: string;
  /**
   * Honour `x-tributary-batch-id` as docs/sinks/webhook.md suggests: a batch id already answered
   * 2xx is answered 200 again without taking its events (`repeatedBatch` on the request; its
   * events are not in `delivered()`).
   */
  dropRepeatedBatches?: boolean;
}

export interface ReceivedRequest {
  at: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The status this receiver answered (0 when it hung up without answering). */
  status: number;
  /** Body size as sent (compressed when gzipped). */
  bytes: number;
  eventIds: string[];
  signature: 'valid' | 'invalid' | 'absent';
  /** A batch id already accepted (with `dropRepeatedBatches`): answered 200, events not taken. */
  repeatedBatch?: boolean;
  /** The body did not parse as the declared framing. */
  malformed: boolean;
}

export interface ScriptedAnswer {
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpReceiver {
  /** http://127.0.0.1:<port><path> */
  readonly url: string;
  readonly port: number;
  readonly requests: readonly ReceivedRequest[];
  /** Ids of events in requests answered 2xx, arrival order, duplicates included. */
  delivered(): string[];
  /** The distinct delivered ids: a live view, kept as requests are answered (cheap to poll). */
  deliveredSet(): ReadonlySet<string>;
  /** `delivered().length`, kept as requests are answered (cheap to poll). */
  deliveredCount(): number;
  failNext(status: number, times?: number, answer?: ScriptedAnswer): void;
  rateLimitNext(times: number, retryAfter: string | number): void;
  rejectIds(predicate: ((id: string) => boolean) | undefined, status?: 400 | 422): void;
  setMaxBodyBytes(bytes: number | undefined): void;
  setDelay(ms: number | undefined): void;
  hang(on: boolean): void;
  /** Stops listening: new connections are refused, open ones destroyed. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  readonly listening: boolean;
  /** Resolves once `predicate(this)` holds, polling until the deadline (then rejects). */
  waitFor(predicate: (rx: HttpReceiver) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Waits for `count` distinct delivered ids. */
  waitForDelivered(count: number, timeoutMs?: number): Promise<void>;
  /** Clears recorded requests and every behaviour. */
  /** Clears every misbehaviour but keeps the record of requests (a third party that got fixed). */
  heal(): void;
  /** Clears misbehaviours and the record of requests. */
  reset(): void;
  close(): Promise<void>;
}

interface Script {
  status: number;
  remaining: number;
  answer: ScriptedAnswer;
}

const maxAcceptedBody = 64 * 1024 * 1024;

export async function startHttpReceiver(options: HttpReceiverOptions = {}): Promise<HttpReceiver> {
  const path = options.path ?? '/ingest';
  const requests: ReceivedRequest[] = [];
  const deliveredIds = new Set<string>();
  let deliveredTotal = 0;
  const sockets = new Set<Socket>();
  const held = new Set<ServerResponse>();
  let scripts: Script[] = [];
  let rejectPredicate: ((id: string) => boolean) | undefined;
  let rejectStatus: 400 | 422 = 400;
  let maxBodyBytes: number | undefined;
  let delayMs: number | undefined;
  const acceptedBatches = new Set<string>();
  let hanging = false;
  let server: Server | undefined;
  let port = options.port ?? 0;

  const readBody = (req: IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxAcceptedBody) {
          req.destroy(new Error('body too large for the test receiver'));
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });

  const parseEvents = (payload: Buffer, contentType: string | undefined): { ids: string[]; malformed: boolean } => {
    try {
      const text = payload.toString('utf8');
      const values: unknown[] = /application\/json/i.test(contentType ?? '')
        ? (JSON.parse(text || '[]') as unknown[])
        : text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
      if (!Array.isArray(values)) return { ids: [], malformed: true };
      return { ids: values.map((v) => String((v as { id?: unknown })?.id ?? '')), malformed: false };
    } catch {
      return { ids: [], malformed: true };
    }
  };

  // Independent of the sink's own code on purpose: this is the recipe docs/sinks/webhook.md gives.
  const checkSignature = (payload: Buffer, headers: IncomingHttpHeaders): ReceivedRequest['signature'] => {
    const ts = headers['x-tributary-timestamp'];
    const sig = headers['x-tributary-signature'];
    if (typeof ts !== 'string' || typeof sig !== 'string') return 'absent';
    if (!options.signingSecret || !/^\d+$/.test(ts)) return 'invalid';
    if (Math.abs(Date.now() / 1000 - Number(ts)) > (options.signatureToleranceSeconds ?? 300)) return 'invalid';
    const expected = Buffer.from('v1=' + createHmac('sha256', options.signingSecret).update(`${ts}.`).update(payload).digest('hex'));
    return sig.split(',').some((s) => {
      const got = Buffer.from(s.trim());
      return got.length === expected.length && timingSafeEqual(got, expected);
    })
      ? 'valid'
      : 'invalid';
  };

  const answer = (res: ServerResponse, status: number, headers: Record<string, string> = {}, body = ''): void => {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { 'content-type': body.startsWith('{') ? 'application/json' : 'text/plain', ...headers });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const wire = await readBody(req);
    let payload = wire;
    let malformed = false;
    if (/gzip/i.test(String(req.headers['content-encoding'] ?? ''))) {
      try {
        payload = gunzipSync(wire);
      } catch {
        malformed = true;
        payload = Buffer.alloc(0);
      }
    }
    const parsed = malformed ? { ids: [], malformed: true } : parseEvents(payload, req.headers['content-type']);
    const record: ReceivedRequest = {
      at: Date.now(),
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      status: 0,
      bytes: wire.length,
      eventIds: parsed.ids,
      signature: checkSignature(payload, req.headers),
      malformed: parsed.malformed,
    };
    requests.push(record);
    const reply = (status: number, headers?: Record<string, string>, body?: string): void => {
      record.status = status;
      if (status >= 200 && status < 300) {
        for (const id of record.eventIds) deliveredIds.add(id);
        deliveredTotal += record.eventIds.length;
      }
      answer(res, status, headers, body);
    };

    if (hanging) {
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    if (delayMs !== undefined) await new Promise((r) => setTimeout(r, delayMs));
    const script = scripts[0];
    if (script) {
      script.remaining--;
      if (script.remaining <= 0) scripts.shift();
      reply(script.status, script.answer.headers, script.answer.body ?? `scripted ${script.status}`);
      return;
    }
    if (maxBodyBytes !== undefined && wire.length > maxBodyBytes) {
      reply(413, {}, `body of ${wire.length} bytes is above ${maxBodyBytes}`);
      return;
    }
    if (options.expectAuthorization !== undefined && req.headers.authorization !== options.expectAuthorization) {
      reply(401, {}, 'bad credentials');
      return;
    }
    if (options.signingSecret !== undefined && record.signature !== 'valid') {
      reply(401, {}, `signature ${record.signature}`);
      return;
    }
    if (record.malformed) {
      reply(400, {}, 'malformed body');
      return;
    }
    const batch = req.headers['x-tributary-batch-id'];
    if (options.dropRepeatedBatches && typeof batch === 'string' && parsed.ids.length > 0) {
      if (acceptedBatches.has(batch)) {
        record.repeatedBatch = true;
        record.status = 200;
        answer(res, 200, {}, '{"ok":true,"duplicate":true}');
        return;
      }
    }
    const refused = rejectPredicate ? parsed.ids.filter(rejectPredicate) : [];
    if (refused.length) {
      reply(rejectStatus, {}, JSON.stringify({ error: 'rejected events', rejected: refused }));
      return;
    }
    if (options.dropRepeatedBatches && typeof batch === 'string' && parsed.ids.length > 0) acceptedBatches.add(batch);
    reply(200, {}, '{"ok":true}');
  };

  const listen = async (): Promise<void> => {
    const s = createServer((req, res) => {
      handle(req, res).catch(() => {
        if (!res.headersSent) res.destroy();
      });
    });
    s.keepAliveTimeout = 5_000;
    s.on('connection', (sock) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve();
      });
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  };

  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    if (!s) return;
    for (const res of held) res.destroy();
    held.clear();
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeAllConnections();
    for (const sock of sockets) sock.destroy();
    await closed;
  };

  await listen();

  const rx: HttpReceiver = {
    get url() {
      return `http://127.0.0.1:${port}${path}`;
    },
    get port() {
      return port;
    },
    get listening() {
      return server !== undefined;
    },
    requests,
    delivered: () => requests.filter((r) => r.status >= 200 && r.status < 300 && !r.repeatedBatch).flatMap((r) => r.eventIds),
    deliveredSet: () => deliveredIds,
    deliveredCount: () => deliveredTotal,
    failNext(status, times = 1, answer = {}) {
      scripts.push({ status, remaining: times, answer });
    },
    rateLimitNext(times, retryAfter) {
      scripts.push({ status: 429, remaining: times, answer: { headers: { 'retry-after': String(retryAfter) }, body: 'slow down' } });
    },
    rejectIds(predicate, status = 400) {
      rejectPredicate = predicate;
      rejectStatus = status;
    },
    setMaxBodyBytes(bytes) {
      maxBodyBytes = bytes;
    },
    setDelay(ms) {
      delayMs = ms;
    },
    hang(on) {
      hanging = on;
      if (!on) {
        for (const res of held) res.destroy();
        held.clear();
      }
    },
    stop,
    start: () => (server ? Promise.resolve() : listen()),
    async waitFor(predicate, timeoutMs = 10_000, what = 'condition') {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(rx)) {
        if (Date.now() > deadline) throw new Error(`http receiver: timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    waitForRequests(count, timeoutMs) {
      return rx.waitFor((r) => r.requests.length >= count, timeoutMs, `${count} requests (have ${requests.length})`);
    },
    waitForDelivered(count, timeoutMs) {
      return rx.waitFor((r) => r.deliveredSet().size >= count, timeoutMs, `${count} delivered events`);
    },
    heal() {
      scripts = [];
      rejectPredicate = undefined;
      rejectStatus = 400;
      maxBodyBytes = undefined;
      delayMs = undefined;
      rx.hang(false);
    },
    reset() {
      requests.length = 0;
      deliveredIds.clear();
      deliveredTotal = 0;
      acceptedBatches.clear();
      rx.heal();
    },
    close: stop,
  };
  return rx;
}
