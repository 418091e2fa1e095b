// Fixes to kafkajs 2.2.4 (its last release; the project is unmaintained) applied once, when the
// node's Kafka module loads. Each one is a known, reported bug with a test of its own here.
//
// 1. Idle connections spin (kafkajs issues #1556, #1704; fix PRs #1667, #1768 never merged).
//    After every response, RequestQueue.scheduleCheckPendingRequests arms a timer even when no
//    request waits; with the default `throttledUntil = -1` its delay is negative, i.e. 1 ms, and
//    the timer re-arms itself forever. Every connection of every consumer therefore runs a 1 ms
//    timer loop for its whole life: with one consumer per integration, 1,000 integrations (2,000
//    connections) kept a core busy doing nothing. A check is only needed while requests wait
//    (they enter `pending` through `push`, which schedules one), so the fixed version schedules
//    nothing when the queue is empty, and otherwise waits out the throttle (at least 10 ms, as
//    kafkajs does, so a throttle ending this very millisecond is still checked: PR #1532).
//
// 2. Produce spends most of its time on two things per byte. Measured in scenario 1 with packed
//    records, where kafkajs's record-batch encoding was a quarter of the node's time:
//    - kafkajs's CRC32C is pure JS, one table lookup per byte: 2.3 ns/byte, a third of that quarter.
//      It is replaced by @node-rs/crc32 (SSE4.2 in native code, 0.1 ns/byte, the same checksum; the
//      broker refuses a batch whose CRC is wrong, so every produce test checks it). The replacement
//      goes in before kafkajs first loads its checksum module (it does so lazily, on the first
//      produce request). Where the native binding cannot load, kafkajs's own stays.
//    - kafkajs's Encoder copies each produced byte ~10 times, through nested encoders grown by
//      doubling, into buffers V8 counts as young external memory (forced scavenges). Its growth,
//      its buffer writes and its arrays are replaced, and its first buffer (512 zeroed bytes of
//      their own per encoder) is left empty: src/kafka/kafkajs-encoder.ts says how.
//
// 3. Every send scans the producer's whole topic list, twice (kafkajs issue #1605; PR #1612 was
//    never merged). Before each send, BrokerPool.refreshMetadataIfNecessary checks that every topic
//    the producer ever sent to is in the metadata with `every` over `some`: O(topics²) string
//    compares. The node's one producer writes every integration's topic, so with 1,000 of them
//    each send cost ~3 ms of CPU before any byte was encoded (`npm run bench:kafkajs-topics`:
//    3.25 → 0.60 ms), and the busy integrations paid it for the quiet ones (scenario 3).
//    Cluster.addMultipleTargetTopics copied the whole target set
//    per send too, and findTopicPartitionMetadata scans the list per topic sent. The fixed versions
//    look topics up in an index built once per metadata response (kafkajs replaces the metadata
//    object on every refresh and never edits it), and a send whose topics are all known already
//    skips the target-set bookkeeping: kafkajs would find nothing changed and refresh nothing.
//    That left one pass over the whole target set per send (a copy of it, then a lookup of each):
//    the cluster now remembers which metadata object it last found covering which target set at
//    which size, and a send with both unchanged (a set only grows; kafkajs swaps in another one
//    when it rolls an addition back) and the metadata fresh skips the pass.
import Module, { createRequire } from 'node:module';
import { adoptingWriteBytes, ensureAvailable, firstBufferSize, presizedWriteArray, writeBufferInternal, type EncoderLike } from './kafkajs-encoder.js';

interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

const require = createRequire(import.meta.url);
const checkPendingIntervalMs = 10;
const marker = Symbol.for('tributary.kafkajs.fixed');

/** The RequestQueue class kafkajs uses for every broker connection. */
export function kafkajsRequestQueue(): { prototype: RequestQueueLike } {
  return require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueueLike };
}

export function scheduleCheckPendingRequests(this: RequestQueueLike): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const throttledFor = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    throttledFor > 0 ? throttledFor : checkPendingIntervalMs,
  );
}

/** kafkajs's Encoder class (every request and record is written with one). */
export function kafkajsEncoder(): { prototype: EncoderLike; nextPowerOfTwo: (n: number) => number } {
  return require('kafkajs/src/protocol/encoder.js') as { prototype: EncoderLike; nextPowerOfTwo: (n: number) => number };
}

interface TopicMetadataLike {
  topic: string;
  partitionMetadata: unknown[];
}

interface BrokerPoolLike {
  metadata: { topicMetadata: TopicMetadataLike[] } | null;
  metadataExpireAt: number | null;
  refreshMetadata(topics: string[]): Promise<void>;
  refreshMetadataIfNecessary(topics: string[]): Promise<void>;
}

interface ClusterLike {
  brokerPool: BrokerPoolLike;
  targetTopics: Set<string>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  findTopicPartitionMetadata(topic: string): unknown[];
  refreshMetadataIfNecessary(): Promise<void>;
}

/** kafkajs's BrokerPool and Cluster classes (one of each per client). */
export function kafkajsBrokerPool(): { prototype: BrokerPoolLike } {
  return require('kafkajs/src/cluster/brokerPool.js') as { prototype: BrokerPoolLike };
}

export function kafkajsCluster(): { prototype: ClusterLike } {
  return require('kafkajs/src/cluster/index.js') as { prototype: ClusterLike };
}

/** Topic name → its metadata, per metadata response (the array kafkajs decoded it into). */
const topicIndexes = new WeakMap<TopicMetadataLike[], Map<string, TopicMetadataLike>>();

