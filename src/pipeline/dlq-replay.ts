// Re-drives an integration's dead-letter topic through its sink: records that failed delivery
// (stage `send`) are delivered again; those the sink still rejects go back to the DLQ with one
// more attempt. Progress is a consumer group (`tributary.dlq-replay.<id>`) committed after each
// chunk, and the run stops at the end offsets seen when it started, so running it twice replays
// each record at most once more. A `--reason` filter has its own group: records it skips stay
// available to a later unfiltered replay.
import type { Admin, Kafka } from 'kafkajs';
import { errorMessage } from '../errors.js';
import type { RecordProducer } from '../kafka/produce-queue.js';
import { committedOffsets } from '../kafka/tail-reader.js';
import { groups, headers as H, topics } from '../kafka/topics.js';
import type { Logger } from '../observability/logger.js';
import type { EventRecord, RecordOutcome, Sink } from '../sinks/types.js';
import { dlqFromRejected } from './dlq.js';
import { fromKafkaMessage, header } from './event-record.js';

export interface DlqReplayOptions {
  integrationId: string;
  kafka: Kafka;
  admin: Admin;
  producer: RecordProducer;
  sink: Sink;
  logger: Logger;
  /** Only records whose error class or code equals this (e.g. `permanent`, `sink_rejected`). */
  reason?: string;
  timeoutMs?: number;
}

export interface DlqReplayReport {
  considered: number;
  skipped: number;
  delivered: number;
  rejectedAgain: number;
  /** Poison lines from Connect (stage `receive`): raw text, not events; never re-driven. */
  notEvents: number;
}

export async function replayDlq(o: DlqReplayOptions): Promise<DlqReplayReport> {
  const topic = topics.dlq(o.integrationId);
  const groupId = o.reason ? `${groups.dlqReplay(o.integrationId)}.${o.reason.replace(/[^a-zA-Z0-9_-]/g, '_')}` : groups.dlqReplay(o.integrationId);
  const report: DlqReplayReport = { considered: 0, skipped: 0, delivered: 0, rejectedAgain: 0, notEvents: 0 };
  const ends = new Map((await o.admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  const committed = await committedOffsets(o.admin, groupId, topic);
  const pending = new Set<number>();
  for (const p of committed[0]?.partitions ?? []) {
    const from = BigInt(p.offset) < 0n ? 0n : BigInt(p.offset);
    if (from < (ends.get(p.partition) ?? 0n)) pending.add(p.partition);
  }
  for (const [partition, end] of ends) if (end > 0n && !committed[0]?.partitions.some((p) => p.partition === partition)) pending.add(partition);
  if (pending.size === 0) return report;

  const consumer = o.kafka.consumer({ groupId, sessionTimeout: 15_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 200 });
  let finish!: () => void;
  let fail!: (err: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const timer = setTimeout(() => fail(new Error(`DLQ replay of ${o.integrationId} did not finish within ${o.timeoutMs ?? 120_000} ms`)), o.timeoutMs ?? 120_000);
  const abort = new AbortController();
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    consumer.on(consumer.events.CRASH, (e) => fail(e.payload.error));
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        const end = ends.get(batch.partition) ?? 0n;
        const records: EventRecord[] = [];
        const priorAttempts = new Map<string, number>();
        let last: string | undefined;
        for (const m of batch.messages) {
          if (BigInt(m.offset) >= end) break;
          last = m.offset;
          report.considered += 1;
          if (header(m.headers, H.stage) !== 'send') {
            report.notEvents += 1;
            continue;
          }
          if (o.reason && header(m.headers, H.errorClass) !== o.reason && header(m.headers, H.errorCode) !== o.reason) {
            report.skipped += 1;
            continue;
          }
          try {
            const r = fromKafkaMessage(o.integrationId, batch.partition, m);
            priorAttempts.set(r.eventId, Number(header(m.headers, H.attempts) ?? 1));
            records.push(r);
          } catch {
            report.notEvents += 1;
          }
        }
        for (let i = 0; i < records.length; i += o.sink.limits.maxBatchEvents) {
          const chunk = records.slice(i, i + o.sink.limits.maxBatchEvents);
          const { outcomes } = await o.sink.write(chunk, abort.signal);
          const again = chunk.flatMap((r, k) => (outcomes[k]!.status === 'rejected' ? [dlqFromRejected(r, outcomes[k] as Extract<RecordOutcome, { status: 'rejected' }>)] : []));
          // Attempts accumulate across replays, so a record that keeps failing is visible as such.
          for (const m of again) {
            const id = String(m.headers?.[H.eventId]);
            m.headers![H.attempts] = String((priorAttempts.get(id) ?? 1) + Number(m.headers![H.attempts] ?? 1));
          }
          if (again.length) await o.producer.send(topic, again);
          report.rejectedAgain += again.length;
          report.delivered += chunk.length - again.length;
          await heartbeat();
        }
        if (last !== undefined) {
          resolveOffset(last);
          await consumer.commitOffsets([{ topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
        }
        if (last === undefined || BigInt(last) + 1n >= end) {
          pending.delete(batch.partition);
          if (pending.size === 0) finish();
        }
      },
    });
    await done;
  } catch (err) {
    o.logger.error({ integrationId: o.integrationId, err: errorMessage(err) }, 'DLQ replay failed');
    throw err;
  } finally {
    clearTimeout(timer);
    abort.abort();
    await consumer.disconnect().catch(() => undefined);
  }
  return report;
}
