// Coalesces one integration's state writes: counters add up and the checkpoint keeps only its
// newest value, flushed at most once per interval (the SDK costs ~1 ms CPU a call; never one
// call per event). The timer runs only while something waits to be written: a thousand quiet
// integrations cost no timer at all. A fenced checkpoint means another node owns the integration now.
//
// A change after a quiet spell waits longer (`quietDelayMs`) than one while busy: a trickled
// event is read, produced and delivered within about a second (a parked sink's watcher polls
// once a second), and with the short interval the source's progress and the sink's went in two
// writes. Waiting for the whole path makes it one (BENCHMARKS.md: scenario 3's idle node).
import { ErrorCode, TributaryError } from '../errors.js';
import type { ChunkIntent, Counters, StateStore } from './state-store.js';

export interface StateWriterOptions {
  integrationId: string;
  epoch: number;
  /** At most one write per interval while changes keep coming (default 1 s). */
  flushIntervalMs?: number;
  /**
   * The first change after this long without a write waits this long before it is written
   * (default 3 intervals: 3 s), so one event's read, produce and delivery go in one write.
   */
  quietDelayMs?: number;
  /** Called once when a write is rejected because a newer owner holds the integration. */
  onFenced?: () => void;
  onError?: (err: unknown) => void;
}

export class StateWriter {
  private counters: Partial<Counters> = {};
  private checkpoint: string | undefined;
  private sourceLagMs: number | undefined;
  private consumerLag: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private fenced = false;
  private closed = false;
  private readonly intervalMs: number;
  private readonly quietDelayMs: number;
  /** When the last flush was asked for (`performance.now()`): a change long after it starts a quiet wait. */
  private lastFlushAt = Number.NEGATIVE_INFINITY;
  /** The checkpoint last confirmed written, for status and tests. */
  lastWritten: string | undefined;

  constructor(
    private readonly store: StateStore,
    private readonly o: StateWriterOptions,
  ) {
    this.intervalMs = o.flushIntervalMs ?? 1_000;
    this.quietDelayMs = Math.max(this.intervalMs, o.quietDelayMs ?? 3 * this.intervalMs);
  }

  count(k: keyof Counters, n = 1): void {
    this.counters[k] = (this.counters[k] ?? 0) + n;
    this.schedule();
  }

  setCheckpoint(offset: string): void {
    this.checkpoint = offset;
    this.schedule();
  }

  setLag(lag: { sourceLagMs?: number; consumerLag?: number }): void {
    if (lag.sourceLagMs !== undefined) this.sourceLagMs = lag.sourceLagMs;
    if (lag.consumerLag !== undefined) this.consumerLag = lag.consumerLag;
    this.schedule();
  }

  /** Something waits to be written (and can be). */
  private get pending(): boolean {
    if (this.fenced) return false;
    return this.checkpoint !== undefined || this.sourceLagMs !== undefined || this.consumerLag !== undefined || Object.values(this.counters).some((v) => v);
  }

  /**
   * A flush one interval from now (after a quiet spell, `quietDelayMs` from now), unless one is
   * already due; a failed flush is tried again the same way.
   */
  private schedule(): void {
    if (this.timer || this.closed || this.fenced) return;
    const quiet = performance.now() - this.lastFlushAt >= this.quietDelayMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush()
        .catch((err) => this.o.onError?.(err))
        .finally(() => {
          if (this.pending) this.schedule();
        });
    }, quiet ? this.quietDelayMs : this.intervalMs);
    this.timer.unref();
  }

  /** A flush is due: something waits to be written (for tests and status). */
  get flushScheduled(): boolean {
    return this.timer !== undefined;
  }

  get isFenced(): boolean {
    return this.fenced;
  }

  /** Writes what is pending; serialised so two flushes never race on the same row. */
  flush(): Promise<void> {
    this.lastFlushAt = performance.now();
    this.flushing = this.flushing.catch(() => undefined).then(() => this.flushOnce());
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    if (this.fenced) return;
    const checkpoint = this.checkpoint;
    this.checkpoint = undefined;
    const progress = this.takeProgress();
    try {
      if (checkpoint !== undefined) {
        // The counters and lags ride with the checkpoint: one write per flush.
        const result = await this.store.advanceCheckpoint(this.o.integrationId, this.o.epoch, checkpoint, progress ?? {});
        if (result === 'fenced') return this.fence();
        this.lastWritten = checkpoint;
        // `unchanged` (not ahead of the row's) wrote nothing: the progress goes on its own below.
        if (result === 'advanced') return;
      }
      if (!progress) return;
      const res = await this.store.update(this.o.integrationId, { epoch: this.o.epoch, ...progress });
      if (res === 'fenced') this.fence();
    } catch (err) {
      // Keep what failed for the next try: the newest checkpoint and lags win, counters add up.
      if (checkpoint !== undefined) this.checkpoint ??= checkpoint;
      if (progress) {
        for (const [k, v] of Object.entries(progress.counters)) this.count(k as keyof Counters, v);
        this.sourceLagMs ??= progress.sourceLagMs;
        this.consumerLag ??= progress.consumerLag;
      }
      throw err;
    }
  }

  /** The counters and lags waiting to be written (taken), or undefined when there are none. */
  private takeProgress(): { counters: Partial<Counters>; sourceLagMs?: number; consumerLag?: number } | undefined {
    const counters = this.counters;
    const hasCounters = Object.values(counters).some((v) => v);
    if (!hasCounters && this.sourceLagMs === undefined && this.consumerLag === undefined) return undefined;
    this.counters = {};
    const progress = {
      counters,
      ...(this.sourceLagMs === undefined ? {} : { sourceLagMs: this.sourceLagMs }),
      ...(this.consumerLag === undefined ? {} : { consumerLag: this.consumerLag }),
    };
    this.sourceLagMs = undefined;
    this.consumerLag = undefined;
    return progress;
  }

  /** The chunks recorded in flight per partition when this owner took over (flag `sink.stableChunks`). */
  async chunksInFlight(): Promise<ReadonlyMap<number, ChunkIntent>> {
    const row = await this.store.get(this.o.integrationId);
    return new Map(Object.entries(row?.chunks ?? {}).map(([p, c]) => [Number(p), c]));
  }

  /**
   * Records the chunk about to be delivered, durably and fenced: false when a newer owner holds
   * the integration (then the chunk must not be delivered).
   */
  async recordChunk(partition: number, chunk: ChunkIntent): Promise<boolean> {
    if (this.fenced) return false;
    const res = await this.store.update(this.o.integrationId, { epoch: this.o.epoch, chunk: { partition, ...chunk } });
    if (res === 'fenced') this.fence();
    return res === 'updated';
  }

  private fence(): void {
    if (this.fenced) return;
    this.fenced = true;
    this.o.onFenced?.();
  }

  /** Final flush; afterwards nothing is written. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}

export function fencedError(integrationId: string): TributaryError {
  return new TributaryError(ErrorCode.stateConflict, `integration ${integrationId} is now owned by another node (fenced)`);
}
