// One 200 stream: walks the app's log from the requested position, sends matching events in
// flushed batches, keep-alives or OFFSET_UPDATEs when idle, and plays the stream fault knobs.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { AppLog, LogEntry } from './app-log.js';
import { inSubset, matchesFilters } from './event-filter.js';
import type { StreamFaults } from './faults.js';
import { compressBatch, GzipLineWriter } from './gzip-line-writer.js';
import { ndjsonMediaType } from './http-headers.js';
import type { StreamRequest } from './request-body.js';

/** A write batch is cut at whichever comes first, so one flush never holds much. */
const maxBatchLines = 512;
const maxBatchBytes = 256 * 1024;
/** Over-long lines are streamed in pieces of this size: never held whole in memory. */
const longLinePiece = 256 * 1024;
const defaultLongLineBytes = 64 * 1024 * 1024;

/** An entry's serialised line with its LF, made once and shared by every stream. */
const lineOf = (entry: LogEntry): Buffer => (entry.line ??= Buffer.from(`${JSON.stringify(entry.event)}\n`));

/** True once a batch of `lines` lines and `bytes` bytes is as large as one write may be. */
const batchFull = (lines: number, bytes: number): boolean => lines >= maxBatchLines || bytes >= maxBatchBytes;

/**
 * Makes the lines and compressed batches of consecutive, not yet published `entries` ahead of any
 * stream (an app's `cacheBatches`, a release at a set time), cut where a stream would cut them:
 * a stream that reads them sends the kept batches and serialises and compresses nothing. Yields
 * between batches (~10 ms each at ~1 KB an event). Resolves to how many batches it made.
 */
