// An integration's events and DLQ topics on the test broker, with a client, an admin and the
// node's produce queue, for sink-runner tests that write envelope records and read them back.
import type { ExecutionContext } from 'ava';
import { ensureTopic } from '../../src/kafka/kafka.js';
import { ProduceQueue } from '../../src/kafka/produce-queue.js';
import { topics } from '../../src/kafka/topics.js';
import { envelopeOf } from '../../src/connect/event.js';
import { toKafkaMessage, toPackMessages, type PackLimits } from '../../src/pipeline/event-record.js';
import { testKafka } from './infra.js';

/** `pack`: write packed records (flag `source.packRecords`) within these limits, as the source would. */
export async function integrationTopics(t: ExecutionContext, integrationId: string, partitions: number, pack?: PackLimits) {
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  t.teardown(async () => {
    await producer.disconnect();
    await admin.disconnect();
  });
  const topic = topics.events(integrationId);
  await ensureTopic(admin, { topic, partitions, retentionMs: 3_600_000 });
  await ensureTopic(admin, { topic: topics.dlq(integrationId), partitions: 1, retentionMs: 3_600_000 });
  const queue = new ProduceQueue(producer);
  let n = 0;
  /** Writes `count` Connect events (numbered from 0 across calls) as the source would; `devices` spreads their keys. */
  const produce = async (count: number, devices = 1) => {
    const ctx = { integrationId, correlationId: `c${n}`, ingestedAt: new Date().toISOString() };
    const events = Array.from({ length: count }, () => {
      const i = n++;
      return {
        id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        offset: String(1_000 + i),
        type: 'CUSTOM',
        occurred: '2026-01-01T00:00:00.000Z',
        processed: '2026-01-01T00:00:00.000Z',
        device: { channel: `dev-${i % devices}` },
      };
    });
    await queue.send(
      topic,
      pack ? toPackMessages(events.map((event) => ({ event: envelopeOf(event), raw: Buffer.from(JSON.stringify(event)) })), ctx, partitions, pack) : events.map((e) => toKafkaMessage(envelopeOf(e), JSON.stringify(e), ctx)),
    );
    return events;
  };
  return { kafka, admin, queue, topic, produce };
}