function topicIndex(topicMetadata: TopicMetadataLike[]): Map<string, TopicMetadataLike> {
  let index = topicIndexes.get(topicMetadata);
  if (!index) {
    index = new Map(topicMetadata.map((t) => [t.topic, t]));
    topicIndexes.set(topicMetadata, index);
  }
  return index;
}

function knowsAll(pool: BrokerPoolLike, topics: Iterable<string>): boolean {
  if (!pool.metadata) return false;
  const index = topicIndex(pool.metadata.topicMetadata);
  for (const topic of topics) if (!index.has(topic)) return false;
  return true;
}

/** kafkajs's rule (missing, expired, or a topic it has no metadata for), with an indexed lookup. */
function refreshMetadataIfNecessary(this: BrokerPoolLike, topics: string[]): Promise<void> {
  const stale = this.metadataExpireAt == null || Date.now() > this.metadataExpireAt;
  if (stale || !knowsAll(this, topics)) return this.refreshMetadata(topics);
  return Promise.resolve();
}

function findTopicPartitionMetadata(this: ClusterLike, topic: string): unknown[] {
  // kafkajs's own error when nothing is loaded yet.
  if (!this.brokerPool.metadata?.topicMetadata) return originalFindTopicPartitionMetadata!.call(this, topic);
  return topicIndex(this.brokerPool.metadata.topicMetadata).get(topic)?.partitionMetadata ?? [];
}

/** Per cluster: the metadata object last found to know every target, the target set then, and its size. */
const coveredTargets = new WeakMap<ClusterLike, { metadata: object; targets: Set<string>; size: number }>();

function coversTargets(cluster: ClusterLike): boolean {
  const { metadata, metadataExpireAt } = cluster.brokerPool;
  if (!metadata || metadataExpireAt == null || Date.now() > metadataExpireAt) return false;
  const c = coveredTargets.get(cluster);
  return c !== undefined && c.metadata === metadata && c.targets === cluster.targetTopics && c.size === cluster.targetTopics.size;
}

function withCoveredTargets(original: ClusterLike['refreshMetadataIfNecessary']): ClusterLike['refreshMetadataIfNecessary'] {
  return async function refreshMetadataIfNecessary(this: ClusterLike): Promise<void> {
    if (coversTargets(this)) return;
    await original.call(this);
    const pool = this.brokerPool;
    if (pool.metadata && knowsAll(pool, this.targetTopics)) coveredTargets.set(this, { metadata: pool.metadata, targets: this.targetTopics, size: this.targetTopics.size });
  };
}

let originalFindTopicPartitionMetadata: ClusterLike['findTopicPartitionMetadata'] | undefined;

function withTargetTopics(original: ClusterLike['addMultipleTargetTopics']): ClusterLike['addMultipleTargetTopics'] {
  return function addMultipleTargetTopics(this: ClusterLike, topics: string[]): Promise<void> {
    // Already targets, already in the metadata: kafkajs would find nothing changed. (A refresh in
    // flight for other topics is not waited for; these topics do not need it.)
    if (topics.every((t) => this.targetTopics.has(t)) && knowsAll(this.brokerPool, topics)) return Promise.resolve();
    return original.call(this, topics);
  };
}

/** The module path kafkajs loads its record-batch checksum from. */
export const kafkajsCrc32cPath = require.resolve('kafkajs/src/protocol/recordBatch/crc32C/index.js');

/** Native CRC32C as kafkajs's checksum module exports it (unsigned), or undefined where the binding cannot load. */
export function nativeCrc32c(): ((buffer: Buffer) => number) | undefined {
  try {
    const { crc32c } = require('@node-rs/crc32') as { crc32c(input: Buffer, initial?: number): number };
    return (buffer) => crc32c(buffer) >>> 0;
  } catch {
    return undefined;
  }
}

/** Which checksum kafkajs produces with: 'native' once the fix is in, 'kafkajs' if it loaded its own first (or no binding). */
export let kafkajsCrc32c: 'native' | 'kafkajs' = 'kafkajs';

/** Applies the fixes (idempotent). */
export function applyKafkajsFixes(): void {
  const proto = kafkajsRequestQueue().prototype as RequestQueueLike & { [marker]?: true };
  if (proto[marker]) return;
  proto.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  const encoderClass = kafkajsEncoder();
  encoderClass.nextPowerOfTwo = firstBufferSize;
  const encoder = encoderClass.prototype;
  encoder.ensureAvailable = ensureAvailable;
  encoder.writeBufferInternal = writeBufferInternal;
  encoder.writeArray = presizedWriteArray(encoder.writeArray);
  encoder.writeBytes = adoptingWriteBytes(encoder.writeBytes);
  kafkajsBrokerPool().prototype.refreshMetadataIfNecessary = refreshMetadataIfNecessary;
  const cluster = kafkajsCluster().prototype;
  originalFindTopicPartitionMetadata = cluster.findTopicPartitionMetadata;
  cluster.findTopicPartitionMetadata = findTopicPartitionMetadata;
  cluster.addMultipleTargetTopics = withTargetTopics(cluster.addMultipleTargetTopics);
  cluster.refreshMetadataIfNecessary = withCoveredTargets(cluster.refreshMetadataIfNecessary);
  const crc = nativeCrc32c();
  if (crc && !require.cache[kafkajsCrc32cPath]) {
    const m = new Module(kafkajsCrc32cPath);
    m.filename = kafkajsCrc32cPath;
    m.loaded = true;
    m.exports = crc;
    require.cache[kafkajsCrc32cPath] = m;
    kafkajsCrc32c = 'native';
  }
  proto[marker] = true;
}
