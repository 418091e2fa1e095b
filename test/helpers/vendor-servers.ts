// Loopback servers that implement the analytics vendors' documented request/response contracts,
// for the amplitude, mixpanel and segment sink tests (integration and bench). Each one validates
// requests as strictly as the vendor documents (auth, content type, required fields, limits),
// records the events it ingests by their insert id / messageId, and answers with the vendor's own
// shapes — success, partial failure, 413, 429 — on demand.
//
//   const amp = await startAmplitudeServer({ apiKey: 'k' });      // POST /2/httpapi
//   const mp = await startMixpanelServer({ serviceAccount: { username: 'u', secret: 's', projectId: '1' } });  // POST /import
//   const seg = await startSegmentServer({ writeKey: 'w' });      // POST /v1/batch
//   t.teardown(() => amp.close());
//
// Each is an HttpReceiver (test/helpers/http-receiver.ts), so the shared compliance suite drives
// it unchanged: `delivered()` lists the ids the vendor ingested (arrival order, duplicates kept),
// `requests[i].eventIds` the ids each request carried. The generic knobs answer in the vendor's
// words: `rejectIds` ⇒ Amplitude 400 with events_with_invalid_fields, Mixpanel strict 400 with
// failed_records (the others ingested), Segment 400 for the whole batch; `rateLimitNext` ⇒ the
// vendor's 429; `setMaxBodyBytes` ⇒ 413. Vendor knobs: Amplitude `exceedDailyQuota(users, devices)`.
//
// Contract sources (checked against the vendors' docs, see docs/sinks/<vendor>.md):
// - Amplitude HTTP V2: ≤ 2,000 events and ≤ 1 MB per request (413), event_type and user_id or
//   device_id required, ids shorter than options.min_id_length (default 5) invalid, `time` in ms,
//   400 {code, error, missing_field?, events_with_invalid_fields?, events_with_missing_fields?}
//   ingests nothing; 429 {exceeded_daily_quota_users, exceeded_daily_quota_devices, throttled_*}.
//   A bad API key is a 400 whose error names the key.
// - Mixpanel /import: Basic service account (with ?project_id) or project token; ≤ 2,000 events
//   and ≤ 10 MB uncompressed (413); gzip allowed; strict=1 ⇒ 400 {failed_records:[{index,
//   insert_id, field, message}], num_records_imported} with the valid events imported.
// - Segment /v1/batch: Basic write key; Content-Type application/json; ≤ 500 KB per batch and
//   ≤ 32 KB per message (400); 200 for everything else, including messages it then drops
//   (no userId/anonymousId, track without event) — see `dropped()`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { HttpReceiver, ReceivedRequest, ScriptedAnswer } from './http-receiver.js';

export type Vendor = 'amplitude' | 'mixpanel' | 'segment';

type Json = unknown;
type Obj = Record<string, Json>;
const isObj = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What one request's contract check found. */
type Parsed =
  | { ok: false; status: number; body: Obj }
  | { ok: true; events: Obj[]; ids: string[]; problems: Map<number, { field: string; kind: 'invalid' | 'missing'; message: string }>; strict: boolean; drop?: Set<number> };

interface VendorContract {
  vendor: Vendor;
  path: string;
  /** Checks auth, framing and every event; `ids` are the events' insert ids. */
  parse(req: IncomingMessage, url: URL, wire: Buffer): Parsed;
  success(count: number, wireBytes: number): { status: number; body: Obj };
  /** Answer to events with problems (`accepted` are the indices the vendor still ingests). */
  partial(parsed: Extract<Parsed, { ok: true }>): { status: number; body: Obj; accepted: number[] };
  tooLarge(detail: string): { status: number; body: Obj };
  rateLimited(parsed: Extract<Parsed, { ok: true }> | undefined): Obj;
  serverError(status: number): Obj;
  /** Vendor-specific refusal before partial checks (Amplitude daily quota). */
  quota?(parsed: Extract<Parsed, { ok: true }>): { status: number; body: Obj } | undefined;
}

