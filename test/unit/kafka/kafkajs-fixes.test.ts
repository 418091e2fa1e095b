// The kafkajs fixes, on kafkajs's own RequestQueue class (no broker needed: the queue only
// schedules and sends through the callbacks it is given).
import test from 'ava';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import * as fixes from '../../../src/kafka/kafkajs-fixes.js';
import { applyKafkajsFixes, kafkajsBrokerPool, kafkajsCluster, kafkajsCrc32cPath, kafkajsEncoder, kafkajsRequestQueue, nativeCrc32c } from '../../../src/kafka/kafkajs-fixes.js';

const require = createRequire(import.meta.url);

type Entry = { correlationId: number; resolve: (v: unknown) => void; reject: (e: unknown) => void };
const entry = (correlationId: number): Entry => ({ correlationId, resolve: () => undefined, reject: () => undefined });

type Queue = {
  pending: unknown[];
  inflight: Map<number, unknown>;
  throttledUntil: number;
  throttleCheckTimeoutId: unknown;
  push(r: { entry: Entry; expectResponse: boolean; sendRequest: () => void }): void;
  fulfillRequest(r: { correlationId: number; payload: Buffer | null; size: number }): void;
  maybeThrottle(ms: number): void;
  destroy(): void;
};

const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
function queue(maxInFlightRequests: number | null = null): Queue {
  const RequestQueue = kafkajsRequestQueue() as unknown as new (o: object) => Queue;
  return new RequestQueue({ maxInFlightRequests, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 'test', broker: 'b:1', logger });
}
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

applyKafkajsFixes();

test('an idle connection arms no timer after a response (kafkajs armed a 1 ms timer that re-armed itself forever)', async (t) => {
  const q = queue();
  t.teardown(() => q.destroy());
  let sent = 0;
  q.push({ entry: entry(1), expectResponse: true, sendRequest: () => void (sent += 1) });
  t.is(sent, 1);
  q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
  t.is(q.throttleCheckTimeoutId, null, 'nothing waits, nothing scheduled');
  await wait(20);
  t.is(q.throttleCheckTimeoutId, null);
});

test('a request that waits for a throttle to end is still sent when it ends', async (t) => {
  const q = queue();
  t.teardown(() => q.destroy());
  q.maybeThrottle(60);
  let sentAt = 0;
  const from = Date.now();
  q.push({ entry: entry(7), expectResponse: true, sendRequest: () => void (sentAt = Date.now()) });
  t.is(sentAt, 0, 'throttled: queued');
  t.not(q.throttleCheckTimeoutId, null);
  await wait(150);
  t.true(sentAt - from >= 55, `sent after ${sentAt - from} ms`);
  t.is(q.pending.length, 0);
});

test('a request queued behind the in-flight limit goes out when the response frees a slot; then no timer stays armed', async (t) => {
  const q = queue(1);
  t.teardown(() => q.destroy());
  const sent: number[] = [];
  q.push({ entry: entry(1), expectResponse: true, sendRequest: () => void sent.push(1) });
  q.push({ entry: entry(2), expectResponse: true, sendRequest: () => void sent.push(2) });
  t.deepEqual(sent, [1]);
  q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
  t.deepEqual(sent, [1, 2]);
  q.fulfillRequest({ correlationId: 2, payload: null, size: 0 });
  await wait(30); // the check armed while request 2 waited fires once, finds nothing, re-arms nothing
  t.is(q.throttleCheckTimeoutId, null);
});

// kafkajs's own checksum, byte at a time (the module it wraps, loaded by path, never patched).
const jsCrc32c = (b: Buffer) => (require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (b: Buffer) => number)(b) >>> 0;

