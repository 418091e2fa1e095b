// The node's produce queue against the real broker. The broker refuses a record batch (one
// partition's records in one request) above `message.max.bytes` (1 MiB by default), and the
// queue coalesces many source batches into one request; it must never build a request the
// broker refuses, and an idempotent producer whose sequence numbers fell out of step with the
// broker must be replaced rather than fail every later request.
import test, { type ExecutionContext } from 'ava';
import type { Message } from 'kafkajs';
import { createIdempotentProducer, ensureTopic } from '../../../src/kafka/kafka.js';
import { defaultMaxPartitionBytes, ProduceQueue, recordBytes, topicMaxMessageBytes } from '../../../src/kafka/produce-queue.js';
import { testKafka, uniq } from '../../helpers/infra.js';

function batch(n: number, valueBytes: number, tag: string): Message[] {
  return Array.from({ length: n }, (_, i) => ({
    key: 'device-1', // one key: every record of the topic lands in the same partition
    value: `${tag}-${i}-`.padEnd(valueBytes, 'x'),
    headers: { 'tributary-event-id': `${tag}-${i}`.padEnd(36, '0'), 'tributary-ingested-at': new Date().toISOString() },
  }));
}

/** A client and two single-partition topics of this test, made on the broker. */
async function twoTopics(t: ExecutionContext, a: string, b: string, extraConfig?: Record<string, string>) {
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const names = [uniq(a), uniq(b)] as const;
  for (const topic of names) await ensureTopic(admin, { topic, partitions: 1, retentionMs: 3_600_000, ...(extraConfig ? { extraConfig } : {}) });
  return { kafka, names };
}

async function topicSize(topic: string): Promise<number> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

test('batches coalesced into one request never exceed the broker record-batch limit of one partition', async (t) => {
  const {
    kafka,
    names: [big, small],
  } = await twoTopics(t, 'pq-big', 'pq-small');
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 3 } });
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const queue = new ProduceQueue(producer);

  // Six 400 KB batches of one partition and a small one of another topic, all queued at once:
  // 2.4 MB for one partition, more than twice what the broker takes in one record batch.
  const sends = [queue.send(small, batch(10, 100, 's0'))];
  for (let b = 0; b < 6; b++) sends.push(queue.send(big, batch(400, 1_000, `b${b}`)));
  await Promise.all(sends);
  // And the producer still works afterwards (its sequence numbers agree with the broker's).
  await queue.send(small, batch(10, 100, 's1'));
  await queue.send(big, batch(10, 100, 'b6'));
  t.is(await topicSize(big), 2_410);
  t.is(await topicSize(small), 20);
});

test('a producer out of step with the broker (kafkajs rolled back sequence numbers the broker kept) is replaced and nothing is lost', async (t) => {
  const {
    kafka,
    names: [ok, huge],
  } = await twoTopics(t, 'pq-ok', 'pq-huge');

  // Put a plain kafkajs producer out of step the way it happens in production: one request where
  // the broker writes one partition and refuses another. kafkajs rolls back the sequence numbers
  // of both, so its next batch to `ok` carries numbers the broker has already seen.
  const stale = createIdempotentProducer(kafka);
  await stale.connect();
  await t.throwsAsync(
    stale.sendBatch({ acks: -1, topicMessages: [{ topic: ok, messages: batch(5, 100, 'w') }, { topic: huge, messages: batch(1, 1_200_000, 'h') }] }),
    { message: /larger than the max message size/ },
  );
  t.is(await topicSize(ok), 5, 'the broker kept the batch of the other partition');
  await t.throwsAsync(stale.sendBatch({ acks: -1, topicMessages: [{ topic: ok, messages: batch(3, 100, 'probe') }] }), { message: /out of order sequence number/ });

  let made = 0;
  const replaced: string[] = [];
  const queue = new ProduceQueue(() => (made++ === 0 ? stale : createIdempotentProducer(kafka)), { onReplace: (r) => replaced.push(r) });
  t.teardown(() => queue.disconnect());
  await queue.connect();
  await queue.send(ok, batch(7, 100, 'x'));
  t.is(made, 2, 'a new producer took over');
  t.is(replaced.length, 1);
  await queue.send(ok, batch(4, 100, 'y'));
  t.is(await topicSize(ok), 16);
});

test('a Connect line at the 1 MiB line cap, with its headers, goes alone and its topic takes it; batches queued beside it are not held', async (t) => {
  const {
    kafka,
    names: [events, other],
  } = await twoTopics(t, 'pq-line', 'pq-other', { 'max.message.bytes': String(topicMaxMessageBytes) });
  const queue = new ProduceQueue(() => createIdempotentProducer(kafka));
  t.teardown(() => queue.disconnect());
  await queue.connect();
  const line = batch(1, 1024 * 1024, 'line'); // 1 MiB of value plus headers: over the broker's 1 MiB default
  t.true(recordBytes(line[0]!) > defaultMaxPartitionBytes);
  await Promise.all([queue.send(other, batch(5, 100, 'o1')), queue.send(events, line), queue.send(other, batch(5, 100, 'o2'))]);
  t.is(await topicSize(events), 1);
  t.is(await topicSize(other), 10);
});
