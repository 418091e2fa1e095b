// The file Sink: appends each batch as NDJSON to the integration's current file and fsyncs it
// before write() resolves, so a caller that commits after write() never commits unwritten data.
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, TributaryError } from '../../errors.js';
import { abortError, fullJitter, systemClock, type Clock } from '../http/backoff.js';
import type { EventRecord, RecordOutcome, Sink, SinkContext, WriteResult } from '../types.js';
import type { FileConfig } from './config.js';
import { checkWritableDir } from './healthcheck.js';
import { storageError } from './storage-errors.js';
import { encodeBatch, fileName, isSafeSegment, rotationDue } from './request-builder.js';
import { retryLogLevel } from '../../observability/logger.js';

/** Seams for tests. */
export interface FileSinkOptions {
  clock?: Clock;
  random?: () => number;
}

interface Current {
  handle: FileHandle;
  path: string;
  size: number;
  openedAt: number;
}

export async function createFileSink(config: FileConfig, ctx: SinkContext, options: FileSinkOptions = {}): Promise<Sink> {
  if (!isSafeSegment(ctx.integrationId)) {
    throw new TributaryError(ErrorCode.sinkMisconfigured, `integration id "${ctx.integrationId.slice(0, 60)}" cannot be a directory name`);
  }
  const dir = join(ctx.dataDir, ctx.integrationId);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const log = ctx.logger.child({ sink: 'file', integrationId: ctx.integrationId });
  let current: Current | undefined;
  let closed = false;
  // One write at a time: appends must not interleave, and rotation must see a settled size.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };

  const closeCurrent = async (): Promise<void> => {
    const c = current;
    current = undefined;
    if (c) await c.handle.close().catch(() => undefined);
  };

  const syncDir = async (): Promise<void> => {
    // A new file's directory entry is durable only once the directory itself is fsynced.
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  };

  const rotate = async (first: EventRecord): Promise<Current> => {
    await closeCurrent();
    await mkdir(dir, { recursive: true });
    const now = clock.now();
    for (let attempt = 0; ; attempt++) {
      const path = join(dir, fileName(first, now, attempt));
      try {
        const handle = await open(path, 'wx');
        await syncDir();
        current = { handle, path, size: 0, openedAt: now };
        log.debug({ event: 'sink.file_opened', file: path }, 'file sink opened a new file');
        return current;
      } catch (err) {
        // Same millisecond and offset (a re-delivery right after a restart): take the next suffix.
        if ((err as { code?: unknown }).code === 'EEXIST' && attempt < 100) continue;
        throw err;
      }
    }
  };

  const append = async (data: Buffer, first: EventRecord): Promise<void> => {
    const file = rotationDue(current, data.length, clock.now(), config) ? await rotate(first) : current!;
    const before = file.size;
    try {
      for (let off = 0; off < data.length; ) {
        const { bytesWritten } = await file.handle.write(data, off, data.length - off, before + off);
        off += bytesWritten;
      }
      await file.handle.sync();
      file.size = before + data.length;
    } catch (err) {
      // Leave no half batch behind: cut the file back, and start a fresh one next time.
      await file.handle.truncate(before).catch(() => undefined);
      await closeCurrent();
      throw err;
    }
  };

  async function write(batch: readonly EventRecord[], signal: AbortSignal): Promise<WriteResult> {
    if (signal.aborted) throw abortError(signal);
    if (closed) throw new TributaryError(ErrorCode.bug, 'file sink used after close');
    if (batch.length === 0) return { outcomes: [], requests: 0, retries: 0, bytesSent: 0 };
    return serial(async () => {
      const data = encodeBatch(batch);
      const deadline = clock.now() + config.retry.maxRetryAgeMs;
      for (let retry = 0; ; retry++) {
        if (signal.aborted) throw abortError(signal);
        try {
          await append(data, batch[0]!);
          return { outcomes: batch.map((): RecordOutcome => ({ status: 'delivered' })), requests: retry + 1, retries: retry, bytesSent: data.length };
        } catch (raw) {
          const err = storageError(raw, `writing to ${dir}`);
          if (!(err instanceof TributaryError) || err.kind !== 'retryable') throw err;
          const delayMs = fullJitter(retry, config.retry, random);
          if (clock.now() + delayMs > deadline) {
            const error = new TributaryError(ErrorCode.sinkRetriesExhausted, `gave up after ${retry + 1} attempts: ${err.message}`, { cause: err });
            return {
              outcomes: batch.map((): RecordOutcome => ({ status: 'rejected', error, attempts: retry + 1 })),
              requests: retry + 1,
              retries: retry,
              bytesSent: 0,
            };
          }
          log[retryLogLevel(retry + 1)]({ event: 'sink.retry', stage: 'send', code: err.code, attempt: retry + 1, delayMs }, 'file sink write failed; retrying');
          await clock.sleep(delayMs, signal);
        }
      }
    });
  }

  return {
    limits: { maxBatchEvents: config.maxBatchEvents, maxBatchBytes: config.maxBatchBytes },
    write,
    healthcheck: (signal) => checkWritableDir(dir, signal),
    close: () =>
      serial(async () => {
        closed = true;
        await closeCurrent();
      }),
  };
}
