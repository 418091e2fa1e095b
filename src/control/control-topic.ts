// The control topic: `tributary.control` (compacted, keyed by integration id, value = spec JSON
// or a tombstone) and `tributary.control.rejected` (why a record was refused). Creation with the
// right config, a one-off read of the whole topic (the CLI's view of the desired state) and writes.
import { randomBytes } from 'node:crypto';
import { CompressionTypes, Partitioners, type Admin, type Kafka, type Producer } from 'kafkajs';
import { errorMessage, ErrorCode, TributaryError } from '../errors.js';
import { ensureTopic } from '../kafka/kafka.js';
import { groups, type ControlNames } from '../kafka/topics.js';
import type { ControlRecord } from './control-record.js';

/** Rejections are an audit trail (not compacted): kept this long. */
export const REJECTED_RETENTION_MS = 30 * 86_400_000;

export async function ensureControlTopics(admin: Admin, names: ControlNames, partitions: number): Promise<void> {
  await ensureTopic(admin, {
    topic: names.topic,
    partitions,
    compacted: true,
    extraConfig: {
      // Tombstones stay a day so a node rebuilding a partition still sees recent deletes.
      'delete.retention.ms': String(86_400_000),
      'min.cleanable.dirty.ratio': '0.1',
      'segment.ms': String(3_600_000),
      // Compressed batch limit; documents over 64 KiB are refused by the nodes with a reason.
      'max.message.bytes': String(1_048_576),
    },
  });
  await ensureTopic(admin, { topic: names.rejected, partitions: Math.min(partitions, 3), retentionMs: REJECTED_RETENTION_MS });
  await ensureFlagsTopic(admin, names);
}

/** The flags topic: one partition (a handful of records, read whole by every node), compacted. */
export async function ensureFlagsTopic(admin: Admin, names: ControlNames): Promise<void> {
  await ensureTopic(admin, {
    topic: names.flags,
    partitions: 1,
    compacted: true,
    extraConfig: { 'delete.retention.ms': String(86_400_000), 'min.cleanable.dirty.ratio': '0.1', 'segment.ms': String(3_600_000) },
  });
}

export interface ControlSnapshot {
  /** Newest record per key (tombstones included, as value null). */
  latest: Map<string, ControlRecord>;
  /** Records read. */
  records: number;
  /** With `keepAll`: every record read, in offset order per partition. */
  all: ControlRecord[];
}

/**
 * Reads every partition of a compacted control-plane topic (the control topic, the flags topic)
 * from its low to its high watermark (as of the call) with a throwaway consumer group, deleted
 * afterwards. A partition with no record for `idleMs` counts as read (its tail may have been
 * compacted away).
 */
export async function readControlTopic(kafka: Kafka, admin: Admin, topic: string, o: { timeoutMs?: number; idleMs?: number; keepAll?: boolean } = {}): Promise<ControlSnapshot> {
  const snapshot: ControlSnapshot = { latest: new Map(), records: 0, all: [] };
  const existing = await admin.listTopics();
  if (!existing.includes(topic)) return snapshot;
  const offsets = await admin.fetchTopicOffsets(topic);
  const targets = new Map(offsets.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]));
  if (targets.size === 0) return snapshot;
  const groupId = groups.controlReader(randomBytes(6).toString('hex'));
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 100, retry: { retries: 5 } });
  const timeoutMs = o.timeoutMs ?? 60_000;
  const idleMs = o.idleMs ?? 3_000;
  let lastProgress = Date.now();
  let finish!: () => void;
  let fail!: (err: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const deadline = setTimeout(() => fail(new TributaryError(ErrorCode.kafkaUnavailable, `reading ${topic} took longer than ${timeoutMs} ms`)), timeoutMs);
  let joined = false;
  const idle = setInterval(() => {
    if (joined && Date.now() - lastProgress >= idleMs) finish();
  }, 200);
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    consumer.on(consumer.events.CRASH, (e) => fail(e.payload.error));
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joined = true;
      lastProgress = Date.now();
    });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const target = targets.get(batch.partition);
        if (target === undefined) return;
        lastProgress = Date.now();
        for (const m of batch.messages) {
          if (BigInt(m.offset) >= target) break;
          snapshot.records += 1;
          const key = m.key?.toString('utf8') ?? '';
          const record = { partition: batch.partition, offset: m.offset, key, value: m.value, timestamp: m.timestamp };
          snapshot.latest.set(key, record);
          if (o.keepAll) snapshot.all.push(record);
        }
        const last = batch.messages.length ? BigInt(batch.messages[batch.messages.length - 1]!.offset) : -1n;
        if (last + 1n >= target) {
          targets.delete(batch.partition);
          if (targets.size === 0) finish();
        }
      },
    });
    await done;
  } catch (err) {
    throw err instanceof TributaryError ? err : new TributaryError(ErrorCode.kafkaUnavailable, `cannot read ${topic}: ${errorMessage(err)}`, { cause: err });
  } finally {
    clearTimeout(deadline);
    clearInterval(idle);
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  return snapshot;
}

export function createControlProducer(kafka: Kafka): Producer {
  // The default partitioner is Java-compatible murmur2: a key lands where other clients put it too.
  return kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
}

/** Writes a spec or flag (JSON text) or, with null, a tombstone; resolves when acknowledged by all replicas. */
export async function writeControlRecord(producer: Producer, topic: string, key: string, value: string | null): Promise<{ partition: number; offset: string }> {
  const [meta] = await producer.send({
    topic,
    acks: -1,
    compression: CompressionTypes.GZIP,
    messages: [{ key, value }],
  });
  return { partition: meta?.partition ?? -1, offset: meta?.baseOffset ?? '-1' };
}
