// The sink side of one integration: a consumer in group `tributary.sink.<id>` reads the events
// topic, drops duplicates by event id, delivers in sink-sized chunks, DLQs what the sink rejects
// (awaited), and commits only past records that are delivered or dead-lettered (I2).
// With parking on (flag `sink.parkWhenIdle`), a sink that has delivered everything and stayed
// idle for `parking.idleMs` leaves its group and waits on the node's offset watcher instead; it
// rejoins as soon as its topic grows (docs/pipeline.md, "Parked sinks").
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { OffsetWatcher } from '../kafka/offset-watcher.js';
import { RawKafka } from '../kafka/raw-kafka.js';
import { readTail, retryLookup } from '../kafka/tail-reader.js';
import type { RecordProducer } from '../kafka/produce-queue.js';
import { errorMessage, ErrorCode, TributaryError } from '../errors.js';
import { groups, headers, topics } from '../kafka/topics.js';
import type { Logger } from '../observability/logger.js';
import { crashpoint } from '../observability/crashpoints.js';
import type { ChunkIntent } from '../state/state-store.js';
import type { StateWriter } from '../state/state-writer.js';
import type { EventRecord, RecordOutcome, Sink, WriteResult } from '../sinks/types.js';
import { CommitChain } from './commit-chain.js';
import { ContiguousTracker } from './contiguous-tracker.js';
import type { DedupWindow } from './dedup-window.js';
import { dlqFromRejected } from './dlq.js';
import { eventCount, eventsOf } from './event-record.js';

export interface SinkRunnerOptions {
  integrationId: string;
  kafka: Kafka;
  admin: Admin;
  /** Plain requests on the node's shared connections (the start's lookups); absent: the runner's own, closed on stop. */
  raw?: RawKafka;
  /** The node's produce queue, for DLQ writes. */
  producer: RecordProducer;
  sink: Sink;
  dedup: DedupWindow;
  state: StateWriter;
  logger: Logger;
  sessionTimeoutMs?: number;
  /** Fetch long-poll bound (ms): paces an idle consumer; data is returned as soon as it arrives. */
  fetchMaxWaitMs?: number;
  /** Broker-side batching of fetches (kafkajs `minBytes`). */
  fetchMinBytes?: number;
  /** Records per partition read back before the committed offset to rebuild the dedup window (default 5,000; a packed record holds many events). */
  dedupSeedPerPartition?: number;
  /** Observes each delivered chunk (metrics, end-to-end latency). */
  onDelivered?: (records: readonly EventRecord[], ms: number, result: WriteResult) => void;
  onDuplicates?: (n: number) => void;
  onLag?: (lag: number) => void;
  onRejected?: (record: EventRecord, outcome: RecordOutcome) => void;
  /** Park the consumer when idle (flag `sink.parkWhenIdle`); absent: always consume. */
  parking?: SinkParking;
  /** Parked (true) or consuming again (false). */
  onParked?: (parked: boolean) => void;
  /**
   * Flag `sink.stableChunks`: record each chunk in the state row before delivering it, and at
   * start re-send a chunk the previous owner recorded exactly as it was (same events, same batch
   * id), so a receiver that drops batch ids it already accepted sees a crash's re-send as such.
   */
  stableChunks?: boolean;
}

export interface SinkParking {
  watcher: OffsetWatcher;
  /** Nothing to deliver for this long (and every record committed): leave the group and park. */
  idleMs: number;
}

/**
 * Where a sink reads next per partition (its group's committed offset, or the start of the
 * partition where the group never committed), and whether any partition holds more.
 */
export function positionsOf(committed: ReadonlyMap<number, bigint>, ends: readonly { partition: number; low: string; high: string }[]): { positions: Map<number, bigint>; pending: boolean } {
  const positions = new Map<number, bigint>();
  let pending = false;
  for (const p of ends) {
    const c = committed.get(p.partition);
    const position = c !== undefined && c >= 0n ? c : BigInt(p.low);
    positions.set(p.partition, position);
    if (BigInt(p.high) > position) pending = true;
  }
  return { positions, pending };
}

/** How one fetched batch is driven: by a group consumer's batch, or by the offset watcher for a parked sink. */
interface BatchDriver {
  /** False once no new chunk may start (stopping, partitions lost). */
  active(): boolean;
  /** Before each chunk; false leaves the rest of the batch to whoever owns the partition now. */
  beforeChunk(): Promise<boolean>;
  /** Called every 2 s while the sink writes a chunk (keeps a group membership alive). */
  keepAlive?(): Promise<void>;
  /** Commits through `done` (the next read starts after it). */
  commit(done: string): Promise<void>;
}

