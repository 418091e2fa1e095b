// The admin HTTP API under /_admin on the emulator's own port: app stats, the served record,
// appends, and fault knobs at run time (JSON in, JSON out; no auth — a local test tool).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConnectEvent } from '../event.js';
import { ConfigError } from '../../errors.js';
import { allApps } from './faults.js';
import { parseFault, type Fault } from './options.js';
import type { ServedEvent, ServedSummary } from './served-record.js';

export interface AppStats {
  key: string;
  size: string;
  rate: number | 'max';
  oldestOffset: string;
  lastOffset: string | null;
  retained: number;
  generated: number;
  /** Events made by `generate` with `hold` and not released yet. */
  held: number;
  expiredUnseen: number;
  appended: number;
  duplicates: number;
  batchesCached: number;
  batchesFromCache: number;
  served: number;
  servedDropped: number;
  connections: { active: number; total: number };
  responses: Record<string, number>;
  /** How streams ended, by reason (client-closed, close-after-events, truncated …). */
  streamEnds: Record<string, number>;
  /** Compressed bytes sent by ended streams. */
  bytesSent: number;
}

/** What the admin API needs from the emulator. */
export interface AdminTarget {
  hasApp(appKey: string): boolean;
  stats(): AppStats[];
  appStats(appKey: string): AppStats;
  served(appKey: string): ServedEvent[];
  servedSummary(appKey: string): ServedSummary;
  events(appKey: string): ConnectEvent[];
  append(appKey: string, events: readonly Partial<ConnectEvent>[]): ConnectEvent[];
  generate(appKey: string, count: number): { firstOffset: string; lastOffset: string } | undefined;
  hold(appKey: string, count: number): number;
  release(appKeys: readonly string[], atMs?: number): Promise<ReleaseResult>;
  setFault(appKey: string, fault: Fault): void;
  clearFaults(appKey?: string): void;
  faults(): Record<string, Fault>;
}

/**
 * What a release answers: per app, the events released (or to be) and their offsets; for a
 * release set for a later time, that time (`at`), when the events go out (`releaseAt`: later
 * than `at` when preparing them took longer) and how long preparing took.
 */
export interface ReleaseResult {
  apps: Record<string, { count: number; firstOffset?: string; lastOffset?: string }>;
  at?: number;
  releaseAt?: number;
  prepareMs?: number;
}

/** How far ahead a release may be set. */
const maxReleaseDelayMs = 10 * 60_000;

const maxAdminBody = 10 * 1024 * 1024;
/** The most events one `generate` call makes (about 30 µs each: a second of the emulator's time per 33,000). */
export const maxGenerate = 1_000_000;

