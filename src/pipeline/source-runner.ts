// The source side of one integration: Connect stream → batches → `tributary.events.<id>`.
// The checkpoint advances only past events Kafka acknowledged, as a contiguous watermark over
// batches acked in any order (I1). A full in-flight window stops pulling from the stream, which
// stops the socket reads: memory stays bounded when Kafka is slow or down (I6).
import { randomUUID } from 'node:crypto';
import type { ConnectClient, EventItem, PoisonItem, StreamItem } from '../connect/client/index.js';
import { errorMessage, ErrorCode, TributaryError } from '../errors.js';
import type { RecordProducer } from '../kafka/produce-queue.js';
import { topics } from '../kafka/topics.js';
import type { Logger } from '../observability/logger.js';
import { crashpoint } from '../observability/crashpoints.js';
import type { StateWriter } from '../state/state-writer.js';
import { Batcher, type BatchLimits } from './batcher.js';
import { ContiguousTracker } from './contiguous-tracker.js';
import { dlqFromPoisonLine } from './dlq.js';
import { releasePackMessages, toKafkaMessage, toPackMessages, type PackLimits } from './event-record.js';

type Item = EventItem | PoisonItem;

/**
 * What an acknowledged batch reports: its events counted by Connect type, and the newest one's
 * `processed` time. Taken when the batch is produced, so the parsed events are not kept alive
 * until Kafka answers: a batch in flight survives the young generation's collections, and its
 * thousands of objects would move to the old one, where they are collected late (the node's
 * heap under a backlog, BENCHMARKS.md).
 */
export interface ProducedBatch {
  events: number;
  byType: ReadonlyMap<string, number>;
  newestProcessed: string | undefined;
}

function summarise(events: readonly EventItem[]): ProducedBatch {
  const byType = new Map<string, number>();
  for (const e of events) byType.set(e.event.type, (byType.get(e.event.type) ?? 0) + 1);
  return { events: events.length, byType, newestProcessed: events[events.length - 1]?.event.processed };
}

export interface SourceRunnerOptions {
  integrationId: string;
  client: ConnectClient;
  producer: RecordProducer;
  state: StateWriter;
  logger: Logger;
  batch: BatchLimits;
  /** Batches produced but not yet acknowledged, at most. */
  maxInFlight?: number;
  /** Observes each acknowledged batch (metrics, lag). */
  onProduced?: (batch: ProducedBatch, ackMs: number) => void;
  /** Called each time the watermark (the newest offset durable in Kafka) moves, with its new value. */
  onWatermark?: (watermark: string) => void;
  onStreamItem?: (item: StreamItem) => void;
  /** Flag `source.packRecords`: write each batch as packed records (the events topic's partition count, and the sink's chunk limits). */
  pack?: { partitions: number; limits: PackLimits } | undefined;
}

export class SourceRunner {
  private readonly batcher: Batcher<Item>;
  private readonly tracker = new ContiguousTracker<string | undefined>();
  private readonly inFlight = new Set<Promise<void>>();
  private lingerTimer: NodeJS.Timeout | undefined;
  private failure: unknown;
  /** Aborted on a produce failure, so an idle stream does not hide it. */
  private readonly failed = new AbortController();
  private lastEventOffset: string | undefined;
  /**
   * The current chunk's full batches not yet produced, in order: the linger timer must not overtake
   * them. Kept here, not in `run`'s variables, for the reason given at `take`.
   */
  private unsent: Item[][] = [];
  /** The newest offset confirmed durable in Kafka. */
  watermark: string | undefined;

  constructor(private readonly o: SourceRunnerOptions) {
    this.batcher = new Batcher<Item>(o.batch);
    this.watermark = o.client.confirmedOffset;
  }

  /**
   * Reads until `signal` aborts, then produces what is batched, waits for every in-flight batch
   * and returns. Throws on misconfiguration (from Connect) or when Kafka refuses a batch; the
   * checkpoint then stays at the last contiguous acknowledged offset.
   */
  async run(signal: AbortSignal): Promise<void> {
    try {
      // One array per decompressed chunk: no await per event on the hot path.
      for await (const items of this.o.client.batches(AbortSignal.any([signal, this.failed.signal]))) {
        this.throwIfFailed();
        this.unsent = this.take(items);
        while (this.unsent.length > 0) await this.dispatchNext();
        this.armLinger();
      }
    } finally {
      clearTimeout(this.lingerTimer);
      const rest = this.batcher.flush(Date.now(), true);
      // After unsent full batches it would be out of order; unproduced, it is read again (checkpoint).
      if (rest && this.failure === undefined && this.unsent.length === 0) this.produce(rest);
      this.unsent = [];
      await Promise.allSettled([...this.inFlight]);
    }
    this.throwIfFailed();
  }