/** Partitions of one integration delivered at once: also the most chunks it has in flight. */
export const sinkPartitionsInFlight = 4;

/**
 * Chunks of one partition a crash can leave delivered but not committed: the one whose commit was
 * in flight and the one being delivered (`CommitChain.ready`).
 */
export const uncommittedChunksPerPartition = 2;

/** The most a sink may ask the broker to gather per partition before a fetch returns. */
export const maxFetchHoldBytes = 8 * 1024 * 1024;

/**
 * The sink consumer's fetch: the node's defaults, or what the sink asks for (`limits.fetch`).
 * kafkajs heartbeats between fetches only, so a fetch may wait at most a third of the session
 * timeout (10 s of the default 30 s); the per-partition fetch size grows to what the sink waits for.
 */
export function consumerFetchSettings(
  limits: Sink['limits'],
  node: { fetchMaxWaitMs?: number | undefined; fetchMinBytes?: number | undefined; sessionTimeoutMs?: number | undefined },
): { maxWaitTimeInMs: number; minBytes: number; maxBytesPerPartition: number } {
  const base = 2 * 1024 * 1024;
  const nodeWait = node.fetchMaxWaitMs ?? 1_000;
  const nodeMin = node.fetchMinBytes ?? 1;
  if (!limits.fetch) return { maxWaitTimeInMs: nodeWait, minBytes: nodeMin, maxBytesPerPartition: base };
  const cap = Math.floor((node.sessionTimeoutMs ?? 30_000) / 3);
  const minBytes = Math.max(1, Math.min(limits.fetch.minBytes, maxFetchHoldBytes));
  return {
    maxWaitTimeInMs: Math.max(nodeWait, Math.min(limits.fetch.maxWaitMs, cap)),
    minBytes: Math.max(nodeMin, minBytes),
    maxBytesPerPartition: Math.max(base, minBytes),
  };
}

export class SinkRunner {
  private consumer: Consumer | undefined;
  private readonly abort = new AbortController();
  private failure: ((err: unknown) => void) | undefined;
  private stopping = false;
  /** Rejects when the runner fails on its own (misconfiguration, bug); never resolves otherwise. */
  readonly failed: Promise<never>;
  private readonly lagByPartition = new Map<number, number>();
  private parked = false;
  private unwatch: (() => void) | undefined;
  private parkTimer: NodeJS.Timeout | undefined;
  private lastActivity = Date.now();
  private batchesInFlight = 0;
  /** The current consumer has joined its group (only a joined, idle consumer parks). */
  private joined = false;
  /** The fetch-hold cap was logged once (a sink asking for more than a third of the session timeout). */
  private capLogged = false;
  /** Where this sink reads next per partition: its group's committed offsets as it commits them. */
  private readonly committed = new Map<number, bigint>();
  /** The offset watcher's delivery in progress for this parked sink (a stop waits for it). */
  private parkedDelivery: Promise<void> | undefined;
  /** Park, unpark and stop, one at a time. */
  private transitions: Promise<void> = Promise.resolve();
  /** Chunks the previous owner recorded in flight, per partition: re-sent first, exactly. */
  private resend = new Map<number, ChunkIntent>();

  /** Shared (the node's) or the runner's own. */
  private readonly raw: RawKafka;

  constructor(private readonly o: SinkRunnerOptions) {
    this.raw = o.raw ?? new RawKafka(o.kafka);
    this.failed = new Promise<never>((_, reject) => {
      this.failure = reject;
    });
    this.failed.catch(() => undefined);
  }

  get topic(): string {
    return topics.events(this.o.integrationId);
  }

  get groupId(): string {
    return groups.sink(this.o.integrationId);
  }

  /** Waiting on the offset watcher instead of consuming. */
  get isParked(): boolean {
    return this.parked;
  }