export interface VendorServer extends HttpReceiver {
  readonly vendor: Vendor;
  /** The origin to give a sink as `baseUrl` (http://127.0.0.1:<port>). */
  readonly baseUrl: string;
  /** Ingested events by id (the vendor JSON of the last copy). */
  ingested(): Map<string, Obj>;
  /** Segment: messages answered 200 but dropped (no identity, no event name). */
  dropped(): string[];
  /** Amplitude: these users / devices are over their daily quota (429 naming them; none of the request ingested). */
  exceedDailyQuota(users: readonly string[], devices?: readonly string[]): void;
}

interface Script {
  status: number;
  remaining: number;
  answer: ScriptedAnswer;
}

const maxAcceptedBody = 64 * 1024 * 1024;

function basicAuth(req: IncomingMessage): { user: string; pass: string } | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string' || !/^Basic\s+/i.test(h)) return undefined;
  const decoded = Buffer.from(h.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { user: decoded.slice(0, i), pass: decoded.slice(i + 1) };
}

async function startVendorServer(contract: VendorContract, state: { quotaUsers: Set<string>; quotaDevices: Set<string> }): Promise<VendorServer> {
  const requests: ReceivedRequest[] = [];
  const ingestedLog: string[] = [];
  const ingestedMap = new Map<string, Obj>();
  const droppedLog: string[] = [];
  const sockets = new Set<Socket>();
  const held = new Set<ServerResponse>();
  let scripts: Script[] = [];
  let rejectPredicate: ((id: string) => boolean) | undefined;
  let rejectStatus: 400 | 422 = 400;
  let maxBodyBytes: number | undefined;
  let delayMs: number | undefined;
  let hanging = false;
  let server: Server | undefined;
  let port = 0;

  const readBody = (req: IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxAcceptedBody) {
          req.destroy(new Error('body too large for the test server'));
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const wire = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const parsed: Parsed =
      req.method !== 'POST' || url.pathname !== contract.path
        ? { ok: false, status: 404, body: { code: 404, error: `no such endpoint ${req.method} ${url.pathname}` } }
        : contract.parse(req, url, wire);
    const record: ReceivedRequest = {
      at: Date.now(),
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      status: 0,
      bytes: wire.length,
      eventIds: parsed.ok ? parsed.ids : [],
      signature: 'absent',
      malformed: !parsed.ok,
    };
    requests.push(record);
    const reply = (status: number, body: Obj | string, headers: Record<string, string> = {}): void => {
      record.status = status;
      if (res.headersSent || res.destroyed) return;
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'content-type': text.startsWith('{') ? 'application/json' : 'text/plain', ...headers });
      res.end(text);
    };
    const ingest = (p: Extract<Parsed, { ok: true }>, indices: readonly number[]): void => {
      for (const i of indices) {
        if (p.drop?.has(i)) {
          droppedLog.push(p.ids[i]!);
          continue;
        }
        ingestedLog.push(p.ids[i]!);
        ingestedMap.set(p.ids[i]!, p.events[i]!);
      }
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
      const body =
        script.answer.body ??
        (script.status === 429 ? contract.rateLimited(parsed.ok ? parsed : undefined) : script.status >= 500 ? contract.serverError(script.status) : { code: script.status, error: `scripted ${script.status}` });
      reply(script.status, body, script.answer.headers);
      return;
    }
    if (maxBodyBytes !== undefined && wire.length > maxBodyBytes) {
      const a = contract.tooLarge(`body of ${wire.length} bytes is above ${maxBodyBytes}`);
      reply(a.status, a.body);
      return;
    }
    if (!parsed.ok) {
      reply(parsed.status, parsed.body);
      return;
    }
    if (rejectPredicate) {
      parsed.ids.forEach((id, i) => {
        if (rejectPredicate!(id) && !parsed.problems.has(i)) parsed.problems.set(i, { field: contract.vendor === 'mixpanel' ? 'properties' : 'event_properties', kind: 'invalid', message: `event ${id} refused by the test` });
      });
    }
    const quota = contract.quota?.(parsed);
    if (quota) {
      reply(quota.status, quota.body);
      return;
    }
    if (parsed.problems.size > 0 && parsed.strict) {
      const a = contract.partial(parsed);
      ingest(parsed, a.accepted);
      // Segment's refusal is whole-batch, so the test's chosen status (400 or 422) is used as is.
      reply(contract.vendor === 'segment' ? rejectStatus : a.status, a.body);
      return;
    }
    // Not strict (Mixpanel without strict=1): invalid events are dropped silently.
    const ok = parsed.events.map((_, i) => i).filter((i) => !parsed.problems.has(i));
    ingest(parsed, ok);
    const a = contract.success(ok.length, wire.length);
    reply(a.status, a.body);
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
    for (const r of held) r.destroy();
    held.clear();
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeAllConnections();
    for (const sock of sockets) sock.destroy();
    await closed;
  };

  await listen();

  const srv: VendorServer = {
    vendor: contract.vendor,
    get baseUrl() {
      return `http://127.0.0.1:${port}`;
    },
    get url() {
      return `http://127.0.0.1:${port}${contract.path}`;
    },
    get port() {
      return port;
    },
    get listening() {
      return server !== undefined;
    },
    requests,
    delivered: () => [...ingestedLog],
    deliveredSet: () => new Set(ingestedLog),
    deliveredCount: () => ingestedLog.length,
    ingested: () => new Map(ingestedMap),
    dropped: () => [...droppedLog],
    exceedDailyQuota(users, devices = []) {
      for (const u of users) state.quotaUsers.add(u);
      for (const d of devices) state.quotaDevices.add(d);
    },
    failNext(status, times = 1, answer = {}) {
      scripts.push({ status, remaining: times, answer });
    },
    rateLimitNext(times, retryAfter) {
      scripts.push({ status: 429, remaining: times, answer: { headers: { 'retry-after': String(retryAfter) } } });
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
        for (const r of held) r.destroy();
        held.clear();
      }
    },
    stop,
    start: () => (server ? Promise.resolve() : listen()),
    async waitFor(predicate, timeoutMs = 10_000, what = 'condition') {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(srv)) {
        if (Date.now() > deadline) throw new Error(`${contract.vendor} server: timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    waitForRequests(count, timeoutMs) {
      return srv.waitFor((r) => r.requests.length >= count, timeoutMs, `${count} requests (have ${requests.length})`);
    },
    waitForDelivered(count, timeoutMs) {
      return srv.waitFor((r) => r.deliveredSet().size >= count, timeoutMs, `${count} delivered events`);
    },
    heal() {
      scripts = [];
      rejectPredicate = undefined;
      rejectStatus = 400;
      maxBodyBytes = undefined;
      delayMs = undefined;
      state.quotaUsers.clear();
      state.quotaDevices.clear();
      srv.hang(false);
    },
    reset() {
      requests.length = 0;
      ingestedLog.length = 0;
      ingestedMap.clear();
      droppedLog.length = 0;
      srv.heal();
    },
    close: stop,
  };
  return srv;
}

const parseJson = (text: string): { ok: true; value: Json } | { ok: false } => {
  try {
    return { ok: true, value: JSON.parse(text) as Json };
  } catch {
    return { ok: false };
  }
};

// ——— Amplitude HTTP V2 ———

export interface AmplitudeServerOptions {
  apiKey: string;
}

export const amplitudeServerLimits = { maxEvents: 2000, maxBytes: 1_000_000, defaultMinIdLength: 5 } as const;

export function startAmplitudeServer(options: AmplitudeServerOptions): Promise<VendorServer> {
  const state = { quotaUsers: new Set<string>(), quotaDevices: new Set<string>() };
  const bad = (status: number, body: Obj): Parsed => ({ ok: false, status, body: { code: status, ...body } });
  const contract: VendorContract = {
    vendor: 'amplitude',
    path: '/2/httpapi',
    parse(req, _url, wire) {
      if (!/^application\/json\b/i.test(String(req.headers['content-type'] ?? ''))) return bad(400, { error: 'Content-Type must be application/json' });
      if (wire.length > amplitudeServerLimits.maxBytes) return bad(413, { error: 'Payload too large' });
      const json = parseJson(wire.toString('utf8'));
      if (!json.ok || !isObj(json.value)) return bad(400, { error: 'Invalid JSON request body' });
      const body = json.value;
      if (typeof body.api_key !== 'string' || body.api_key === '') return bad(400, { error: 'Request missing required field', missing_field: 'api_key' });
      if (body.api_key !== options.apiKey) return bad(400, { error: `Invalid API key: ${body.api_key.slice(0, 6)}…` });
      if (!Array.isArray(body.events) || body.events.length === 0) return bad(400, { error: 'Request missing required field', missing_field: 'events' });
      if (body.events.length > amplitudeServerLimits.maxEvents) return bad(413, { error: 'Payload too large' });
      const opts = isObj(body.options) ? body.options : {};
      const minIdLength = typeof opts.min_id_length === 'number' ? opts.min_id_length : amplitudeServerLimits.defaultMinIdLength;
      const events: Obj[] = [];
      const ids: string[] = [];
      const problems = new Map<number, { field: string; kind: 'invalid' | 'missing'; message: string }>();
      body.events.forEach((e: Json, i: number) => {
        const ev = isObj(e) ? e : {};
        events.push(ev);
        ids.push(typeof ev.insert_id === 'string' ? ev.insert_id : '');
        const problem = (field: string, kind: 'invalid' | 'missing'): void => {
          if (!problems.has(i)) problems.set(i, { field, kind, message: `${kind} ${field}` });
        };
        if (!isObj(e)) return problem('event', 'invalid');
        if (typeof ev.event_type !== 'string' || ev.event_type === '') problem('event_type', ev.event_type === undefined ? 'missing' : 'invalid');
        if (ev.user_id === undefined && ev.device_id === undefined) problem('user_id', 'missing');
        for (const k of ['user_id', 'device_id']) {
          const v = ev[k];
          if (v !== undefined && (typeof v !== 'string' || v.length < minIdLength)) problem(k, 'invalid');
        }
        if (ev.time !== undefined && !Number.isSafeInteger(ev.time)) problem('time', 'invalid');
        if (ev.insert_id !== undefined && (typeof ev.insert_id !== 'string' || ev.insert_id.length > 256)) problem('insert_id', 'invalid');
        for (const k of ['event_properties', 'user_properties']) if (ev[k] !== undefined && !isObj(ev[k])) problem(k, 'invalid');
      });
      return { ok: true, events, ids, problems, strict: true };
    },
    success: (count, bytes) => ({ status: 200, body: { code: 200, events_ingested: count, payload_size_bytes: bytes, server_upload_time: Date.now() } }),
    partial(p) {
      const invalid: Record<string, number[]> = {};
      const missing: Record<string, number[]> = {};
      for (const [i, pr] of p.problems) ((pr.kind === 'invalid' ? invalid : missing)[pr.field] ??= []).push(i);
      const body: Obj = { code: 400, error: Object.keys(missing).length ? 'Request missing required field' : 'Invalid field values on some events' };
      if (Object.keys(invalid).length) body.events_with_invalid_fields = invalid;
      if (Object.keys(missing).length) body.events_with_missing_fields = missing;
      // Amplitude ingests nothing of a request it answers 400.
      return { status: 400, body, accepted: [] };
    },
    tooLarge: () => ({ status: 413, body: { code: 413, error: 'Payload too large' } }),
    rateLimited: (p) => ({
      code: 429,
      error: 'Too many requests for some devices and users',
      eps_threshold: 30,
      throttled_devices: {},
      throttled_users: {},
      throttled_events: p ? p.events.map((_, i) => i) : [],
    }),
    serverError: (status) => ({ code: status, error: 'Internal server error' }),
    quota(p) {
      const users: Record<string, number> = {};
      const devices: Record<string, number> = {};
      const throttled: number[] = [];
      p.events.forEach((e, i) => {
        const u = typeof e.user_id === 'string' && state.quotaUsers.has(e.user_id) ? e.user_id : undefined;
        const d = typeof e.device_id === 'string' && state.quotaDevices.has(e.device_id) ? e.device_id : undefined;
        if (u !== undefined) users[u] = 500_001;
        if (d !== undefined) devices[d] = 500_001;
        if (u !== undefined || d !== undefined) throttled.push(i);
      });
      if (throttled.length === 0) return undefined;
      return {
        status: 429,
        body: { code: 429, error: 'Too many requests for some devices and users', eps_threshold: 30, exceeded_daily_quota_users: users, exceeded_daily_quota_devices: devices, throttled_events: throttled },
      };
    },
  };
  return startVendorServer(contract, state);
}

// ——— Mixpanel /import ———

export interface MixpanelServerOptions {
  serviceAccount?: { username: string; secret: string; projectId: string };
  projectToken?: string;
}

export const mixpanelServerLimits = { maxEvents: 2000, maxBytes: 10 * 1024 * 1024, maxProperties: 255 } as const;

const mixpanelInvalidDistinctIds = new Set(['anon', 'anonymous', 'nil', 'none', 'null', 'n/a', 'na', 'undefined', 'unknown', '<nil>', '0', '-1', 'true', 'false', '[]', '{}', '00000000-0000-0000-0000-000000000000']);

export function startMixpanelServer(options: MixpanelServerOptions): Promise<VendorServer> {
  const state = { quotaUsers: new Set<string>(), quotaDevices: new Set<string>() };
  const bad = (status: number, error: string): Parsed => ({ ok: false, status, body: { code: status, error, status: 'error' } });
  const contract: VendorContract = {
    vendor: 'mixpanel',
    path: '/import',
    parse(req, url, wire) {
      const auth = basicAuth(req);
      const sa = options.serviceAccount;
      const asServiceAccount = sa !== undefined && auth?.user === sa.username && auth.pass === sa.secret;
      const asToken = options.projectToken !== undefined && auth?.user === options.projectToken && auth.pass === '';
      if (!asServiceAccount && !asToken) return bad(401, 'Invalid credentials');
      if (asServiceAccount && url.searchParams.get('project_id') !== sa!.projectId) {
        return url.searchParams.get('project_id') === null ? bad(400, 'project_id is required when authenticating with a service account') : bad(403, 'service account has no access to this project');
      }
      let payload = wire;
      if (/gzip/i.test(String(req.headers['content-encoding'] ?? ''))) {
        try {
          payload = gunzipSync(wire);
        } catch {
          return bad(400, 'unable to decompress gzip body');
        }
      }
      if (payload.length > mixpanelServerLimits.maxBytes) return bad(413, 'request body too large');
      const ct = String(req.headers['content-type'] ?? '');
      let values: Json[];
      if (/^application\/x-ndjson\b/i.test(ct)) {
        const lines = payload.toString('utf8').split('\n').filter((l) => l.trim() !== '').map((l) => parseJson(l));
        if (lines.some((l) => !l.ok)) return bad(400, 'unable to parse ndjson body');
        values = lines.map((l) => (l as { value: Json }).value);
      } else if (/^application\/json\b/i.test(ct)) {
        const json = parseJson(payload.toString('utf8'));
        if (!json.ok) return bad(400, 'unable to parse JSON body');
        values = Array.isArray(json.value) ? json.value : [json.value];
      } else {
        return bad(400, 'Content-Type must be application/json or application/x-ndjson');
      }
      if (values.length > mixpanelServerLimits.maxEvents) return bad(413, `more than ${mixpanelServerLimits.maxEvents} events in one request`);
      const strict = url.searchParams.get('strict') === '1';
      const events: Obj[] = [];
      const ids: string[] = [];
      const problems = new Map<number, { field: string; kind: 'invalid' | 'missing'; message: string }>();
      const now = Date.now();
      values.forEach((v, i) => {
        const ev = isObj(v) ? v : {};
        const props = isObj(ev.properties) ? ev.properties : {};
        events.push(ev);
        ids.push(typeof props.$insert_id === 'string' ? props.$insert_id : '');
        const problem = (field: string, message: string): void => {
          if (!problems.has(i)) problems.set(i, { field, kind: 'invalid', message: `'${field}' is invalid: ${message}` });
        };
        if (typeof ev.event !== 'string' || ev.event === '') problem('event', 'must be a non-empty string');
        if (!isObj(ev.properties)) return problem('properties', 'must be an object');
        const time = props.time;
        if (typeof time !== 'number' || !Number.isFinite(time)) problem('properties.time', 'must not be missing');
        else {
          const ms = time < 1e11 ? time * 1000 : time;
          if (ms < Date.UTC(1971, 0, 1) || ms > now + 3_600_000) problem('properties.time', 'must be after 1971-01-01 and not more than 1 hour in the future');
        }
        if (typeof props.distinct_id !== 'string') problem('properties.distinct_id', 'must be a string');
        else if (mixpanelInvalidDistinctIds.has(props.distinct_id.toLowerCase())) problem('properties.distinct_id', 'is a placeholder value');
        if (typeof props.$insert_id !== 'string' || !/^[A-Za-z0-9-]{1,36}$/.test(props.$insert_id)) problem('properties.$insert_id', 'must be ≤ 36 alphanumeric characters or "-"');
        if (Object.keys(props).length >= mixpanelServerLimits.maxProperties) problem('properties', `must have fewer than ${mixpanelServerLimits.maxProperties} properties`);
      });
      return { ok: true, events, ids, problems, strict };
    },
    success: (count) => ({ status: 200, body: { code: 200, num_records_imported: count, status: 'OK' } }),
    partial(p) {
      const accepted = p.events.map((_, i) => i).filter((i) => !p.problems.has(i));
      const failed = [...p.problems].map(([index, pr]) => ({ index, insert_id: p.ids[index] ?? '', field: pr.field, message: pr.message }));
      return {
        status: 400,
        body: { code: 400, error: 'some data points in the request failed validation', status: 'Bad Request', num_records_imported: accepted.length, failed_records: failed },
        accepted,
      };
    },
    tooLarge: () => ({ status: 413, body: { code: 413, error: 'request body too large', status: 'error' } }),
    rateLimited: () => ({ code: 429, error: 'too many requests: rate limit exceeded', status: 'error' }),
    serverError: (status) => ({ code: status, error: 'internal error', status: 'error' }),
  };
  return startVendorServer(contract, state);
}

// ——— Segment HTTP Tracking API /v1/batch ———

export interface SegmentServerOptions {
  writeKey: string;
}

export const segmentServerLimits = { maxBatchBytes: 500 * 1024, maxMessageBytes: 32 * 1024, maxMessageIdLength: 100 } as const;

export function startSegmentServer(options: SegmentServerOptions): Promise<VendorServer> {
  const state = { quotaUsers: new Set<string>(), quotaDevices: new Set<string>() };
  const bad = (status: number, message: string): Parsed => ({ ok: false, status, body: { success: false, message } });
  const contract: VendorContract = {
    vendor: 'segment',
    path: '/v1/batch',
    parse(req, _url, wire) {
      if (!/^application\/json\b/i.test(String(req.headers['content-type'] ?? ''))) return bad(400, 'Content-Type must be application/json');
      if (wire.length > segmentServerLimits.maxBatchBytes) return bad(400, `batch is larger than ${segmentServerLimits.maxBatchBytes} bytes`);
      const json = parseJson(wire.toString('utf8'));
      if (!json.ok || !isObj(json.value) || !Array.isArray(json.value.batch)) return bad(400, 'Invalid JSON');
      const auth = basicAuth(req);
      // Segment answers 200 even to an unknown write key; the data just goes nowhere.
      const keyOk = auth?.user === options.writeKey;
      const events: Obj[] = [];
      const ids: string[] = [];
      const drop = new Set<number>();
      let oversized = false;
      json.value.batch.forEach((m: Json, i: number) => {
        const msg = isObj(m) ? m : {};
        events.push(msg);
        ids.push(typeof msg.messageId === 'string' ? msg.messageId : '');
        if (Buffer.byteLength(JSON.stringify(m)) > segmentServerLimits.maxMessageBytes) oversized = true;
        const hasIdentity = (typeof msg.userId === 'string' && msg.userId !== '') || (typeof msg.anonymousId === 'string' && msg.anonymousId !== '');
        const trackOk = msg.type !== 'track' || (typeof msg.event === 'string' && msg.event !== '');
        const idOk = typeof msg.messageId !== 'string' || msg.messageId.length <= segmentServerLimits.maxMessageIdLength;
        const typeOk = ['track', 'identify', 'page', 'screen', 'group', 'alias'].includes(String(msg.type));
        if (!keyOk || !hasIdentity || !trackOk || !idOk || !typeOk) drop.add(i);
      });
      if (oversized) return bad(400, `a message is larger than ${segmentServerLimits.maxMessageBytes} bytes`);
      return { ok: true, events, ids, problems: new Map(), strict: true, drop };
    },
    success: () => ({ status: 200, body: { success: true } }),
    // Segment names no message: a batch with a refused message is refused whole.
    partial: () => ({ status: 400, body: { success: false, message: 'Bad Request' }, accepted: [] }),
    tooLarge: () => ({ status: 413, body: { success: false, message: 'Request Entity Too Large' } }),
    rateLimited: () => ({ success: false, message: 'Too Many Requests' }),
    serverError: () => ({ success: false, message: 'Internal Server Error' }),
  };
  return startVendorServer(contract, state);
}