  /**
   * Hands a chunk's items to the batcher and returns the batches they filled, in order. Synchronous
   * and in a frame of its own, and `items` is emptied: an async frame keeps its variables while it
   * waits, so an idle stream's last chunk (its items, their events, the inflate buffer their raw
   * lines are slices of) would otherwise stay alive in `run` until the next one arrives, on every
   * quiet integration of the node (BENCHMARKS.md, "What an idle integration holds").
   */
  private take(items: StreamItem[]): Item[][] {
    const full: Item[][] = [];
    let read = 0;
    let poison = 0;
    const now = Date.now();
    for (const item of items) {
      this.o.onStreamItem?.(item);
      if (item.kind === 'event') {
        this.lastEventOffset = item.offset;
        read += 1;
        crashpoint('source.afterRead');
        full.push(...this.batcher.add(item, item.raw.length, now));
      } else if (item.kind === 'poison') {
        poison += 1;
        full.push(...this.batcher.add(item, item.raw.length, now));
      } else if (item.kind === 'reconnecting' && item.error) {
        this.o.logger.info({ reason: item.reason, delayMs: item.delayMs, attempt: item.attempt, err: item.error.message }, 'connect stream reconnecting');
      }
    }
    items.length = 0;
    if (read) this.o.state.count('read', read);
    if (poison) this.o.state.count('poison', poison);
    return full;
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private armLinger(): void {
    if (this.lingerTimer !== undefined) return;
    const due = this.batcher.dueIn(Date.now());
    if (due === undefined) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      // Full batches waiting for an in-flight slot go first (device order); `run` re-arms after them.
      if (this.unsent.length > 0) return;
      const batch = this.batcher.flush(Date.now());
      if (batch) this.produce(batch);
      this.armLinger();
    }, due);
  }

  /** Waits for a free in-flight slot (backpressure on the stream), then produces the first unsent batch. */
  private async dispatchNext(): Promise<void> {
    const max = this.o.maxInFlight ?? 4;
    while (this.inFlight.size >= max) await Promise.race(this.inFlight);
    this.throwIfFailed();
    this.produce(this.unsent.shift()!);
  }

  private produce(batch: Item[]): void {
    const events = batch.filter((i): i is EventItem => i.kind === 'event');
    const poison = batch.filter((i): i is PoisonItem => i.kind === 'poison');
    // Position of the batch: its last event, or for a poison-only batch the event before it.
    const position = events.length ? events[events.length - 1]!.offset : (poison[poison.length - 1]?.afterOffset ?? this.lastEventOffset);
    const ticket = this.tracker.add(position);
    const correlationId = randomUUID();
    const ingestedAt = new Date().toISOString();
    const { integrationId, producer } = this.o;
    const sends: Promise<unknown>[] = [];
    const sentAt = Date.now();
    const produced = summarise(events);
    if (events.length) {
      const topic = topics.events(integrationId);
      const ctx = { integrationId, correlationId, ingestedAt, watermark: this.watermark };
      const pack = this.o.pack;
      if (pack) {
        const messages = toPackMessages(events, ctx, pack.partitions, pack.limits);
        // Acknowledged packs are never sent again (a failure restarts from the checkpoint, re-read).
        sends.push(producer.send(topic, messages).then(() => releasePackMessages(messages)));
      } else {
        sends.push(producer.send(topic, events.map((e) => toKafkaMessage(e.event, e.raw, ctx))));
      }
    }
    if (poison.length) {
      sends.push(
        producer.send(
          topics.dlq(integrationId),
          poison.map((p) => dlqFromPoisonLine(integrationId, p.raw, new TributaryError(p.code, p.reason), { afterOffset: p.afterOffset, correlationId })),
        ),
      );
    }
    const done = Promise.all(sends).then(
      () => {
        crashpoint('source.afterAck');
        this.o.state.count('produced', produced.events);
        this.o.onProduced?.(produced, Date.now() - sentAt);
        if (this.tracker.complete(ticket)) {
          const wm = this.tracker.watermark;
          if (wm !== undefined && wm !== this.watermark) {
            this.watermark = wm;
            this.o.client.confirm(wm);
            this.o.state.setCheckpoint(wm);
            this.o.onWatermark?.(wm);
          }
        }
      },
      (err: unknown) => {
        this.failure ??= new TributaryError(ErrorCode.kafkaUnavailable, `produce to ${topics.events(integrationId)} failed: ${errorMessage(err)}`, {
          cause: err,
        });
        this.failed.abort();
      },
    );
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }
}
