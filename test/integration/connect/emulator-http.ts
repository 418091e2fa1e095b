// A plain node:http + zlib client for the emulator's tests (deliberately not Tributary's client):
// posts a request, then exposes the gunzipped lines as they arrive, the raw chunks, and how it ended.
import { request, type IncomingHttpHeaders } from 'node:http';
import { createGunzip } from 'node:zlib';

export const ndjsonAccept = 'application/vnd.urbanairship+x-ndjson; version=3;';

export interface PostOptions {
  appKey?: string | undefined;
  token?: string | undefined;
  /** Sent as Authorization verbatim (overrides token). */
  authorization?: string;
  body?: unknown;
  /** Raw body text (overrides body). */
  rawBody?: string;
  accept?: string | null;
  cookie?: string;
  path?: string;
  method?: string;
  /** Count bytes of lines instead of keeping lines longer than this (for the 64 MB line). */
  keepLinesUpTo?: number;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  /** Body text of a non-200 answer. */
  text: string;
  /** Complete lines received so far ('' for keep-alives). */
  lines: string[];
  /** Lengths of every complete line, kept even when the line itself was not. */
  lineLengths: number[];
  rawChunks: number[];
  gunzipError: Error | undefined;
  responseError: Error | undefined;
  /** True once the body ended cleanly (gzip finished). */
  ended: boolean;
  /** Resolves when the body ended, failed or the connection closed. */
  done: Promise<void>;
  /** Resolves when `check(lines)` holds, rejects after timeoutMs (default 30 s: a bound for failure, generous for a loaded CI machine). */
  until(check: (lines: readonly string[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

export function post(url: string, o: PostOptions = {}): Promise<Reply> {
  const target = new URL(o.path ?? '/api/events', url);
  const text = o.rawBody ?? JSON.stringify(o.body ?? {});
  const headers: Record<string, string> = { 'Content-Length': String(Buffer.byteLength(text)) };
  if (o.appKey !== undefined) headers['X-UA-Appkey'] = o.appKey;
  if (o.authorization !== undefined) headers.Authorization = o.authorization;
  else if (o.token !== undefined) headers.Authorization = `Bearer ${o.token}`;
  if (o.accept !== null) headers.Accept = o.accept ?? ndjsonAccept;
  if (o.cookie !== undefined) headers.Cookie = o.cookie;
  return new Promise((resolve, reject) => {
    const req = request(target, { method: o.method ?? 'POST', headers, agent: false }, (res) => {
      const waiters = new Set<() => void>();
      let finish!: () => void;
      const reply: Reply = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: '',
        lines: [],
        lineLengths: [],
        rawChunks: [],
        gunzipError: undefined,
        responseError: undefined,
        ended: false,
        done: new Promise<void>((r) => (finish = r)),
        until: (check, timeoutMs = 30_000) =>
          new Promise<void>((ok, fail) => {
            if (check(reply.lines)) return ok();
            const timer = setTimeout(() => {
              waiters.delete(test);
              fail(new Error(`timed out after ${timeoutMs} ms; got ${reply.lines.length} lines`));
            }, timeoutMs);
            const test = () => {
              if (check(reply.lines)) {
                clearTimeout(timer);
                waiters.delete(test);
                ok();
              }
            };
            waiters.add(test);
          }),
        close: () => {
          req.destroy();
          res.destroy();
        },
      };
      const notify = () => {
        for (const w of [...waiters]) w();
      };
      res.on('data', (c: Buffer) => reply.rawChunks.push(c.length));
      res.on('error', (err) => (reply.responseError = err));
      if (reply.status !== 200) {
        res.setEncoding('utf8');
        res.on('data', (c: string) => (reply.text += c));
        res.on('end', () => {
          reply.ended = true;
          finish();
        });
        res.on('close', () => finish());
        resolve(reply);
        return;
      }
      const gunzip = createGunzip();
      let partial = '';
      let partialLength = 0;
      const limit = o.keepLinesUpTo ?? Number.POSITIVE_INFINITY;
      gunzip.setEncoding('utf8');
      gunzip.on('data', (chunk: string) => {
        let start = 0;
        for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
          const piece = chunk.slice(start, nl);
          const length = partialLength + piece.length;
          reply.lines.push(length <= limit ? partial + piece : `<${length} chars>`);
          reply.lineLengths.push(length);
          partial = '';
          partialLength = 0;
          start = nl + 1;
        }
        const rest = chunk.slice(start);
        partialLength += rest.length;
        if (partialLength <= limit) partial += rest;
        else partial = '';
        notify();
      });
      gunzip.on('error', (err) => {
        reply.gunzipError = err;
        notify();
        finish();
      });
      gunzip.on('end', () => {
        reply.ended = true;
        notify();
        finish();
      });
      res.on('close', () => {
        // A cut connection never ends the pipe: end the gunzip so it reports what it got.
        if (!res.complete) {
          reply.responseError ??= new Error('connection closed before the response completed');
          gunzip.end();
        }
      });
      res.pipe(gunzip);
      resolve(reply);
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** Per lines array: how many of its lines were looked at, and the events among them. */
const parsed = new WeakMap<readonly string[], { upTo: number; events: Record<string, string>[] }>();

/**
 * The JSON lines among `lines`, parsed. A reply's lines only grow, and `until` checks call this on
 * every chunk, so each array's parsed prefix is kept and only new lines are parsed: parsing all
 * lines per chunk made a 3,000-event wait quadratic (seconds on a loaded machine).
 */
export function events(lines: readonly string[]): Record<string, string>[] {
  let seen = parsed.get(lines);
  if (seen === undefined || seen.upTo > lines.length) parsed.set(lines, (seen = { upTo: 0, events: [] }));
  for (; seen.upTo < lines.length; seen.upTo++) {
    const l = lines[seen.upTo]!;
    if (l.startsWith('{') && l.endsWith('}')) seen.events.push(JSON.parse(l) as Record<string, string>);
  }
  return seen.events.slice();
}

export async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  return res.json();
}

export async function sendJson(url: string, method: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  return { status: res.status, json: await res.json() };
}
