// The sink side of one integration: a consumer in group `tributary.sink.<id>` reads the events
// topic, drops duplicates by event id, delivers in sink-sized chunks, DLQs what the sink rejects
// (awaited), and commits only past records that are delivered or dead-lettered (I2).
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { withOwnAdmin } from '../kafka/kafka.js';
import { readTail } from '../kafka/tail-reader.js';
import type { RecordProducer } from '../kafka/produce-queue.js';
import { errorMessage, ErrorCode, TributaryError } from '../errors.js';
import { groups, headers, topics } from '../kafka/topics.js';
import type { Logger } from '../observability/logger.js';
import { crashpoint } from '../observability/crashpoints.js';
import type { StateWriter } from '../state/state-writer.js';
import type { EventRecord, RecordOutcome, Sink, WriteResult } from '../sinks/types.js';
import { ContiguousTracker } from './contiguous-tracker.js';
import type { DedupWindow } from './dedup-window.js';
import { dlqFromRejected } from './dlq.js';
import { fromKafkaMessage } from './event-record.js';

export interface SinkRunnerOptions {
  integrationId: string;
  kafka: Kafka;
  admin: Admin;
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
  /** Records per partition read back before the committed offset to rebuild the dedup window. */
  dedupSeedPerPartition?: number;
  /** Observes each delivered chunk (metrics, end-to-end latency). */
  onDelivered?: (records: readonly EventRecord[], ms: number, result: WriteResult) => void;
  onDuplicates?: (n: number) => void;
  onLag?: (lag: number) => void;
  onRejected?: (record: EventRecord, outcome: RecordOutcome) => void;
}

/** Partitions of one integration delivered at once: also the most chunks it has in flight. */
export const sinkPartitionsInFlight = 4;

export class SinkRunner {
  private consumer: Consumer | undefined;
  private readonly abort = new AbortController();
  private failure: ((err: unknown) => void) | undefined;
  private stopping = false;
  /** Rejects when the runner fails on its own (misconfiguration, bug); never resolves otherwise. */
  readonly failed: Promise<never>;
  private readonly lagByPartition = new Map<number, number>();

  constructor(private readonly o: SinkRunnerOptions) {
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

  async start(): Promise<void> {
    await this.seedDedup();
    const consumer = this.o.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: this.o.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: 2 * 1024 * 1024,
      maxWaitTimeInMs: this.o.fetchMaxWaitMs ?? 1_000,
      minBytes: this.o.fetchMinBytes ?? 1,
      retry: { retries: 10 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) =>
      this.o.logger.debug({ memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'sink consumer joined its group'),
    );
    consumer.on(consumer.events.CRASH, (e) => {
      if (!this.stopping && !e.payload.restart) this.fail(e.payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: sinkPartitionsInFlight,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /**
   * After a restart the in-memory window is empty, but a restarted source re-sends its in-flight
   * tail: reading back the ids just before the committed offset lets the sink recognise them.
   */
  private async seedDedup(): Promise<void> {
    const perPartition = BigInt(this.o.dedupSeedPerPartition ?? 5_000);
    const committed = await withOwnAdmin(this.o.kafka, (admin) => admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] }));
    const at = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
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
      onMessage: (_partition, m) => {
        const id = m.headers?.[headers.eventId];
        if (id) {
          this.o.dedup.add(id.toString());
          seeded += 1;
        }
      },
    });
    if (seeded) this.o.logger.debug({ seeded }, 'dedup window rebuilt from Kafka');
  }

  private fail(err: unknown): void {
    if (this.stopping) return;
    this.failure?.(err);
  }

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    this.o.logger.trace({ partition: batch.partition, records: batch.messages.length, first: batch.firstOffset() }, 'sink batch');
    const partition = batch.partition;
    const tracker = new ContiguousTracker<string>();
    const tickets = new Map<string, number>();
    const records: EventRecord[] = [];
    for (const m of batch.messages) {
      tickets.set(m.offset, tracker.add(m.offset));
      try {
        records.push(fromKafkaMessage(this.o.integrationId, partition, m));
      } catch (err) {
        // A record without our envelope cannot be delivered or deduplicated: dead-letter it as is.
        await this.o.producer.send(topics.dlq(this.o.integrationId), [
          { key: m.key, value: m.value, headers: { ...(m.headers ?? {}), 'tributary-reason': errorMessage(err) } },
        ]);
        tracker.complete(tickets.get(m.offset)!);
      }
    }
    const limits = this.o.sink.limits;
    let i = 0;
    while (i < records.length) {
      // Stopping: no new chunk starts; the one in flight finishes and is committed (drain).
      if (!p.isRunning() || p.isStale() || this.stopping || this.abort.signal.aborted) return;
      // A chunk within the sink's limits.
      const chunk: EventRecord[] = [];
      let bytes = 0;
      while (i < records.length && chunk.length < limits.maxBatchEvents) {
        const r = records[i]!;
        if (chunk.length > 0 && bytes + r.value.length > limits.maxBatchBytes) break;
        chunk.push(r);
        bytes += r.value.length;
        i += 1;
      }
      // A node that was paused (GC, SIGSTOP) may have lost its partitions meanwhile: a heartbeat
      // before delivering asks the coordinator, so a zombie does not deliver a chunk it no longer owns.
      try {
        await p.heartbeat();
      } catch (err) {
        this.o.logger.info({ err: errorMessage(err) }, 'group membership lost before delivery; leaving the batch to the new owner');
        return;
      }
      if (p.isStale()) return;
      const ok = await this.deliver(chunk, p);
      if (!ok) return;
      crashpoint('sink.afterDelivery');
      for (const r of chunk) tracker.complete(tickets.get(r.offset)!);
      const done = tracker.watermark;
      if (done !== undefined && !p.isStale()) {
        p.resolveOffset(done);
        const offset = (BigInt(done) + 1n).toString();
        // Once stop() began, kafkajs turns consumer.commitOffsets into a silent no-op ("consumer not
        // running"): the drained chunk would be delivered again after a restart. The batch payload's
        // commit still reaches the coordinator while the member has not left the group yet.
        if (p.isRunning()) await this.consumer!.commitOffsets([{ topic: batch.topic, partition, offset }]);
        else await p.commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition, offset }] }] });
      }
      await p.heartbeat();
    }
    if (!p.isStale()) {
      const lag = Number(batch.offsetLag());
      this.lagByPartition.set(partition, lag);
      const total = [...this.lagByPartition.values()].reduce((a, b) => a + b, 0);
      this.o.state.setLag({ consumerLag: total });
      this.o.onLag?.(total);
    }
  }

  /** Delivers one chunk; false when the runner is stopping or failed (nothing may be committed). */
  private async deliver(chunk: EventRecord[], p: EachBatchPayload): Promise<boolean> {
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
    const beat = setInterval(() => void p.heartbeat().catch(() => undefined), 2_000);
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
    const deadline = setTimeout(() => this.abort.abort(), graceMs);
    try {
      await this.consumer?.disconnect().catch((err) => this.o.logger.warn({ err: errorMessage(err) }, 'sink consumer disconnect failed'));
    } finally {
      clearTimeout(deadline);
      this.abort.abort();
    }
  }
}
