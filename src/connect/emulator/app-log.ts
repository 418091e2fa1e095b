// One emulated app: its event log within the retention window, filled lazily at the app's rate
// (no timer per app: readers catch the log up to "now"), on demand (`rate: max`) or by appends.
import type { ConnectEvent } from '../event.js';
import type { CompressedBatch } from './gzip-line-writer.js';
import { createArrivalSchedule, defaultRatePerSec, type ArrivalSchedule } from './arrival-schedule.js';
import { createEventGenerator, type EventGenerator } from './event-generator.js';
import type { AppOptions } from './options.js';
import { createPrng, mixSeed, type Prng } from './prng.js';
import { RetainedLog } from './retained-log.js';

export interface LogEntry {
  event: ConnectEvent;
  offset: number;
  occurredMs: number;
  processedMs: number;
  /** The serialised line with its LF, made on first serve and shared by every stream. */
  line?: Buffer;
  /** With `cacheBatches`: the batch starting here, compressed when first served (stream-session.ts). */
  block?: CompressedBatch;
}

export interface AppLogStats {
  /** Entries produced by the generator, duplicates and unseen-expired ones included. */
  generated: number;
  /** Entries that expired before any reader caught the log up (an idle fast app). */
  expiredUnseen: number;
  appended: number;
  duplicates: number;
  /** With `cacheBatches`: batches compressed once and kept, and the times one was sent again. */
  batchesCached: number;
  batchesFromCache: number;
}

/** How far back a duplicate may reach for the event it repeats. */
const duplicateLookback = 100;

export class AppLog {
  readonly ratePerSec: number | 'max';
  private readonly log: RetainedLog<LogEntry>;
  private readonly generator: EventGenerator;
  private readonly schedule: ArrivalSchedule | undefined;
  private readonly knobs: Prng;
  private readonly waiters = new Set<() => void>();
  private produced = 0;
  private initialised = false;
  /** Events made ahead by `generate(…, hold)`: outside the log, without offsets, until `release`. */
  private held: LogEntry[] = [];
  readonly stats: AppLogStats = { generated: 0, expiredUnseen: 0, appended: 0, duplicates: 0, batchesCached: 0, batchesFromCache: 0 };

  constructor(
    readonly options: AppOptions,
    readonly seed: number,
    private readonly startMs: number,
    /** Current duplicate / out-of-order probabilities (the app's own, or a fault's). */
    private readonly realism: () => { duplicateProbability: number; outOfOrderProbability: number },
  ) {
    this.ratePerSec = options.rate ?? defaultRatePerSec[options.size];
    this.log = new RetainedLog<LogEntry>(options.retainEvents, options.firstOffset);
    this.generator = createEventGenerator({
      seed,
      size: options.size,
      eventTypes: options.eventTypes,
      compliance: options.masterSecret !== undefined,
      eventBytes: options.eventBytes,
    });
    this.schedule =
      this.ratePerSec === 'max' ? undefined : createArrivalSchedule({ seed, size: options.size, ratePerSec: this.ratePerSec, startMs });
    this.knobs = createPrng(mixSeed(seed, 0xd0b));
  }

  get oldestOffset(): number {
    this.initialise();
    return this.log.oldestOffset;
  }

  /** The offset the next entry will receive. */
  get nextOffset(): number {
    this.initialise();
    return this.log.nextOffset;
  }

  /** The newest offset, or undefined while the app has never had an event. */
  get lastOffset(): number | undefined {
    const next = this.nextOffset;
    return next > this.options.firstOffset ? next - 1 : undefined;
  }

  get retainedCount(): number {
    this.initialise();
    return this.log.length;
  }

  /** True once `totalEvents` entries were produced: the generator is done. */
  get finished(): boolean {
    return this.options.totalEvents !== undefined && this.produced >= this.options.totalEvents;
  }

  entry(offset: number): LogEntry | undefined {
    this.initialise();
    return this.log.get(offset);
  }

  /** Every retained event, oldest first. */
  events(): ConnectEvent[] {
    this.initialise();
    return [...this.log.values()].map((e) => e.event);
  }

