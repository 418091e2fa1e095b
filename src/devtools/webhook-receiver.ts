// A local webhook receiver for people trying integrations (`tributary receive webhook`) and for
// local mode (`tributary local`): node:http on loopback, one tally per integration taken from
// the first path segment (`/<integration>`), event ids remembered so duplicates are visible,
// and the X-Tributary-Signature checked when a signing secret is configured
// (docs/sinks/webhook.md). A per-integration "down" switch answers 503, for demos of retry and
// backlog. Not a test double: the tests' richer receiver lives in test/helpers.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { verifySignature } from '../sinks/webhook/request-builder.js';

export interface WebhookReceiverOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** When set, requests without a valid signature are answered 401 and count as `badSignature`. */
  signingSecret?: string;
  /** Signatures older than this are refused as replays (seconds, default 300). */
  toleranceSeconds?: number;
  /** Bodies above this (as sent) are answered 413 (default 64 MiB). */
  maxBodyBytes?: number;
}

export interface IntegrationTally {
  integration: string;
  /** Every request, whatever the answer. */
  requests: number;
  /** Requests answered 2xx. */
  accepted: number;
  /** Requests answered otherwise (down, bad signature, malformed body, too large). */
  refused: number;
  badSignature: number;
  /** Events in accepted requests, duplicates included. */
  events: number;
  /** Distinct event ids accepted. */
  unique: number;
  /** Accepted events whose id had been accepted before. */
  duplicates: number;
  /** ISO time of the last request. */
  lastAt: string | undefined;
}

export interface WebhookReceiver {
  /** http://host:port */
  readonly url: string;
  readonly port: number;
  /** The URL a sink of `integration` should POST to. */
  urlFor(integration: string): string;
  tally(integration: string): IntegrationTally;
  tallies(): IntegrationTally[];
  /** Distinct event ids accepted for `integration`. */
  ids(integration: string): ReadonlySet<string>;
  /** While on, requests for `integration` (or every one with `*`) are answered 503. */
  setDown(integration: string, down: boolean): void;
  isDown(integration: string): boolean;
  close(): Promise<void>;
}

interface Entry {
  tally: IntegrationTally;
  ids: Set<string>;
}

const defaultMaxBody = 64 * 1024 * 1024;

/** Event ids of a decompressed body: a JSON array, or NDJSON (one event per line). Throws when malformed. */
export function eventIdsOf(payload: Buffer, contentType: string | undefined): string[] {
  const text = payload.toString('utf8');
  const values: unknown[] = /application\/json/i.test(contentType ?? '')
    ? (JSON.parse(text.trim() === '' ? '[]' : text) as unknown[])
    : text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as unknown);
  if (!Array.isArray(values)) throw new Error('a JSON body must be an array of events');
  return values.map((v) => String((v as { id?: unknown } | null)?.id ?? ''));
}

/** The integration a request is for: its first path segment, or `default` for `/`. */
export function integrationOfPath(url: string | undefined): string {
  const path = (url ?? '/').split('?')[0]!;
  const first = path.split('/').find((s) => s !== '');
  return first ? decodeURIComponent(first) : 'default';
}

export async function startWebhookReceiver(o: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const host = o.host ?? '127.0.0.1';
  const maxBody = o.maxBodyBytes ?? defaultMaxBody;
  const entries = new Map<string, Entry>();
  const down = new Set<string>();
  const sockets = new Set<Socket>();

  const entry = (integration: string): Entry => {
    let e = entries.get(integration);
    if (!e) {
      e = {
        tally: { integration, requests: 0, accepted: 0, refused: 0, badSignature: 0, events: 0, unique: 0, duplicates: 0, lastAt: undefined },
        ids: new Set(),
      };
      entries.set(integration, e);
    }
    return e;
  };

  const readBody = (req: IncomingMessage): Promise<Buffer | undefined> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBody) tooLarge = true;
        else chunks.push(c);
      });
      req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
      req.on('error', reject);
    });

  const answer = (res: ServerResponse, status: number, body: Record<string, unknown>): void => {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const integration = integrationOfPath(req.url);
    const e = entry(integration);
    const wire = await readBody(req);
    e.tally.requests += 1;
    e.tally.lastAt = new Date().toISOString();
    const refuse = (status: number, error: string): void => {
      e.tally.refused += 1;
      answer(res, status, { error });
    };
    if (req.method !== 'POST') return refuse(405, 'POST only');
    if (down.has(integration) || down.has('*')) return refuse(503, 'receiver is down (local demo fault)');
    if (wire === undefined) return refuse(413, `body above ${maxBody} bytes`);
    let payload = wire;
    if (/gzip/i.test(String(req.headers['content-encoding'] ?? ''))) {
      try {
        payload = gunzipSync(wire);
      } catch {
        return refuse(400, 'body is not valid gzip');
      }
    }
    if (o.signingSecret !== undefined) {
      const ts = req.headers['x-tributary-timestamp'];
      const sig = req.headers['x-tributary-signature'];
      const ok = verifySignature(o.signingSecret, payload, typeof ts === 'string' ? ts : undefined, typeof sig === 'string' ? sig : undefined, {
        toleranceSeconds: o.toleranceSeconds ?? 300,
      });
      if (!ok) {
        e.tally.badSignature += 1;
        return refuse(401, 'missing, invalid or stale X-Tributary-Signature');
      }
    }
    let ids: string[];
    try {
      ids = eventIdsOf(payload, req.headers['content-type']);
    } catch {
      return refuse(400, 'malformed body');
    }
    e.tally.accepted += 1;
    e.tally.events += ids.length;
    for (const id of ids) {
      if (e.ids.has(id)) e.tally.duplicates += 1;
      else e.ids.add(id);
    }
    e.tally.unique = e.ids.size;
    answer(res, 200, { ok: true, events: ids.length });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const base = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  return {
    url: base,
    port: address.port,
    urlFor: (integration) => `${base}/${encodeURIComponent(integration)}`,
    tally: (integration) => ({ ...entry(integration).tally }),
    tallies: () => [...entries.values()].map((e) => ({ ...e.tally })).sort((a, b) => a.integration.localeCompare(b.integration)),
    ids: (integration) => entry(integration).ids,
    setDown(integration, on) {
      if (on) down.add(integration);
      else down.delete(integration);
    },
    isDown: (integration) => down.has(integration) || down.has('*'),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