export async function compressAhead(entries: readonly LogEntry[], level: number | undefined): Promise<number> {
  let made = 0;
  for (let i = 0; i < entries.length; made++) {
    const batch: LogEntry[] = [];
    for (let bytes = 0; i < entries.length && !batchFull(batch.length, bytes); i++) {
      batch.push(entries[i]!);
      bytes += lineOf(entries[i]!).length;
    }
    batch[0]!.block = compressBatch(batch.map(lineOf), level);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return made;
}

export type StreamEndReason = 'client-closed' | 'close-after-events' | 'close-after-ms' | 'session-max' | 'truncated' | 'corrupted' | 'emulator-closing';

export interface StreamSessionOptions {
  app: AppLog;
  request: StreamRequest;
  faults: StreamFaults;
  /** Types this stream never sends (not entitled; COMPLIANCE outside the compliance stream). */
  excludes: (type: string) => boolean;
  keepAliveMs: number;
  /** The server's own session limit (realism), independent of faults. */
  sessionMaxMs?: number | undefined;
  gzipLevel?: number | undefined;
  /** Called once per event whose complete line was handed to the socket. */
  onServed: (entry: LogEntry) => void;
  /** Aborted when the emulator shuts down. */
  signal: AbortSignal;
}

export async function runStreamSession(res: ServerResponse, o: StreamSessionOptions): Promise<{ reason: StreamEndReason; bytesSent: number }> {
  // Spliceable (a full flush per write): an app's kept batches (`cacheBatches`) and the constant
  // keep-alive block can follow any write. A few bytes more per small write than a sync flush.
  const writer = new GzipLineWriter(res, { trickle: o.faults.trickle, level: o.gzipLevel, spliceable: true });
  const reason = await stream(res, writer, o);
  return { reason, bytesSent: writer.bytesSent };
}

async function stream(res: ServerResponse, writer: GzipLineWriter, o: StreamSessionOptions): Promise<StreamEndReason> {
  const { app, request, faults } = o;
  res.writeHead(200, {
    'Content-Type': ndjsonMediaType,
    'Content-Encoding': 'gzip',
    'Cache-Control': 'no-store',
  });
  res.flushHeaders();

  const startedMs = Date.now();
  const limits = [faults.closeAfterMs, o.sessionMaxMs].filter((v): v is number => v !== undefined);
  const deadlineMs = limits.length > 0 ? startedMs + Math.min(...limits) : Number.POSITIVE_INFINITY;
  const deadlineReason: StreamEndReason =
    faults.closeAfterMs !== undefined && faults.closeAfterMs <= (o.sessionMaxMs ?? Number.POSITIVE_INFINITY) ? 'close-after-ms' : 'session-max';

  app.catchUp(startedMs);
  let position = startPosition(app, request);
  /** OFFSET_UPDATE reports the last offset considered, sent or filtered out. */
  let lastConsidered = position - 1;
  let sent = 0;
  let lastWriteMs = startedMs;
  const fired = new Set<string>();
  const points = faultPoints(faults);

  const sends = (entry: LogEntry) => !o.excludes(entry.event.type) && matchesFilters(entry, request.filters);
  const nextEntry = (): LogEntry | undefined => {
    while (position < app.nextOffset) {
      if (position < app.oldestOffset) position = app.oldestOffset; // fell out of retention: lost, as in Connect
      const entry = app.entry(position);
      position += 1;
      if (!entry) continue;
      lastConsidered = entry.offset;
      if (!sends(entry)) continue;
      if (!inSubset(entry.event.id, request.subset, Math.random)) continue;
      return entry;
    }
    return undefined;
  };
  // Cached batches (app option `cacheBatches`): not for subset streams, whose sample is random.
  const caching = app.options.cacheBatches && !request.subset;
  /** The cached batch at `position`, when this stream would send exactly its events next (then taken). */
  const takeCached = (limit: number): LogEntry[] | undefined => {
    if (!caching || position < app.oldestOffset) return undefined;
    const n = app.entry(position)?.block?.lines.length;
    if (n === undefined || n > limit || position + n > app.nextOffset) return undefined;
    const entries: LogEntry[] = [];
    for (let i = 0; i < n; i++) {
      const entry = app.entry(position + i);
      if (!entry || !sends(entry)) return undefined;
      entries.push(entry);
    }
    position += n;
    lastConsidered = entries[n - 1]!.offset;
    return entries;
  };
  /** Sends a batch: compressed for this stream, or once for every stream when it can be cached. */
  const sendBatch = async (batch: LogEntry[], bytes: number, cached: boolean): Promise<void> => {
    const first = batch[0]!;
    if (cached && first.block) {
      app.stats.batchesFromCache += 1;
      return writer.sendCompressed(first.block);
    }
    // Consecutive offsets: no entry skipped, so any stream reading from here sends the same lines.
    if (caching && !first.block && batch[batch.length - 1]!.offset - first.offset === batch.length - 1) {
      first.block = compressBatch(batch.map(lineOf), o.gzipLevel);
      app.stats.batchesCached += 1;
      return writer.sendCompressed(first.block);
    }
    return writer.write(Buffer.concat(batch.map(lineOf), bytes));
  };

  while (!writer.closed) {
    if (o.signal.aborted) {
      await writer.end();
      return 'emulator-closing';
    }
    const now = Date.now();
    if (now >= deadlineMs) {
      await writer.end();
      return deadlineReason;
    }

    const due = points.find((p) => p.at === sent && !fired.has(p.kind));
    if (due) {
      fired.add(due.kind);
      switch (due.kind) {
        case 'close':
          await writer.end();
          return 'close-after-events';
        case 'truncate': {
          // Half of the next line's compressed bytes: the client's gunzip fails after the complete lines.
          const next = await nextAvailable();
          const bytes = await writer.compress(next ? lineOf(next) : '\n');
          await writer.sendRaw(bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2))));
          writer.abandon(faults.truncateMode ?? 'end');
          return 'truncated';
        }
        case 'corrupt': {
          const next = await nextAvailable();
          const start = writer.deflateStart();
          const bytes = Buffer.from(await writer.compress(next ? lineOf(next) : '\n'));
          // After a sync flush the next deflate block starts on a byte boundary: setting both
          // BTYPE bits makes it the reserved block type, which every inflater rejects.
          bytes[start] = bytes[start]! | 0x06;
          for (let i = start + 1; i < bytes.length; i += 7) bytes[i] = bytes[i]! ^ 0xa5;
          await writer.sendRaw(bytes);
          writer.abandon('end');
          return 'corrupted';
        }
        case 'malformed':
          await writer.write(`${faults.malformedLine ?? '{"id":'}\n`);
          lastWriteMs = Date.now();
          continue;
        case 'long-line':
          await writeLongLine(writer, faults.longLineBytes ?? defaultLongLineBytes);
          lastWriteMs = Date.now();
          continue;
      }
    }

    app.catchUp(now);
    if (position >= app.nextOffset && app.ratePerSec === 'max') app.produceOnDemand(maxBatchLines, now);

    const nextPoint = points.filter((p) => !fired.has(p.kind) && p.at > sent).reduce((m, p) => Math.min(m, p.at), Number.POSITIVE_INFINITY);
    const cached = takeCached(nextPoint - sent);
    const batch: LogEntry[] = cached ?? [];
    let bytes = 0;
    while (!cached && !batchFull(batch.length, bytes) && sent + batch.length < nextPoint) {
      // Cut where a cached batch starts, so a stream that began mid-batch falls in step with the cache.
      if (caching && batch.length > 0 && app.entry(position)?.block) break;
      const entry = nextEntry();
      if (!entry) break;
      batch.push(entry);
      bytes += lineOf(entry).length;
    }

    if (batch.length > 0) {
      await sendBatch(batch, bytes, cached !== undefined);
      for (const entry of batch) o.onServed(entry);
      sent += batch.length;
      lastWriteMs = Date.now();
      continue;
    }

    const idleFor = Date.now() - lastWriteMs;
    if (idleFor >= o.keepAliveMs) {
      if (request.offsetUpdates) await writer.write(`${offsetUpdateLine(lastConsidered)}\n`);
      else await writer.keepAlive();
      lastWriteMs = Date.now();
      continue;
    }
    if (app.ratePerSec === 'max' && !app.finished) {
      // Everything produced was filtered out: produce more, but let other streams run first.
      await new Promise((r) => setImmediate(r));
      continue;
    }
    const arrival = app.nextArrivalMs();
    const wakeAt = Math.min(lastWriteMs + o.keepAliveMs, deadlineMs, arrival ?? Number.POSITIVE_INFINITY);
    await waitForWork(app, res, o.signal, Math.max(0, wakeAt - Date.now()));
  }
  return 'client-closed';

  /** The next event to send, waiting (bounded) when none is there yet. */
  async function nextAvailable(): Promise<LogEntry | undefined> {
    const giveUpMs = Date.now() + o.keepAliveMs;
    for (;;) {
      app.catchUp(Date.now());
      if (position >= app.nextOffset && app.ratePerSec === 'max') app.produceOnDemand(maxBatchLines, Date.now());
      const entry = nextEntry();
      if (entry || Date.now() >= giveUpMs || writer.closed) return entry;
      await waitForWork(app, res, o.signal, Math.max(0, Math.min(giveUpMs, app.nextArrivalMs() ?? giveUpMs) - Date.now()));
    }
  }
}

