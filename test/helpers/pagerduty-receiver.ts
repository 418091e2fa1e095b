// A local PagerDuty Events API v2 endpoint for tests: `POST /v2/enqueue` with PagerDuty's request
// contract (routing_key, event_action trigger|acknowledge|resolve, dedup_key, a payload with
// summary/source/severity for triggers), answering 202 {status, message, dedup_key} or 400 like
// the real service. It keeps incidents by dedup key the way PagerDuty does (a trigger on an open
// key merges; a resolve closes it) and can fail on demand.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PagerDutyEvent {
  at: number;
  routing_key?: string;
  event_action: 'trigger' | 'acknowledge' | 'resolve';
  dedup_key?: string;
  payload?: { summary?: string; source?: string; severity?: string; component?: string; group?: string; class?: string; custom_details?: Record<string, unknown> };
}

export interface Incident {
  dedupKey: string;
  status: 'triggered' | 'resolved';
  triggers: number;
  openedAt: number;
  resolvedAt?: number;
}

export interface PagerDutyReceiver {
  /** http://127.0.0.1:<port>/v2/enqueue */
  readonly url: string;
  /** Accepted events (answered 202), in arrival order. */
  readonly events: readonly PagerDutyEvent[];
  /** Requests answered with an error (scripted or invalid). */
  readonly refused: number;
  incidents(): Incident[];
  /** Answers `status` to the next `times` requests. */
  failNext(status: number, times?: number): void;
  waitFor(predicate: (rx: PagerDutyReceiver) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

const severities = new Set(['critical', 'error', 'warning', 'info']);

function invalid(e: Partial<PagerDutyEvent>): string | undefined {
  if (typeof e.routing_key !== 'string' || e.routing_key.length !== 32) return 'routing_key must be a 32-character integration key';
  if (!['trigger', 'acknowledge', 'resolve'].includes(String(e.event_action))) return 'event_action is invalid';
  if (e.event_action !== 'trigger' && !e.dedup_key) return 'dedup_key is required for acknowledge and resolve';
  if (e.dedup_key !== undefined && (typeof e.dedup_key !== 'string' || e.dedup_key.length > 255)) return 'dedup_key is invalid';
  if (e.event_action === 'trigger') {
    const p = e.payload;
    if (!p || !p.summary || !p.source || !severities.has(String(p.severity))) return 'payload.summary, payload.source and payload.severity are required';
  }
  return undefined;
}

export async function startPagerDutyReceiver(): Promise<PagerDutyReceiver> {
  const events: PagerDutyEvent[] = [];
  const incidents = new Map<string, Incident>();
  const script: number[] = [];
  let refused = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/v2/enqueue') return send(404, { status: 'invalid path' });
      const scripted = script.shift();
      if (scripted !== undefined) {
        refused += 1;
        return send(scripted, { status: 'error', message: `scripted ${scripted}` });
      }
      let e: PagerDutyEvent;
      try {
        e = JSON.parse(Buffer.concat(chunks).toString('utf8')) as PagerDutyEvent;
      } catch {
        refused += 1;
        return send(400, { status: 'invalid event', message: 'Event object is invalid', errors: ['body is not JSON'] });
      }
      const why = invalid(e);
      if (why) {
        refused += 1;
        return send(400, { status: 'invalid event', message: 'Event object is invalid', errors: [why] });
      }
      const at = Date.now();
      const key = e.dedup_key ?? `generated-${events.length}`;
      events.push({ ...e, at, dedup_key: key });
      const open = incidents.get(key);
      if (e.event_action === 'trigger') {
        if (open && open.status === 'triggered') open.triggers += 1;
        else incidents.set(key, { dedupKey: key, status: 'triggered', triggers: 1, openedAt: at });
      } else if (e.event_action === 'resolve' && open && open.status === 'triggered') {
        open.status = 'resolved';
        open.resolvedAt = at;
      }
      send(202, { status: 'success', message: 'Event processed', dedup_key: key });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const rx: PagerDutyReceiver = {
    url: `http://127.0.0.1:${port}/v2/enqueue`,
    events,
    get refused() {
      return refused;
    },
    incidents: () => [...incidents.values()],
    failNext: (status, times = 1) => {
      for (let i = 0; i < times; i++) script.push(status);
    },
    waitFor: async (predicate, timeoutMs = 30_000, what = 'condition') => {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(rx)) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; events: ${JSON.stringify(events.map((e) => [e.event_action, e.dedup_key]))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return rx;
}