test('native CRC32C equals kafkajs\'s on any bytes, and kafkajs loads it for its record batches', async (t) => {
  const native = nativeCrc32c();
  if (!native) return t.fail('@node-rs/crc32 did not load on this machine');
  fc.assert(fc.property(fc.uint8Array({ maxLength: 5_000 }), (bytes) => native(Buffer.from(bytes)) === jsCrc32c(Buffer.from(bytes))), { numRuns: 1_000 });
  t.is(native(Buffer.from('123456789')), 0xe3069283, 'the CRC-32C check value');
  t.is(fixes.kafkajsCrc32c, 'native');
  t.is(require(kafkajsCrc32cPath), require.cache[kafkajsCrc32cPath]!.exports);
  // A record batch as kafkajs encodes it: its CRC field is the checksum of everything after it.
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (o: object) => Promise<{ buffer: Buffer }> };
  const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (o: object) => unknown;
  const value = Buffer.alloc(70_000, 7);
  const batch = (await RecordBatch({ records: [Record({ key: Buffer.from('k'), value, headers: { h: 'v' } })] })).buffer;
  // firstOffset int64, length int32, partitionLeaderEpoch int32, magic int8, crc uint32, then the checked body.
  t.is(batch.readUInt32BE(17), jsCrc32c(batch.subarray(21)));
});

test('kafkajs\'s Encoder grows without zero-filling and still returns exactly what was written', (t) => {
  const Encoder = kafkajsEncoder() as unknown as new (size?: number) => { writeBytes(b: Buffer): unknown; writeInt32(n: number): unknown; buffer: Buffer };
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 3_000 }), { maxLength: 30 }), (parts) => {
      const e = new Encoder(16);
      const expected: Buffer[] = [];
      for (const p of parts) {
        e.writeBytes(Buffer.from(p));
        const len = Buffer.alloc(4);
        len.writeInt32BE(p.length);
        expected.push(len, Buffer.from(p));
      }
      return e.buffer.equals(Buffer.concat(expected));
    }),
  );
  t.pass();
});

// The metadata lookups, on kafkajs's own BrokerPool and Cluster methods with a minimal `this`.
type Md = { topicMetadata: { topic: string; partitionMetadata: unknown[] }[] };
const metadataOf = (...topics: string[]): Md => ({ topicMetadata: topics.map((topic) => ({ topic, partitionMetadata: [{ partitionId: 0, leader: 1 }] })) });

function pool(metadata: Md | null, expireAt: number | null = Date.now() + 60_000) {
  const refreshed: string[][] = [];
  const self = {
    metadata,
    metadataExpireAt: expireAt,
    async refreshMetadata(topics: string[]) {
      refreshed.push(topics);
      self.metadata = metadataOf(...new Set([...(self.metadata?.topicMetadata.map((m) => m.topic) ?? []), ...topics]));
    },
  };
  const ifNecessary = (topics: string[]) => (kafkajsBrokerPool().prototype as unknown as { refreshMetadataIfNecessary(this: unknown, t: string[]): Promise<void> }).refreshMetadataIfNecessary.call(self, topics);
  return { self, refreshed, ifNecessary };
}

test('metadata is refreshed when missing, expired or lacking a topic, as kafkajs does, and not otherwise', async (t) => {
  const topics = Array.from({ length: 3_000 }, (_, i) => `tributary.events.integration-${i}`);
  const fresh = pool(metadataOf(...topics));
  await fresh.ifNecessary(topics);
  await fresh.ifNecessary([topics[2_999]!]);
  t.deepEqual(fresh.refreshed, [], 'every topic known, metadata fresh');
  await fresh.ifNecessary([...topics, 'tributary.events.new']);
  t.deepEqual(fresh.refreshed, [[...topics, 'tributary.events.new']], 'an unknown topic refreshes');
  // The refresh replaced the metadata: its index is the new one.
  await fresh.ifNecessary(['tributary.events.new']);
  t.is(fresh.refreshed.length, 1);

  const none = pool(null);
  await none.ifNecessary(['a']);
  t.deepEqual(none.refreshed, [['a']], 'no metadata yet');
  const expired = pool(metadataOf('a'), Date.now() - 1);
  await expired.ifNecessary(['a']);
  t.deepEqual(expired.refreshed, [['a']], 'past metadataMaxAge');
  const unset = pool(metadataOf('a'), null);
  await unset.ifNecessary(['a']);
  t.deepEqual(unset.refreshed, [['a']]);
});

