// An in-process Connect byte source for unit tests: a retained log of events, served as
// sync-flushed gzip NDJSON after the requested offset, with scripted cuts and statuses.
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { createGzip, constants } from 'node:zlib';
import { ErrorCode, TributaryError } from '../../../../src/errors.js';
import type { ConnectTransport, TransportRequest, TransportResponse } from '../../../../src/connect/client/http-transport.js';
import type { ConnectClient, StreamItem } from '../../../../src/connect/client/index.js';

export function eventLine(offset: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: `00000000-0000-4000-8000-${String(offset).padStart(12, '0')}`,
    type: 'CUSTOM',
    offset: String(offset),
    occurred: '2024-01-01T00:00:00.000Z',
    processed: '2024-01-01T00:00:01.000Z',
    device: { channel: `c-${offset}` },
    body: { name: 'x', value: offset },
    ...extra,
  });
}

/** gzip of `text` flushed after every line, as Connect does, so a cut leaves decodable lines before it. */
export async function gzipFlushed(lines: readonly string[]): Promise<Buffer> {
  const gz = createGzip();
  const parts: Buffer[] = [];
  gz.on('data', (c: Buffer) => parts.push(c));
  for (const line of lines) {
    gz.write(`${line}\n`);
    await new Promise<void>((resolve) => gz.flush(constants.Z_SYNC_FLUSH, () => resolve()));
  }
  gz.end();
  await once(gz, 'end');
  return Buffer.concat(parts);
}

/** How one connection goes. */
export type Script =
  | { kind: 'serve'; events?: number; cutAtByte?: number; cut?: 'truncate' | 'reset'; chunkSizes?: number[]; lines?: (offset: number) => string[] | undefined; resetAfter?: Promise<unknown> }
  | { kind: 'status'; error: TributaryError }
  | { kind: 'redirect'; setCookie: string[] }
  | { kind: 'hang' };

export interface FakeRequest {
  body: Record<string, unknown>;
  cookie: string | undefined;
}

/**
 * Serves offsets firstOffset..lastOffset. Each open() takes the next script entry (the last one
 * repeats). `serve` sends up to `events` events after the resume point, optionally cut.
 */
export class FakeConnect implements ConnectTransport {
  readonly requests: FakeRequest[] = [];
  closed = false;
  constructor(
    private readonly lastOffset: number,
    private readonly scripts: Script[],
    private readonly firstOffset = 1,
  ) {}

  async open(req: TransportRequest): Promise<TransportResponse> {
    const body = JSON.parse(req.body.toString('utf8')) as Record<string, unknown>;
    this.requests.push({ body, cookie: req.cookie });
    const script = this.scripts.length > 1 ? this.scripts.shift()! : this.scripts[0]!;
    if (script.kind === 'status') throw script.error;
    if (script.kind === 'redirect') return { kind: 'redirect', setCookie: script.setCookie };
    if (script.kind === 'hang') return { kind: 'stream', gzip: true, body: hang(req.signal) };
    const from = typeof body.resume_offset === 'string' ? Number(body.resume_offset) + 1 : body.start === 'LATEST' ? this.lastOffset + 1 : this.firstOffset;
    const lines: string[] = [];
    const last = Math.min(this.lastOffset, from + (script.events ?? Infinity) - 1);
    for (let o = from; o <= last; o++) lines.push(...(script.lines?.(o) ?? [eventLine(o)]));
    let bytes = await gzipFlushed(lines);
    const cut = script.cutAtByte !== undefined && script.cutAtByte < bytes.length;
    if (cut) bytes = bytes.subarray(0, script.cutAtByte);
    // 'reset' ends the body with ECONNRESET (after the cut, or after everything when nothing is cut).
    return { kind: 'stream', gzip: true, body: chunked(bytes, script.chunkSizes ?? [4096], script.cut === 'reset', req.signal, script.resetAfter) };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

async function* chunked(bytes: Buffer, sizes: number[], reset: boolean, signal: AbortSignal, resetAfter?: Promise<unknown>): AsyncGenerator<Uint8Array> {
  let pos = 0;
  let i = 0;
  while (pos < bytes.length) {
    if (signal.aborted) return;
    const n = Math.max(1, sizes[i++ % sizes.length] ?? 1);
    yield bytes.subarray(pos, pos + n);
    pos += n;
    await Promise.resolve();
  }
  if (reset) {
    // A reset arrives after the bytes (as on a real socket), so what was sent can be decoded first.
    await (resetAfter ?? new Promise((r) => setTimeout(r, 5)));
    throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  }
}

/** A body that never sends a byte until aborted: the idle timer's case. */
async function* hang(signal: AbortSignal): AsyncGenerator<Uint8Array> {
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

export function statusError(code: ErrorCode, status: number, retryAfterMs?: number): TributaryError {
  return new TributaryError(code, `HTTP ${status}`, { status, retryAfterMs });
}

/** Reads until `stop(items)` is true (then aborts) or the stream throws; bounded by a deadline. */
export async function collect(c: ConnectClient, stop: (items: StreamItem[]) => boolean, onItem?: (i: StreamItem) => void): Promise<{ items: StreamItem[]; error?: unknown }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 10_000);
  const items: StreamItem[] = [];
  try {
    for await (const item of c.stream(ac.signal)) {
      items.push(item);
      onItem?.(item);
      if (stop(items)) ac.abort();
    }
    return { items };
  } catch (error) {
    return { items, error };
  } finally {
    clearTimeout(timer);
  }
}

export const events = (items: StreamItem[]) => items.flatMap((i) => (i.kind === 'event' ? [Number(i.offset)] : []));
export const countEvents = (n: number) => (items: StreamItem[]) => events(items).length >= n;

/**
 * Five events: the first connection sends every line but not the gzip trailer (the last 20
 * bytes, so line 5 is cut too), then lets go 20 ms later with no error and no end; later
 * connections send the whole body.
 */
export async function cutOnceTransport(): Promise<ConnectTransport> {
  const gz = await gzipFlushed(Array.from({ length: 5 }, (_, i) => eventLine(i + 1)));
  let opens = 0;
  return {
    open: async () => {
      opens++;
      const body = new Readable({ read() {} });
      if (opens === 1) {
        body.push(gz.subarray(0, gz.length - 20));
        setTimeout(() => body.destroy(), 20);
      } else {
        body.push(gz);
        body.push(null);
      }
      return { kind: 'stream', gzip: true, body };
    },
    close: async () => undefined,
  };
}
