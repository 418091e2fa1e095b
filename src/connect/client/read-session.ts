// Reads one 200 response: gunzip (on the event loop) → bounded splitter → parser, pulled by the
// consumer so a slow caller stops the socket reads. Ends cleanly on EOF; throws a transient error
// for anything else.
import { Readable } from 'node:stream';
import { ErrorCode, TributaryError } from '../../errors.js';
import type { ConnectClientCounters } from './counters.js';
import { gunzipChunks } from './inflate.js';
import { parseLine } from './line-parser.js';
import { LineSplitter } from './line-splitter.js';
import type { TransportResponse } from './http-transport.js';
import type { EventItem, OffsetUpdateItem, PoisonItem } from './stream-item.js';
import { corruptStream, streamError } from './stream-errors.js';

export type SessionItem = EventItem | OffsetUpdateItem | PoisonItem;

export interface SessionOptions {
  maxLineBytes: number;
  poisonHeadBytes: number;
  poisonRawBytes: number;
  maxConsecutiveBadLines: number;
  idleTimeoutMs: number;
  chunkBytes: number;
}

export interface SessionContext {
  counters: ConnectClientCounters;
  /** The last good event offset seen (any connection): the poison records' offset context. */
  lastSeenOffset: string | undefined;
}

/**
 * Yields the items of each decompressed chunk as one array (fewer async hops per event); the
 * next chunk is read only when the caller asks for it, which is the backpressure path.
 */
export async function* readSession(
  res: Extract<TransportResponse, { kind: 'stream' }>,
  options: SessionOptions,
  ctx: SessionContext,
  signal: AbortSignal,
): AsyncGenerator<SessionItem[], void, undefined> {
  const { counters } = ctx;
  const source: Readable = res.body instanceof Readable ? res.body : Readable.from(res.body, { objectMode: false });
  const chunks: AsyncIterator<Buffer> = res.gzip
    ? gunzipChunks(source, (chunk) => (counters.bytesReceived += chunk.length), options.chunkBytes)
    : (source[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  const splitter = new LineSplitter({ maxLineBytes: options.maxLineBytes, headBytes: options.poisonHeadBytes });
  // Time spent *waiting for the network* since the last complete line. Time the caller spends
  // holding an item is not idleness: under backpressure we are simply not reading.
  let idleMs = 0;
  let badInRow = 0;
  // Leaving must not depend on the transport noticing: an abort or the idle timer rejects the
  // read in progress at once, and tears the body down. (One settle function per read, not a
  // race against one long-lived promise, which would keep every chunk it ever raced alive.)
  let stoppedBy: Error | undefined;
  let interrupt: ((err: Error) => void) | undefined;
  const end = (err: Error) => {
    stoppedBy ??= err;
    interrupt?.(err);
    // Without the error: the reader hears it through `interrupt`, and an 'error' event on a
    // body nobody is iterating right now would be an uncaught exception.
    source.destroy();
  };
  const onAbort = () => end(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal.aborted) onAbort();
    for (;;) {
      const waitStart = performance.now();
      const timer = setTimeout(() => {
        end(new TributaryError(ErrorCode.connectIdleTimeout, `no complete line or keep-alive from Connect for ${options.idleTimeoutMs} ms`));
      }, Math.max(1, options.idleTimeoutMs - idleMs));
      let next: IteratorResult<Buffer>;
      try {
        next = await new Promise<IteratorResult<Buffer>>((resolve, reject) => {
          if (stoppedBy) return reject(stoppedBy);
          interrupt = reject;
          chunks.next().then(resolve, reject);
        });
      } catch (err) {
        throw streamError(err);
      } finally {
        interrupt = undefined;
        clearTimeout(timer);
      }
      idleMs += performance.now() - waitStart;
      if (next.done) return;
      // The lines handed out are slices of this chunk, never copied one by one. A chunk that
      // fills at least a quarter of the buffer behind it (busy streams) is used in place: a copy
      // would only add allocation and GC work. A small one (trickles, keep-alives) is copied, so
      // an event held later never pins gunzip's mostly empty 64 KiB output buffer.
      const value = next.value;
      const chunk = value.length * 4 >= value.buffer.byteLength ? value : Buffer.from(value);
      counters.bytesDecompressed += chunk.length;
      if (!res.gzip) counters.bytesReceived += chunk.length;
      const framed = splitter.push(chunk);
      if (framed.length === 0) continue;
      idleMs = 0;
      const out: SessionItem[] = [];
      for (const f of framed) {
        counters.lines++;
        const parsed = parseLine(f, ctx.lastSeenOffset, options.poisonRawBytes);
        switch (parsed.kind) {
          case 'keepAlive':
            counters.keepAlives++;
            break;
          case 'offsetUpdate':
            counters.offsetUpdates++;
            badInRow = 0;
            out.push(parsed);
            break;
          case 'event':
            badInRow = 0;
            ctx.lastSeenOffset = parsed.offset;
            out.push(parsed);
            break;
          case 'poison':
            counters.poison++;
            if (parsed.code === ErrorCode.poisonOversizedLine) counters.oversizedLines++;
            out.push(parsed);
            // Corrupt bytes can decode to garbage lines before zlib notices (S2): after K in a
            // row, stop trusting this connection and resume from the last confirmed offset.
            if (++badInRow >= options.maxConsecutiveBadLines) {
              yield out;
              throw corruptStream('bad_lines', `${badInRow} consecutive bad lines from Connect`);
            }
            break;
        }
      }
      if (out.length > 0) yield out;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    // A partial line at the end (EOF, error, or the caller leaving) is never parsed (S1).
    if (splitter.end() > 0) counters.partialTailsDiscarded++;
    source.destroy();
    // Closes the inflater (the generator's own finally). When a read is still in flight the
    // return waits for it, and that read fails with the teardown error: nothing to report.
    chunks.return?.(undefined).catch(() => undefined);
  }
}
