// A local Sentry ingest endpoint for tests: node:http on 127.0.0.1 accepting
// `POST /api/<project>/envelope/`, parsing the envelope format (a JSON header line, then items:
// a JSON item header line and its payload, `length` bytes when given, else up to the newline;
// the body possibly gzipped) and recording every event item. Point a DSN at `rx.dsn`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';

export interface SentryEnvelope {
  header: Record<string, unknown>;
  items: { header: Record<string, unknown>; payload: unknown }[];
  /** The decoded envelope text, for "this string never appears" assertions. */
  raw: string;
}

export interface SentryEventRecord {
  event_id?: string;
  fingerprint?: string[];
  tags?: Record<string, string>;
  level?: string;
  exception?: { values?: { type?: string; value?: string }[] };
  contexts?: Record<string, unknown>;
  request?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface SentryReceiver {
  /** http://public@127.0.0.1:<port>/1 */
  readonly dsn: string;
  readonly envelopes: readonly SentryEnvelope[];
  events(): SentryEventRecord[];
  /** Every envelope body as text, concatenated. */
  rawText(): string;
  waitForEvents(count: number, timeoutMs?: number): Promise<SentryEventRecord[]>;
  close(): Promise<void>;
}

export function parseEnvelope(body: Buffer): SentryEnvelope {
  let pos = 0;
  const readLine = (): Buffer => {
    const nl = body.indexOf(0x0a, pos);
    const end = nl === -1 ? body.length : nl;
    const line = body.subarray(pos, end);
    pos = nl === -1 ? body.length : nl + 1;
    return line;
  };
  const header = JSON.parse(readLine().toString('utf8')) as Record<string, unknown>;
  const items: SentryEnvelope['items'] = [];
  while (pos < body.length) {
    const line = readLine();
    if (line.length === 0) continue;
    const itemHeader = JSON.parse(line.toString('utf8')) as Record<string, unknown>;
    let payloadBytes: Buffer;
    if (typeof itemHeader.length === 'number') {
      payloadBytes = body.subarray(pos, pos + itemHeader.length);
      pos += itemHeader.length;
      if (body[pos] === 0x0a) pos += 1;
    } else {
      payloadBytes = readLine();
    }
    const text = payloadBytes.toString('utf8');
    let payload: unknown = text;
    try {
      payload = JSON.parse(text);
    } catch {
      /* attachments may be binary or plain text */
    }
    items.push({ header: itemHeader, payload });
  }
  return { header, items, raw: body.toString('utf8') };
}

export async function startSentryReceiver(): Promise<SentryReceiver> {
  const envelopes: SentryEnvelope[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      if (req.method !== 'POST' || !/^\/api\/[^/]+\/envelope\/?$/.test(path)) {
        res.writeHead(404).end();
        return;
      }
      try {
        let body = Buffer.concat(chunks);
        const enc = String(req.headers['content-encoding'] ?? '').toLowerCase();
        if (enc === 'gzip') body = gunzipSync(body);
        else if (enc === 'deflate') body = inflateSync(body);
        envelopes.push(parseEnvelope(body));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (err) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ detail: (err as Error).message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const events = () =>
    envelopes.flatMap((e) => e.items.filter((i) => i.header.type === 'event').map((i) => i.payload as SentryEventRecord));
  return {
    dsn: `http://public@127.0.0.1:${port}/1`,
    envelopes,
    events,
    rawText: () => envelopes.map((e) => e.raw).join('\n'),
    waitForEvents: async (count, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      while (events().length < count) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} Sentry events (have ${events().length})`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return events();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
