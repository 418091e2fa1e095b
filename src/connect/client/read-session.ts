// Reads one 200 response: gunzip → bounded splitter → parser, pulled by the consumer so a slow
// caller stops the socket reads. Ends cleanly on EOF; throws a transient error for anything else.
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ErrorCode, TributaryError } from '../../errors.js';
import type { ConnectClientCounters } from './counters.js';
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
  let decoded: Readable = source;
  if (res.gzip) {
    const gunzip = createGunzip({ chunkSize: options.chunkBytes });
    // pipeline forwards a socket error into gunzip (so the iterator below sees it) and
    // destroys the socket when gunzip fails or is destroyed by us.
    pipeline(source, gunzip, () => undefined);
    decoded = gunzip;
    // An extra 'data' listener on a piped stream observes without changing its flow control.
    source.on('data', (chunk: Uint8Array) => {
      counters.bytesReceived += chunk.length;
    });
  }
  const splitter = new LineSplitter({ maxLineBytes: options.maxLineBytes, headBytes: options.poisonHeadBytes });
  const chunks = decoded[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  // Time spent *waiting for the network* since the last complete line. Time the caller spends
  // holding an item is not idleness: under backpressure we are simply not reading.
  let idleMs = 0;
  let badInRow = 0;
  // Leaving must not depend on the transport noticing the abort: tear the pipeline down here.
  const onAbort = () => decoded.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal.aborted) onAbort();
    for (;;) {
      const waitStart = performance.now();
      const timer = setTimeout(() => {
        decoded.destroy(
          new TributaryError(ErrorCode.connectIdleTimeout, `no complete line or keep-alive from Connect for ${options.idleTimeoutMs} ms`),
        );
      }, Math.max(1, options.idleTimeoutMs - idleMs));
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (err) {
        throw streamError(err);
      } finally {
        clearTimeout(timer);
      }
      idleMs += performance.now() - waitStart;
      if (next.done) return;
      const chunk = next.value;
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
    decoded.destroy();
    source.destroy();
  }
}
