import test from 'ava';
import { CompressionTypes } from 'kafkajs';
import { eventually, testKafka, uniq } from '../../helpers/infra.js';

test('the embedded broker takes an idempotent produce and a group consume with commit', async (t) => {
  const kafka = testKafka();
  const topic = uniq('roundtrip');
  const groupId = uniq('group');
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  t.true(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true }));

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
  await producer.connect();
  const messages = Array.from({ length: 300 }, (_, i) => ({
    key: `device-${i % 7}`,
    value: JSON.stringify({ n: i }),
    headers: { 'event-id': `e${i}` },
  }));
  const acks = await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages });
  await producer.disconnect();
  t.is(acks.reduce((n, a) => n + (a.errorCode === 0 ? 1 : 0), 0), acks.length);

  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = new Set<number>();
  const lastOffsets = new Map<number, string>();
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      seen.add((JSON.parse(message.value!.toString()) as { n: number }).n);
      t.is(message.headers?.['event-id']?.toString().startsWith('e'), true);
      lastOffsets.set(partition, message.offset);
    },
  });
  await eventually(() => (seen.size === 300 ? true : undefined), 30_000, 'all 300 records consumed');
  await consumer.commitOffsets(
    [...lastOffsets].map(([partition, offset]) => ({ topic, partition, offset: String(Number(offset) + 1) })),
  );
  await consumer.disconnect();

  const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
  const total = committed[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0);
  t.is(total, 300, 'committed offsets cover every record');
});
