import { createRequire } from 'node:module';
import test from 'ava';
import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { keyPartition, murmur2 } from '../../../src/kafka/partitioner.js';

const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: string | Buffer) => number;

test('murmur2 equals kafkajs\'s (the Java client\'s) on any bytes', (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => murmur2(bytes) === kafkajsMurmur2(Buffer.from(bytes))), { numRuns: 2_000 });
  // Known value from the Java client's tests: murmur2("21") = -973932308.
  t.is(murmur2(Buffer.from('21')), -973932308);
});

test('keyPartition picks what kafkajs\'s default partitioner picks, for ASCII, UTF-8 and long keys', (t) => {
  const partitioner = Partitioners.DefaultPartitioner();
  const meta = (n: number) => Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
  fc.assert(
    fc.property(fc.oneof(fc.uuid(), fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ minLength: 257, maxLength: 400 })), fc.integer({ min: 1, max: 64 }), (key, n) =>
      keyPartition(key, n) === partitioner({ topic: 't', partitionMetadata: meta(n), message: { key, value: null } }),
    ),
    { numRuns: 2_000 },
  );
  t.pass();
});