test('a send to known topics skips the target-set bookkeeping; a new topic still goes through kafkajs', async (t) => {
  const Cluster = kafkajsCluster().prototype as unknown as {
    addMultipleTargetTopics(this: unknown, topics: string[]): Promise<void>;
    findTopicPartitionMetadata(this: unknown, topic: string): unknown[];
  };
  const { self: brokerPool, refreshed } = pool(metadataOf('a', 'b'));
  let locks = 0;
  const cluster = {
    brokerPool,
    targetTopics: new Set(['a', 'b']),
    mutatingTargetTopics: { acquire: async () => void locks++, release: async () => undefined },
    refreshMetadata: () => brokerPool.refreshMetadata([...cluster.targetTopics]),
  };
  await Cluster.addMultipleTargetTopics.call(cluster, ['a', 'b']);
  t.is(locks, 0, 'known topics: no lock, no copy, no refresh');
  t.deepEqual(refreshed, []);
  await Cluster.addMultipleTargetTopics.call(cluster, ['a', 'c']);
  t.is(locks, 1, "a new topic takes kafkajs's own path");
  t.deepEqual([...cluster.targetTopics], ['a', 'b', 'c']);
  t.deepEqual(refreshed, [['a', 'b', 'c']]);
  // A target whose metadata has not arrived yet (a refresh failed, say) is not skipped either.
  cluster.targetTopics.add('d');
  await Cluster.addMultipleTargetTopics.call(cluster, ['d']);
  t.is(locks, 2);

  t.deepEqual(Cluster.findTopicPartitionMetadata.call(cluster, 'c'), [{ partitionId: 0, leader: 1 }]);
  t.deepEqual(Cluster.findTopicPartitionMetadata.call(cluster, 'nope'), []);
  const error = t.throws(() => Cluster.findTopicPartitionMetadata.call({ brokerPool: { metadata: null } }, 'a'));
  t.regex(error!.message, /metadata not loaded/i);
});

test("a send walks the producer's target topics only when the metadata or the target set changed since they last matched", async (t) => {
  const { createLogger, LEVELS } = require('kafkajs/src/loggers/index.js') as { createLogger(o: object): unknown; LEVELS: { NOTHING: number } };
  type RealCluster = { brokerPool: unknown; targetTopics: Set<string>; refreshMetadataIfNecessary(): Promise<void> };
  const Cluster = kafkajsCluster() as unknown as new (o: object) => RealCluster;
  // kafkajs's own Cluster (nothing connects), on a pool whose metadata and refresh are the test's.
  const cluster = new Cluster({ logger: createLogger({ level: LEVELS.NOTHING, logCreator: () => () => undefined }), brokers: ['127.0.0.1:1'], clientId: 'test', retry: { retries: 0 } });
  const { self, refreshed } = pool(metadataOf('a', 'b'));
  const BrokerPool = kafkajsBrokerPool().prototype as unknown as { refreshMetadataIfNecessary(this: unknown, t: string[]): Promise<void> };
  const walks: string[][] = [];
  cluster.brokerPool = Object.setPrototypeOf(
    Object.assign(self, {
      refreshMetadataIfNecessary(this: unknown, topics: string[]) {
        walks.push(topics);
        return BrokerPool.refreshMetadataIfNecessary.call(this, topics);
      },
    }),
    BrokerPool,
  );
  cluster.targetTopics = new Set(['a', 'b']);

  await cluster.refreshMetadataIfNecessary();
  t.is(walks.length, 1, 'the first send walks the targets');
  await cluster.refreshMetadataIfNecessary();
  await cluster.refreshMetadataIfNecessary();
  t.is(walks.length, 1, 'nothing changed: no walk');
  t.deepEqual(refreshed, []);

  cluster.targetTopics.add('c');
  await cluster.refreshMetadataIfNecessary();
  t.is(walks.length, 2, 'a new target: walked');
  t.deepEqual(refreshed, [['a', 'b', 'c']], 'and refreshed, as kafkajs does');
  await cluster.refreshMetadataIfNecessary();
  t.is(walks.length, 2, 'the new metadata covers it: no walk');

  // kafkajs rolls a failed addition back by swapping in another set (here of the same size).
  cluster.targetTopics = new Set(['a', 'b', 'd']);
  await cluster.refreshMetadataIfNecessary();
  t.is(walks.length, 3, 'another set: walked');
  t.deepEqual(refreshed[1], ['a', 'b', 'd']);

  self.metadataExpireAt = Date.now() - 1;
  await cluster.refreshMetadataIfNecessary();
  t.is(walks.length, 4, 'expired metadata: walked');
  t.is(refreshed.length, 3, 'and refreshed');
});