  /** Produces the events whose time has come; cheap when nothing is due. */
  catchUp(nowMs: number): void {
    this.initialise();
    const schedule = this.schedule;
    if (!schedule || this.finished || schedule.peek() > nowMs) return;
    const rate = this.ratePerSec as number;
    // Events due since the last read, but never more than the app will ever produce.
    const due = Math.min(((nowMs - schedule.peek()) * rate) / 1_000, this.remaining());
    if (due > this.options.retainEvents * 2) {
      // Nobody read this app for a long time: the events that would already have fallen out of
      // retention (all but the newest retainEvents) are never materialised.
      const skip = Math.floor(due - this.options.retainEvents);
      this.log.skip(skip);
      this.produced += skip;
      this.stats.generated += skip;
      this.stats.expiredUnseen += skip;
      schedule.jumpTo(schedule.peek() + (skip * 1_000) / rate);
    }
    let made = 0;
    while (!this.finished && schedule.peek() <= nowMs) {
      this.produce(schedule.take());
      made += 1;
    }
    if (made > 0) this.notify();
  }

  /** For `rate: max` apps: produces up to `count` events now, as fast as a reader asks. */
  produceOnDemand(count: number, nowMs: number): number {
    this.initialise();
    if (this.ratePerSec !== 'max') return 0;
    const n = Math.min(count, this.remaining());
    for (let i = 0; i < n; i++) this.produce(nowMs);
    if (n > 0) this.notify();
    return n;
  }

  /**
   * Generates `count` events now, whatever the app's rate (a burst on demand: the admin API's
   * `generate`, for a benchmark that wants a quiet app to turn busy at a chosen moment). Like
   * appends, they do not count against `totalEvents`. Returns the offsets made, or undefined
   * when count is 0.
   */
  generate(count: number, nowMs: number): { firstOffset: number; lastOffset: number } | undefined {
    this.initialise();
    if (count <= 0) return undefined;
    const firstOffset = this.log.nextOffset;
    for (let i = 0; i < count; i++) this.produce(nowMs, false);
    this.notify();
    return { firstOffset, lastOffset: this.log.nextOffset - 1 };
  }

  /**
   * Makes `count` events now but keeps them out of the log until `release`: a benchmark pays
   * the generator's cost (~30 µs an event) before it starts timing a burst, not inside it.
   * Returns how many events are held in all.
   */
  hold(count: number, nowMs: number): number {
    this.initialise();
    for (let i = 0; i < count; i++) this.held.push(this.make(nowMs, -1));
    return this.held.length;
  }

  get heldCount(): number {
    return this.held.length;
  }

  /**
   * Appends the held events at once: each gets the next offset and `processed` = now (when
   * Connect would have processed it), and waiters wake. Returns the offsets, or undefined when
   * nothing was held.
   */
  release(nowMs: number): { firstOffset: number; lastOffset: number } | undefined {
    return this.publish(this.stage(nowMs));
  }

  /**
   * Takes the held events out of the hold for a release at `atMs`, stamped as `publish` will
   * append them: the next offsets and `processed` = atMs. Between the two, a caller may make their
   * lines and compressed batches ahead (stream-session.ts `compressAhead`), so that serving them
   * later costs neither.
   */
  stage(atMs: number): LogEntry[] {
    const staged = this.held;
    this.held = [];
    this.stamp(staged, this.log.nextOffset, Math.floor(atMs));
    return staged;
  }

  /**
   * Appends staged entries and wakes waiters. When other events took their offsets since `stage`,
   * they move to the next ones, and whatever was made from the old ones (lines, batches) is dropped.
   */
  publish(entries: readonly LogEntry[]): { firstOffset: number; lastOffset: number } | undefined {
    if (entries.length === 0) return undefined;
    const firstOffset = this.log.nextOffset;
    if (entries[0]!.offset !== firstOffset) this.stamp(entries, firstOffset, entries[0]!.processedMs);
    for (const entry of entries) this.log.push(entry);
    this.notify();
    return { firstOffset, lastOffset: this.log.nextOffset - 1 };
  }