  async start(): Promise<void> {
    const parking = this.o.parking;
    // The start's lookups on shared connections (at 1,000 integrations an admin each counts).
    const { committed: at, offsets } = await retryLookup(() => this.raw.groupPositions(this.groupId, this.topic));
    const ends = parking || this.o.stableChunks ? offsets : undefined;
    await this.seedDedup(at);
    // Where the group resumes per partition (its first record where it never committed).
    const { positions, pending } = ends ? positionsOf(at, ends) : { positions: new Map<number, bigint>(), pending: true };
    if (this.o.stableChunks) {
      // Only a chunk that starts where the group resumes can still be in doubt.
      for (const [partition, chunk] of await this.o.state.chunksInFlight()) {
        if (positions.get(partition) === BigInt(chunk.first)) this.resend.set(partition, chunk);
      }
      if (this.resend.size) this.o.logger.info({ chunks: Object.fromEntries(this.resend) }, 'chunks the previous owner may have delivered are re-sent exactly as recorded');
    }
    if (parking) {
      // Nothing to deliver at start (the common case for a quiet app): park without ever joining.
      for (const [partition, position] of positions) this.committed.set(partition, position);
      if (!pending) this.park();
      else await this.startConsumer();
      return;
    }
    await this.startConsumer();
  }

  private async startConsumer(): Promise<void> {
    this.lastActivity = Date.now();
    this.joined = false;
    const parking = this.o.parking;
    if (parking && !this.parkTimer && !this.stopping) {
      // Idleness is checked only while consuming: a parked sink holds no timer of its own.
      this.parkTimer = setInterval(() => this.checkIdle(), Math.max(50, Math.min(5_000, Math.floor(parking.idleMs / 4))));
      this.parkTimer.unref();
    }
    const fetch = consumerFetchSettings(this.o.sink.limits, { fetchMaxWaitMs: this.o.fetchMaxWaitMs, fetchMinBytes: this.o.fetchMinBytes, sessionTimeoutMs: this.o.sessionTimeoutMs });
    const asked = this.o.sink.limits.fetch?.maxWaitMs;
    if (asked !== undefined && asked > fetch.maxWaitTimeInMs && !this.capLogged) {
      this.capLogged = true;
      this.o.logger.info({ askedMs: asked, heldMs: fetch.maxWaitTimeInMs }, 'the sink asks to gather fetches for longer than a third of the Kafka session timeout; fetches are held for the cap');
    }
    const consumer = this.o.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: this.o.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3_000,
      ...fetch,
      retry: { retries: 10 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.joined = true;
      this.lastActivity = Date.now();
      this.o.logger.debug({ memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'sink consumer joined its group');
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (!this.stopping && !e.payload.restart) this.fail(e.payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: sinkPartitionsInFlight,
      eachBatch: (payload) => this.eachBatch(payload, consumer),
    });
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.transitions.then(fn).catch((err) => this.fail(err));
    this.transitions = next;
    return next;
  }

  private checkIdle(): void {
    const idleMs = this.o.parking!.idleMs;
    const idle = () => !this.stopping && !this.parked && this.consumer !== undefined && this.joined && this.batchesInFlight === 0 && Date.now() - this.lastActivity >= idleMs;
    if (!idle()) return;
    void this.serial(async () => {
      if (!idle()) return;
      const consumer = this.consumer!;
      this.consumer = undefined;
      // A batch that starts meanwhile is drained by the disconnect, as on a stop.
      await consumer.disconnect();
      // Records that arrived meanwhile are seen by the watcher's first poll.
      if (!this.stopping) this.park();
    });
  }

  private park(): void {
    this.parked = true;
    clearInterval(this.parkTimer);
    this.parkTimer = undefined;
    const positions = new Map(this.committed);
    this.lagByPartition.clear();
    this.o.state.setLag({ consumerLag: 0 });
    this.o.onLag?.(0);
    this.unwatch = this.o.parking!.watcher.watch(this.topic, positions, {
      wake: (reason) => void this.serial(() => this.unpark(reason)),
      deliver: (records, ends) => this.deliverParked(records, ends),
      // A packed record counts its events: a burst in a few packs wakes the consumer.
      weigh: eventCount,
    });
    this.o.logger.debug({ partitions: positions.size }, 'sink parked: nothing to deliver');
    this.o.onParked?.(true);
  }

  private async unpark(reason: string): Promise<void> {
    if (!this.parked || this.stopping) return;
    this.unwatch?.();
    this.unwatch = undefined;
    this.parked = false;
    this.o.logger.debug({ reason }, 'sink unparked');
    this.o.onParked?.(false);
    await this.startConsumer();
  }

  /**
   * After a restart the in-memory window is empty, but a restarted source re-sends its in-flight
   * tail: reading back the ids just before the committed offset lets the sink recognise them.
   */
  private async seedDedup(at: ReadonlyMap<number, bigint>): Promise<void> {
    const perPartition = BigInt(this.o.dedupSeedPerPartition ?? 5_000);
    // A group that never committed has delivered nothing yet: nothing to recognise.
    if (![...at.values()].some((c) => c > 0n)) return;
    let seeded = 0;
    await readTail({
      kafka: this.o.kafka,
      admin: this.o.admin,
      topic: this.topic,
      range: ({ partition }) => {
        const c = at.get(partition);
        return c === undefined || c <= 0n ? undefined : { from: c - perPartition, to: c };
      },
      onMessage: (partition, m) => {
        const id = m.headers?.[headers.eventId];
        if (id) {
          this.o.dedup.add(id.toString());
          seeded += 1;
        } else if (m.headers?.[headers.packEvents] !== undefined) {
          let events: EventRecord[] = [];
          try {
            events = eventsOf(this.o.integrationId, partition, m);
          } catch {
            // A malformed pack is dead-lettered when it is delivered; it has no ids to recognise.
          }
          for (const e of events) this.o.dedup.add(e.eventId);
          seeded += events.length;
        }
      },
    });
    if (seeded) this.o.logger.debug({ seeded }, 'dedup window rebuilt from Kafka');
  }

  private fail(err: unknown): void {
    if (this.stopping) return;
    this.failure?.(err);
  }

  private async eachBatch(p: EachBatchPayload, consumer: Consumer): Promise<void> {
    this.batchesInFlight += 1;
    this.lastActivity = Date.now();
    try {
      await this.deliverBatch(p, consumer);
    } finally {
      this.batchesInFlight -= 1;
      this.lastActivity = Date.now();
    }
  }

  /** A group consumer's batch: membership checked before each chunk, commits through the consumer. */
  private async deliverBatch(p: EachBatchPayload, consumer: Consumer): Promise<void> {
    const { batch } = p;
    this.o.logger.trace({ partition: batch.partition, records: batch.messages.length, first: batch.firstOffset() }, 'sink batch');
    const partition = batch.partition;
    await this.deliverMessages(partition, batch.messages, {
      active: () => p.isRunning() && !p.isStale() && !this.stopping && !this.abort.signal.aborted,
      // A node that was paused (GC, SIGSTOP) may have lost its partitions meanwhile: a heartbeat
      // before delivering asks the coordinator, so a zombie does not deliver a chunk it no longer owns.
      beforeChunk: async () => {
        try {
          await p.heartbeat();
        } catch (err) {
          this.o.logger.info({ err: errorMessage(err) }, 'group membership lost before delivery; leaving the batch to the new owner');
          return false;
        }
        return !p.isStale();
      },
      keepAlive: () => p.heartbeat(),
      commit: async (done) => {
        if (!p.isStale()) {
          p.resolveOffset(done);
          const offset = (BigInt(done) + 1n).toString();
          // Once stop() began, kafkajs turns consumer.commitOffsets into a silent no-op ("consumer not
          // running"): the drained chunk would be delivered again after a restart. The batch payload's
          // commit still reaches the coordinator while the member has not left the group yet.
          if (p.isRunning()) await consumer.commitOffsets([{ topic: batch.topic, partition, offset }]);
          else await p.commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition, offset }] }] });
          this.committed.set(partition, BigInt(offset));
        }
        await p.heartbeat();
      },
    });
    if (!p.isStale()) this.setLag(partition, Number(batch.offsetLag()));
  }

  /**
   * A parked sink's records, fetched by the offset watcher: delivered like a batch, committed
   * without a group member. Resolves with the next position of each partition.
   */
  private async deliverParked(records: ReadonlyMap<number, readonly KafkaMessage[]>, ends: ReadonlyMap<number, bigint>): Promise<ReadonlyMap<number, bigint>> {
    const parking = this.o.parking!;
    const next = new Map<number, bigint>();
    const delivery = (async () => {
      for (const [partition, messages] of records) {
        const done = await this.deliverMessages(partition, messages, {
          active: () => this.parked && !this.stopping && !this.abort.signal.aborted,
          // Fenced (another node claimed the integration): leave the records to it.
          beforeChunk: async () => !this.o.state.isFenced,
          commit: async (last) => {
            const offset = BigInt(last) + 1n;
            await parking.watcher.commit(this.groupId, this.topic, new Map([[partition, offset.toString()]]));
            this.committed.set(partition, offset);
          },
        });
        if (done === undefined) break;
        next.set(partition, BigInt(done) + 1n);
        this.setLag(partition, Math.max(0, Number((ends.get(partition) ?? 0n) - (BigInt(done) + 1n))));
      }
    })();
    this.parkedDelivery = delivery.catch(() => undefined);
    this.lastActivity = Date.now();
    await delivery;
    return next;
  }

  private setLag(partition: number, lag: number): void {
    this.lagByPartition.set(partition, lag);
    const total = [...this.lagByPartition.values()].reduce((a, b) => a + b, 0);
    this.o.state.setLag({ consumerLag: total });
    this.o.onLag?.(total);
  }

  /**
   * Delivers one partition's fetched records in sink-sized chunks, dead-letters what cannot be
   * decoded, and commits after each chunk up to the finished prefix. Resolves with the last
   * offset done when all were, undefined when it stopped early (stopping, ownership lost, failed);
   * either way once every commit it made has landed.
   */
  private async deliverMessages(partition: number, messages: readonly KafkaMessage[], driver: BatchDriver): Promise<string | undefined> {
    // A chunk's commit goes out while the next chunk is delivered (not with `sink.stableChunks`,
    // whose record of the chunk in doubt assumes the one before it is committed).
    const commits = new CommitChain((done) => driver.commit(done));
    let last: string | undefined;
    try {
      last = await this.deliverChunks(partition, messages, driver, commits);
    } catch (err) {
      await commits.settle().catch(() => undefined);
      throw err;
    }
    await commits.settle();
    return last;
  }

  private async deliverChunks(partition: number, messages: readonly KafkaMessage[], driver: BatchDriver, commits: CommitChain): Promise<string | undefined> {
    const tracker = new ContiguousTracker<string>();
    // Each record's events (one, or a packed record's many): a record is done once all are.
    const units: { offset: string; ticket: number; events: EventRecord[] }[] = [];
    for (const m of messages) {
      const ticket = tracker.add(m.offset);
      try {
        units.push({ offset: m.offset, ticket, events: eventsOf(this.o.integrationId, partition, m) });
      } catch (err) {
        // A record without our envelope cannot be delivered or deduplicated: dead-letter it as is.
        await this.o.producer.send(topics.dlq(this.o.integrationId), [
          { key: m.key, value: m.value, headers: { ...(m.headers ?? {}), 'tributary-reason': errorMessage(err) } },
        ]);
        tracker.complete(ticket);
      }
    }
    const limits = this.o.sink.limits;
    // The next event to deliver: units[u].events[at].
    let u = 0;
    let at = 0;
    if (units.length === 0 && tracker.watermark !== undefined) await driver.commit(tracker.watermark);
    while (u < units.length) {
      // At most one chunk ahead of its commit; a commit that failed meanwhile ends the batch as
      // an awaited one would have.
      await commits.ready();
      commits.check();
      // Stopping: no new chunk starts; the one in flight finishes and is committed (drain).
      if (!driver.active()) return undefined;
      // Whole records within the sink's limits, or exactly the chunk recorded in doubt. A record
      // whose events alone exceed the limits (a pack cut for other limits) is split across chunks.
      const chunk: EventRecord[] = [];
      const finished: number[] = [];
      const again = this.resend.get(partition);
      this.resend.delete(partition);
      const exact = again !== undefined && at === 0 && units[u]!.offset === again.first && units.some((x) => x.offset === again.last);
      if (again !== undefined && !exact) this.o.logger.warn({ partition, chunk: again, fetched: [units[u]!.offset, units[units.length - 1]!.offset] }, 'the chunk in doubt could not be rebuilt from this fetch; sending as usual (a receiver may see its events twice)');
      let bytes = 0;
      // The recorded chunk kept the sink's limits when it was cut; the limits still bound it.
      while (u < units.length && (!exact || BigInt(units[u]!.offset) <= BigInt(again!.last))) {
        const unit = units[u]!;
        let restBytes = 0;
        for (let k = at; k < unit.events.length; k++) restBytes += unit.events[k]!.value.length;
        const rest = unit.events.length - at;
        if (chunk.length + rest <= limits.maxBatchEvents && (bytes + restBytes <= limits.maxBatchBytes || (chunk.length === 0 && rest === 1))) {
          for (let k = at; k < unit.events.length; k++) chunk.push(unit.events[k]!);
          bytes += restBytes;
          finished.push(unit.ticket);
          u += 1;
          at = 0;
          continue;
        }
        if (chunk.length > 0) break;
        // Alone too big: as many of its events as the limits take (at least one).
        while (at < unit.events.length && chunk.length < limits.maxBatchEvents && (chunk.length === 0 || bytes + unit.events[at]!.value.length <= limits.maxBatchBytes)) {
          bytes += unit.events[at]!.value.length;
          chunk.push(unit.events[at]!);
          at += 1;
        }
        if (at === unit.events.length) {
          finished.push(unit.ticket);
          u += 1;
          at = 0;
        }
        break;
      }
      if (!(await driver.beforeChunk())) return undefined;
      if (this.o.stableChunks && !(await this.o.state.recordChunk(partition, { first: chunk[0]!.offset, last: chunk[chunk.length - 1]!.offset }))) {
        this.o.logger.info({ partition }, 'another node owns this integration now: the chunk is left to it');
        return undefined;
      }
      const ok = await this.deliver(chunk, driver);
      if (!ok) return undefined;
      crashpoint('sink.afterDelivery');
      for (const ticket of finished) tracker.complete(ticket);
      const done = tracker.watermark;
      if (done !== undefined && finished.length > 0) {
        if (this.o.stableChunks) await driver.commit(done);
        else commits.push(done);
      }
    }
    return tracker.watermark;
  }

  /** Delivers one chunk; false when the runner is stopping or failed (nothing may be committed). */
  private async deliver(chunk: EventRecord[], driver: BatchDriver): Promise<boolean> {
    const fresh: EventRecord[] = [];
    const inChunk = new Set<string>();
    let duplicates = 0;
    for (const r of chunk) {
      if (this.o.dedup.has(r.eventId) || inChunk.has(r.eventId)) duplicates += 1;
      else {
        inChunk.add(r.eventId);
        fresh.push(r);
      }
    }
    if (duplicates) {
      this.o.state.count('deduplicated', duplicates);
      this.o.onDuplicates?.(duplicates);
    }
    if (fresh.length === 0) return true;
    // Long retries inside the sink must not cost the group membership.
    const beat = driver.keepAlive ? setInterval(() => void driver.keepAlive!().catch(() => undefined), 2_000) : undefined;
    const started = Date.now();
    let result: WriteResult;
    try {
      result = await this.o.sink.write(fresh, this.abort.signal);
    } catch (err) {
      if (this.abort.signal.aborted || (err as Error)?.name === 'AbortError') return false;
      this.fail(err instanceof TributaryError ? err : new TributaryError(ErrorCode.bug, `sink write failed: ${errorMessage(err)}`, { cause: err }));
      return false;
    } finally {
      clearInterval(beat);
    }
    const { outcomes } = result;
    if (outcomes.length !== fresh.length) {
      this.fail(new TributaryError(ErrorCode.bug, `sink returned ${outcomes.length} outcomes for ${fresh.length} records`));
      return false;
    }
    const rejected = fresh.flatMap((r, k) => (outcomes[k]!.status === 'rejected' ? [[r, outcomes[k]!] as const] : []));
    if (rejected.length > 0) {
      // Awaited before the commit: a DLQ record is as durable as a delivery (I2).
      await this.o.producer.send(
        topics.dlq(this.o.integrationId),
        rejected.map(([r, o]) => dlqFromRejected(r, o as Extract<RecordOutcome, { status: 'rejected' }>)),
      );
      crashpoint('sink.duringDlq');
      for (const [r, o] of rejected) this.o.onRejected?.(r, o);
      this.o.state.count('dlq', rejected.length);
    }
    for (const r of fresh) this.o.dedup.add(r.eventId);
    const delivered = fresh.filter((_, k) => outcomes[k]!.status === 'delivered');
    this.o.state.count('delivered', delivered.length);
    this.o.onDelivered?.(delivered, Date.now() - started, result);
    return true;
  }

  /**
   * Stops consuming. A drain: the chunk in flight may finish and be committed within `graceMs`
   * (so a planned stop — update, pause, SIGTERM — delivers nothing twice); past that it is
   * aborted and nothing past the last commit is assumed delivered. Then the group is left.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    clearInterval(this.parkTimer);
    this.unwatch?.();
    this.unwatch = undefined;
    const deadline = setTimeout(() => this.abort.abort(), graceMs);
    try {
      // A park in progress disconnects its consumer itself; an unpark may have made a new one.
      await this.transitions.catch(() => undefined);
      await this.parkedDelivery;
      await this.consumer?.disconnect().catch((err) => this.o.logger.warn({ err: errorMessage(err) }, 'sink consumer disconnect failed'));
    } finally {
      clearTimeout(deadline);
      this.abort.abort();
      if (!this.o.raw) await this.raw.reset();
    }
  }
}