function startPosition(app: AppLog, request: StreamRequest): number {
  // resume_offset is exclusive; one that fell out of retention clamps to EARLIEST.
  if (request.resumeOffset !== undefined) return Math.max(request.resumeOffset + 1, app.oldestOffset);
  return request.start === 'EARLIEST' ? app.oldestOffset : app.nextOffset;
}

type FaultPoint = { kind: 'close' | 'truncate' | 'corrupt' | 'malformed' | 'long-line'; at: number };

function faultPoints(f: StreamFaults): FaultPoint[] {
  const points: FaultPoint[] = [];
  // Order matters when two knobs share a count: lines that keep the stream going come first.
  if (f.malformedLineAfterEvents !== undefined) points.push({ kind: 'malformed', at: f.malformedLineAfterEvents });
  if (f.longLineAfterEvents !== undefined) points.push({ kind: 'long-line', at: f.longLineAfterEvents });
  if (f.closeAfterEvents !== undefined) points.push({ kind: 'close', at: f.closeAfterEvents });
  if (f.truncateAfterEvents !== undefined) points.push({ kind: 'truncate', at: f.truncateAfterEvents });
  if (f.corruptAfterEvents !== undefined) points.push({ kind: 'corrupt', at: f.corruptAfterEvents });
  return points;
}

function offsetUpdateLine(lastConsidered: number): string {
  const now = new Date().toISOString();
  return JSON.stringify({ id: randomUUID(), type: 'OFFSET_UPDATE', offset: String(Math.max(lastConsidered, 0)), occurred: now, processed: now });
}

async function writeLongLine(writer: GzipLineWriter, total: number): Promise<void> {
  const prefix = '{"id":"00000000-0000-4000-8000-000000000000","type":"CUSTOM","padding":"';
  let left = total;
  let first = true;
  while (left > 0 && !writer.closed) {
    const size = Math.min(left, longLinePiece);
    const head = first ? prefix.slice(0, size) : '';
    await writer.write(head + 'x'.repeat(size - head.length));
    left -= size;
    first = false;
  }
  await writer.write('\n');
}

/** Resolves after `ms`, when the app gets new entries, when the client leaves, or on shutdown. */
function waitForWork(app: AppLog, res: ServerResponse, signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      res.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.min(ms, 2 ** 31 - 1));
    const unsubscribe = app.onAppend(done);
    res.once('close', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
