// The ListOffsets request body the offset watcher and the sinks' start-up send (listOffsetsBody in
// src/kafka/raw-kafka.ts), against kafkajs's own encoders of the same request: byte for byte, for
// every version it writes (1–3), any topics and partitions. No broker: the integration suites
// (raw-kafka, offset-watcher) send it to a real one, which would refuse a malformed request.
import test from 'ava';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { EARLIEST, LATEST, listOffsetsBody, type TopicPartitions } from '../../../src/kafka/raw-kafka.js';

const require = createRequire(import.meta.url);
type Versions = { protocol(o: { version: number }): (args: object) => { request: { encode(): Promise<{ buffer: Buffer }> } } };
const listOffsets = require('kafkajs/src/protocol/requests/listOffsets/index.js') as Versions;

/** kafkajs's body for these topics at `timestamp`, as a ListOffsets request of `version`. */
async function kafkajsBody(version: number, topics: readonly TopicPartitions[], timestamp: number, isolationLevel: number): Promise<Buffer> {
  const args = { replicaId: -1, isolationLevel, topics: topics.map(({ topic, partitions }) => ({ topic, partitions: partitions.map((partition) => ({ partition, timestamp })) })) };
  return (await listOffsets.protocol({ version })(args).request.encode()).buffer;
}

async function ourBody(version: number, topics: readonly TopicPartitions[], timestamp: number, isolationLevel: number): Promise<Buffer | undefined> {
  const encode = listOffsetsBody(topics, timestamp, isolationLevel)(version);
  return encode ? ((await encode()) as unknown as { buffer: Buffer }).buffer : undefined;
}

// Kafka's legal topic names, plus non-ASCII to check lengths are bytes, not characters.
const topicName = fc.stringMatching(/^[a-zA-Z0-9._\-é✓]{1,60}$/);
const topics = fc.array(
  fc.record({ topic: topicName, partitions: fc.uniqueArray(fc.integer({ min: 0, max: 2_000 }), { maxLength: 12 }) }),
  { maxLength: 40 },
);

test('versions 1–3: the same bytes as kafkajs writes, for any topics, partitions, timestamp and isolation level', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(1, 2, 3),
      topics,
      fc.oneof(fc.constantFrom(LATEST, EARLIEST), fc.integer({ min: 0, max: 2 ** 47 })),
      fc.constantFrom(0, 1),
      async (version, tps, timestamp, isolationLevel) => {
        const ours = await ourBody(version, tps, timestamp, isolationLevel);
        t.deepEqual(ours, await kafkajsBody(version, tps, timestamp, isolationLevel));
      },
    ),
    { numRuns: 300 },
  );
});

test('a thousand parked topics in one request: the same bytes as kafkajs writes', async (t) => {
  const tps = Array.from({ length: 1_000 }, (_, i) => ({ topic: `tributary.events.int-${i}`, partitions: i % 10 === 0 ? [0, 1, 2, 3, 4, 5] : [0] }));
  for (const version of [1, 2, 3]) t.deepEqual(await ourBody(version, tps, LATEST, 0), await kafkajsBody(version, tps, LATEST, 0), `v${version}`);
});

test('version 0 (max_num_offsets per partition) and versions past 3 are left to kafkajs', (t) => {
  const body = listOffsetsBody([{ topic: 'a', partitions: [0] }], LATEST, 0);
  t.is(body(0), undefined);
  t.is(body(4), undefined);
  t.truthy(body(1));
});
