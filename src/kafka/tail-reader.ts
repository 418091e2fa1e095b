// Reads a bounded range of each partition of a topic, once: the tail before the sink's
// committed offset (to rebuild its dedup window). kafkajs has no plain fetch API, so a throwaway
// consumer group seeks, reads up to the end positions captured at the start, and is deleted
// afterwards. The source's watermark (the last record of each partition) is read with plain
// requests instead (watermarkInKafka).
import { randomBytes } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { withOwnAdmin } from './kafka.js';
import { isCoordinatorMoving, type RawKafka } from './raw-kafka.js';
import { groups } from './topics.js';

export interface TailRange {
  partition: number;
  /** First offset to read (inclusive). */
  from: string;
  /** Stop before this offset (exclusive). */
  to: string;
}

export interface TailOptions {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  /** Given each partition's low and high watermark, the range to read (or undefined to skip it). */
  range: (p: { partition: number; low: bigint; high: bigint }) => { from: bigint; to: bigint } | undefined;
  onMessage: (partition: number, message: KafkaMessage) => void;
  timeoutMs?: number;
}

/**
 * An admin lookup, retried: kafkajs throws transiently where a retry succeeds — a TypeError
 * ("Cannot destructure property 'partitions'") while a just-created topic's metadata is
 * incomplete, NOT_COORDINATOR_FOR_GROUP while a fresh broker still elects a group's coordinator.
 */
export async function retryLookup<T>(lookup: () => Promise<T>, attempts = 10, retryIf: (err: unknown) => boolean = () => true): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await lookup();
    } catch (err) {
      if (i >= attempts || !retryIf(err)) throw err;
      await new Promise((r) => setTimeout(r, 200 * i));
    }
  }
}

/**
 * A group's committed offsets on one topic. kafkajs's `admin.fetchOffsets` does not retry when
 * the coordinator it found refuses the request (NOT_COORDINATOR_FOR_GROUP on a fresh cluster, or
 * after a broker restart moved the group); this does, for those errors only (up to ~9 s). Any other
 * error (the broker down, no such topic) comes back at once.
 */
export function committedOffsets(admin: Admin, groupId: string, topic: string, attempts = 10): ReturnType<Admin['fetchOffsets']> {
  return retryLookup(() => admin.fetchOffsets({ groupId, topics: [topic] }), attempts, isCoordinatorMoving);
}

/** The admin's offsets of a topic, retried (see retryLookup). */
export function topicOffsets(admin: Admin, topic: string, attempts = 10): Promise<Awaited<ReturnType<Admin['fetchTopicOffsets']>>> {
  return retryLookup(() => admin.fetchTopicOffsets(topic), attempts);
}

export async function readTail(o: TailOptions): Promise<void> {
  const offsets = await withOwnAdmin(o.kafka, (admin) => topicOffsets(admin, o.topic));
  const ranges = new Map<number, { from: bigint; to: bigint }>();
  for (const p of offsets) {
    const r = o.range({ partition: p.partition, low: BigInt(p.low), high: BigInt(p.high) });
    if (r && r.to > r.from) ranges.set(p.partition, { from: r.from < BigInt(p.low) ? BigInt(p.low) : r.from, to: r.to });
  }
  if (ranges.size === 0) return;
  const groupId = groups.tailReader(randomBytes(6).toString('hex'));
  const consumer = o.kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 100, retry: { retries: 5 } });
  const pending = new Set(ranges.keys());
  let finish!: () => void;
  let fail!: (err: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const timer = setTimeout(() => fail(new Error(`reading the tail of ${o.topic} took longer than ${o.timeoutMs ?? 30_000} ms`)), o.timeoutMs ?? 30_000);
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: o.topic, fromBeginning: true });
    consumer.on(consumer.events.CRASH, (e) => fail(e.payload.error));
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const r = ranges.get(batch.partition);
        if (!r || !pending.has(batch.partition)) return;
        for (const m of batch.messages) {
          const off = BigInt(m.offset);
          if (off < r.from) continue;
          if (off >= r.to) break;
          o.onMessage(batch.partition, m);
        }
        const last = batch.messages.length ? BigInt(batch.messages[batch.messages.length - 1]!.offset) : -1n;
        if (last + 1n >= r.to) {
          pending.delete(batch.partition);
          if (pending.size === 0) finish();
        }
      },
    });
    for (const [partition, r] of ranges) consumer.seek({ topic: o.topic, partition, offset: r.from.toString() });
    await done;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
    await o.admin.deleteGroups([groupId]).catch(() => undefined);
  }
}

/**
 * The source's resume point recorded in Kafka itself: the highest `tributary-watermark` header
 * among the last record of each partition. Every event at or below it was acknowledged before
 * that record was produced, so resuming after it loses nothing, even when the state row lags.
 * Read with plain requests on shared connections (RawKafka.lastRecords): a thousand sources
 * starting at once no longer each join and delete a throwaway consumer group.
 */
export async function watermarkInKafka(raw: RawKafka, topic: string, header: string): Promise<string | undefined> {
  let best: bigint | undefined;
  for (const m of (await raw.lastRecords(topic)).values()) {
    const v = m.headers?.[header];
    const text = v === undefined || v === null ? undefined : Buffer.isBuffer(v) ? v.toString() : String(v);
    if (text && /^\d+$/.test(text) && (best === undefined || BigInt(text) > best)) best = BigInt(text);
  }
  return best?.toString();
}