export async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, target: AdminTarget): Promise<void> {
  const parts = path.split('/').filter(Boolean).slice(1).map(decodeURIComponent); // drop "_admin"
  const method = req.method ?? 'GET';
  const [section, key, sub] = parts;

  if (section === 'apps' && key === undefined && method === 'GET') return json(res, 200, { apps: target.stats() });
  if (section === 'apps' && key !== undefined) {
    if (!target.hasApp(key)) return json(res, 404, { ok: false, error: `no app with key "${key}"` });
    if (sub === undefined && method === 'GET') return json(res, 200, target.appStats(key));
    if (sub === 'served' && method === 'GET') {
      const after = query.get('afterOffset');
      const limit = Number(query.get('limit') ?? Number.POSITIVE_INFINITY);
      let served = target.served(key);
      if (after !== null && /^\d+$/.test(after)) served = served.filter((s) => BigInt(s.offset) > BigInt(after));
      if (Number.isFinite(limit) && limit >= 0) served = served.slice(0, limit);
      return json(res, 200, { ...target.servedSummary(key), events: served });
    }
    if (sub === 'events' && method === 'GET') {
      const limit = Number(query.get('limit') ?? 1_000);
      const events = target.events(key);
      return json(res, 200, { events: Number.isFinite(limit) && limit >= 0 ? events.slice(-limit) : events });
    }
    if (sub === 'events' && method === 'POST') {
      const body = await readJson(req, res);
      if (body === undefined) return;
      const list = Array.isArray(body) ? body : (body as { events?: unknown }).events;
      if (!Array.isArray(list) || !list.every((e) => typeof e === 'object' && e !== null && !Array.isArray(e))) {
        return json(res, 400, { ok: false, error: 'expected an array of event objects, or {"events":[…]}' });
      }
      return json(res, 200, { ok: true, events: target.append(key, list as Partial<ConnectEvent>[]) });
    }
    if (sub === 'generate' && method === 'POST') {
      const body = await readJson(req, res);
      if (body === undefined) return;
      const { count, hold } = (typeof body === 'object' && body !== null ? body : {}) as { count?: unknown; hold?: unknown };
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > maxGenerate) {
        return json(res, 400, { ok: false, error: `expected {"count": N} with N a whole number from 1 to ${maxGenerate.toLocaleString('en')}` });
      }
      if (hold !== undefined && typeof hold !== 'boolean') return json(res, 400, { ok: false, error: '"hold" must be true or false' });
      if (hold) {
        const held = target.appStats(key).held;
        if (held + count > maxGenerate) return json(res, 400, { ok: false, error: `at most ${maxGenerate.toLocaleString('en')} events are held per app (${held.toLocaleString('en')} already)` });
        return json(res, 200, { ok: true, count, held: target.hold(key, count) });
      }
      return json(res, 200, { ok: true, count, ...target.generate(key, count) });
    }
    if (sub === 'release' && method === 'POST') {
      const body = await readJson(req, res);
      if (body === undefined) return;
      const at = releaseTime(res, body);
      if (at === null) return;
      const { apps, ...when } = await target.release([key], at);
      return json(res, 200, { ok: true, ...apps[key], ...when });
    }
  }
  if (section === 'release' && key === undefined && method === 'POST') {
    const body = await readJson(req, res);
    if (body === undefined) return;
    const keys = (typeof body === 'object' && body !== null ? body : {}) as { apps?: unknown };
    if (!Array.isArray(keys.apps) || keys.apps.length === 0 || !keys.apps.every((k) => typeof k === 'string')) {
      return json(res, 400, { ok: false, error: 'expected {"apps": ["<app key>", …]} with at least one key' });
    }
    const unknown = (keys.apps as string[]).filter((k) => !target.hasApp(k));
    if (unknown.length > 0) return json(res, 404, { ok: false, error: `no app with key ${unknown.map((k) => `"${k}"`).join(', ')}` });
    const at = releaseTime(res, body);
    if (at === null) return;
    return json(res, 200, { ok: true, ...(await target.release(keys.apps as string[], at)) });
  }
  if (section === 'faults') {
    if (key === undefined && method === 'GET') return json(res, 200, { faults: target.faults() });
    if (key === undefined && method === 'DELETE') {
      target.clearFaults();
      return json(res, 200, { ok: true, faults: target.faults() });
    }
    if (key !== undefined) {
      if (key !== allApps && !target.hasApp(key)) return json(res, 404, { ok: false, error: `no app with key "${key}" (use "*" for every app)` });
      if (method === 'GET') return json(res, 200, { fault: target.faults()[key] ?? {} });
      if (method === 'DELETE') {
        target.clearFaults(key);
        return json(res, 200, { ok: true, faults: target.faults() });
      }
      if (method === 'PUT' || method === 'POST') {
        const body = await readJson(req, res);
        if (body === undefined) return;
        try {
          target.setFault(key, parseFault(body));
        } catch (err) {
          if (err instanceof ConfigError) return json(res, 400, { ok: false, error: 'invalid fault', issues: err.issues });
          throw err;
        }
        return json(res, 200, { ok: true, faults: target.faults() });
      }
    }
  }
  json(res, 404, { ok: false, error: `no admin route ${method} ${path}` });
}

/** A release body's `at` (undefined: now), or null after answering 400 for a bad one. */
function releaseTime(res: ServerResponse, body: unknown): number | undefined | null {
  const { at } = (typeof body === 'object' && body !== null ? body : {}) as { at?: unknown };
  if (at === undefined) return undefined;
  if (typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0 || at > Date.now() + maxReleaseDelayMs) {
    json(res, 400, { ok: false, error: `"at" must be a time in epoch milliseconds, at most ${maxReleaseDelayMs / 60_000} minutes from now` });
    return null;
  }
  return at;
}

async function readJson(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxAdminBody) {
      json(res, 413, { ok: false, error: 'body too large' });
      return undefined;
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text.trim() === '' ? {} : JSON.parse(text);
  } catch (err) {
    json(res, 400, { ok: false, error: `invalid JSON: ${(err as Error).message}` });
    return undefined;
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