  /** Gives `entries` consecutive offsets from `firstOffset` and `processed` = processedMs. */
  private stamp(entries: readonly LogEntry[], firstOffset: number, processedMs: number): void {
    const processed = new Date(processedMs).toISOString();
    entries.forEach((entry, i) => {
      const offset = firstOffset + i;
      entry.offset = offset;
      entry.processedMs = processedMs;
      entry.event = { ...entry.event, offset: String(offset), processed };
      delete entry.line;
      delete entry.block;
    });
  }

  /** When the next scheduled event is due; undefined for on-demand or finished apps. */
  nextArrivalMs(): number | undefined {
    return this.schedule && !this.finished ? this.schedule.peek() : undefined;
  }

  /**
   * Appends events given by the caller (tests, the admin API). Missing envelope fields are
   * filled in; the offset is always assigned here so it stays strictly increasing.
   */
  append(partials: readonly Partial<ConnectEvent>[], nowMs: number): ConnectEvent[] {
    this.initialise();
    const out = partials.map((p) => {
      const processedMs = p.processed ? Date.parse(p.processed) : nowMs;
      const occurredMs = p.occurred ? Date.parse(p.occurred) : processedMs;
      const event: ConnectEvent = {
        ...p,
        id: p.id ?? this.knobs.uuid(),
        type: p.type ?? 'CUSTOM',
        offset: String(this.log.nextOffset),
        occurred: new Date(occurredMs).toISOString(),
        processed: new Date(processedMs).toISOString(),
      };
      this.log.push({ event, offset: this.log.nextOffset, occurredMs, processedMs });
      this.stats.appended += 1;
      return event;
    });
    if (out.length > 0) this.notify();
    return out;
  }

  /** Calls `wake` after new entries arrive; returns the unsubscribe function. */
  onAppend(wake: () => void): () => void {
    this.waiters.add(wake);
    return () => this.waiters.delete(wake);
  }

  private remaining(): number {
    return this.options.totalEvents === undefined ? Number.POSITIVE_INFINITY : this.options.totalEvents - this.produced;
  }

  private initialise(): void {
    if (this.initialised) return;
    this.initialised = true;
    const n = Math.min(this.options.initialEvents, this.remaining());
    const spacingMs = this.ratePerSec === 'max' ? 1 : 1_000 / this.ratePerSec;
    for (let i = 0; i < n; i++) this.produce(Math.round(this.startMs - (n - i) * spacingMs));
  }

  /** Makes the next entry and appends it; `counted` entries count against `totalEvents`. */
  private produce(atMs: number, counted = true): void {
    this.log.push(this.make(atMs, this.log.nextOffset));
    if (counted) this.produced += 1;
  }

  /** Makes an entry at `offset` (a fresh event, or a duplicate of a recent one); not appended. */
  private make(atMs: number, offset: number): LogEntry {
    const processedMs = Math.floor(atMs);
    const { duplicateProbability, outOfOrderProbability } = this.realism();
    const original = this.knobs.chance(duplicateProbability) ? this.recentEntry() : undefined;
    this.stats.generated += 1;
    if (original) {
      // Connect duplicates share id, type, occurred, device and body; offset and processed are new.
      const processedIso = new Date(Math.max(processedMs, original.processedMs)).toISOString();
      this.stats.duplicates += 1;
      return {
        event: { ...original.event, offset: String(offset), processed: processedIso },
        offset,
        occurredMs: original.occurredMs,
        processedMs: Date.parse(processedIso),
      };
    }
    const event = this.generator.next({ offset: String(offset), processedMs, outOfOrder: this.knobs.chance(outOfOrderProbability) });
    return { event, offset, occurredMs: Date.parse(event.occurred), processedMs };
  }

  private recentEntry(): LogEntry | undefined {
    const available = Math.min(this.log.length, duplicateLookback);
    if (available === 0) return undefined;
    return this.log.get(this.log.nextOffset - 1 - this.knobs.int(0, available - 1));
  }

  private notify(): void {
    for (const wake of [...this.waiters]) wake();
  }
}
