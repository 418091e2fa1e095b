// Kafka requests sent through kafkajs's own broker connections, for what kafkajs does not expose
// or answers badly at scale: a plain Fetch at given offsets, ListOffsets and Metadata for many
// topics at once, a commit without a group member. kafkajs parses every response by throwing
// the first partition error it finds (one deleted topic fails a request about a thousand), and its
// clients refresh the metadata of every topic they ever touched; these requests return each
// topic's own error code and ask only about the topics named. kafkajs 2.2.4 is unmaintained, so
// these internals do not move (src/kafka/kafkajs-fixes.ts relies on them the same way).
import { createRequire } from 'node:module';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { ErrorCode, TributaryError } from '../errors.js';

const require = createRequire(import.meta.url);

interface RawRequest {
  request: unknown;
  response: { decode(buffer: Buffer): Promise<unknown>; parse(data: unknown): Promise<unknown> };
}
export interface BrokerLike {
  lookupRequest(apiKey: number, definitions: unknown): (args: Record<string, unknown>) => RawRequest;
  /** Two connections: index 1 carries Fetch, index 0 the rest (kafkajs's connectionPool.js). */
  connectionPool: { send(req: RawRequest): Promise<unknown>; getConnection(index: number): Promise<unknown> };
  disconnect(): Promise<void>;
}
interface ClusterLike {
  findGroupCoordinator(o: { groupId: string }): Promise<CoordinatorLike>;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  getNodeIds(): number[];
  findBroker(o: { nodeId: string }): Promise<BrokerLike>;
}
export interface MetadataResponse {
  brokers: { nodeId: number }[];
  topicMetadata: { topicErrorCode: number; topic: string; partitionMetadata: { partitionErrorCode: number; partitionId: number; leader: number }[] }[];
}
export interface ListOffsetsResponse {
  responses: { topic: string; partitions: { partition: number; errorCode: number; offset?: string; offsets?: string[] }[] }[];
}
export interface FetchResponse {
  responses: { topicName: string; partitions: { partition: number; errorCode: number; highWatermark: string; abortedTransactions: unknown[]; messages: unknown[] }[] }[];
}
export interface CoordinatorLike {
  offsetFetch(o: { groupId: string; topics: { topic: string; partitions: { partition: number }[] }[] }): Promise<{
    responses: { topic: string; partitions: { partition: number; offset: string; errorCode: number }[] }[];
  }>;
  offsetCommit(o: { groupId: string; groupGenerationId: number; memberId: string; topics: { topic: string; partitions: { partition: number; offset: string }[] }[] }): Promise<unknown>;
}

export const { requests } = require('kafkajs/src/protocol/requests/index.js') as { requests: { Metadata: unknown; ListOffsets: unknown; Fetch: unknown } };
export const apiKeys = require('kafkajs/src/protocol/requests/apiKeys.js') as { Metadata: number; ListOffsets: number; Fetch: number };
/** kafkajs's fetch batch: drops records before the fetch offset (a batch starts earlier), control records and aborted ones. */
export const Batch = require('kafkajs/src/consumer/batch.js') as new (topic: string, fetchedOffset: string, partitionData: unknown) => { messages: KafkaMessage[] };
/** Kafka's "latest" timestamp in ListOffsets: the log end offset (high watermark). */
export const LATEST = -1;
/** Kafka's "earliest" timestamp in ListOffsets: the log start offset (after retention). */
export const EARLIEST = -2;
/** Bytes fetched per partition when reading its last record: more than any batch a source writes. */
const lastRecordFetchBytes = 16 * 1024 * 1024;
/** Topics per Metadata / ListOffsets request. */
export const chunkSize = 500;

/** The kafkajs Cluster behind a client, for requests kafkajs does not expose (see the header). */
function createCluster(kafka: Kafka): ClusterLike {
  const key = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const create = key ? (kafka as unknown as Record<symbol, unknown>)[key] : undefined;
  if (typeof create !== 'function') throw new TributaryError(ErrorCode.bug, 'kafkajs internals changed: no createCluster on the Kafka client (raw Kafka requests need it)');
  return create({ allowAutoTopicCreation: false }) as ClusterLike;
}

const connecting = new WeakMap<BrokerLike, Map<number, Promise<unknown>>>();

/**
 * kafkajs connects a pool connection on its first use, and concurrent first uses each open a
 * socket of their own, all but one never closed: one connect at a time per connection.
 */
async function connectOnce(broker: BrokerLike, apiKey: number): Promise<void> {
  const index = apiKey === apiKeys.Fetch ? 1 : 0;
  let inProgress = connecting.get(broker);
  if (!inProgress) connecting.set(broker, (inProgress = new Map()));
  let connect = inProgress.get(index);
  if (!connect) {
    const map = inProgress;
    connect = broker.connectionPool.getConnection(index).finally(() => map.delete(index));
    inProgress.set(index, connect);
  }
  await connect;
}

interface EncoderLike {
  writeInt32(value: number): EncoderLike;
  writeBoolean(value: boolean): EncoderLike;
  writeBuffer(value: Buffer): EncoderLike;
}
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => EncoderLike;

/**
 * A Metadata request body with an empty topic array: the brokers and the controller, no topic.
 * kafkajs writes an empty topic list as null, which asks for every topic in the cluster. The
 * distinction exists from Metadata v1 (v0 has no null: there an empty list means every topic);
 * v4 adds allow_auto_topic_creation. kafkajs asks for v1 to v6.
 */
function noTopicsBody(apiVersion: number): (() => Promise<EncoderLike>) | undefined {
  if (apiVersion < 1) return undefined;
  return async () => {
    const body = new Encoder().writeInt32(0);
    return apiVersion >= 4 ? body.writeBoolean(false) : body;
  };
}

/** The partitions of one topic whose offsets a ListOffsets request asks for. */
export interface TopicPartitions {
  topic: string;
  partitions: readonly number[];
}

/**
 * A ListOffsets request body written into one buffer, for versions 1–3 (kafkajs asks for 0–3;
 * v0 is left to kafkajs's encoder). kafkajs builds an encoder per partition and per topic and
 * copies each into the next: for the offset watcher's 1,000 parked topics every second, that was
 * half the node's CPU per poll (BENCHMARKS.md, "the offset watcher's ListOffsets request in one
 * buffer"). The bytes are kafkajs's own (a unit test holds them equal):
 *   v1:     replica_id INT32, [topic STRING, [partition INT32, timestamp INT64]]
 *   v2, v3: replica_id INT32, isolation_level INT8, then as v1
 */
export function listOffsetsBody(topics: readonly TopicPartitions[], timestamp: number, isolationLevel: number): (apiVersion: number) => (() => Promise<EncoderLike>) | undefined {
  return (apiVersion) => {
    if (apiVersion < 1 || apiVersion > 3) return undefined;
    return async () => {
      const withIsolation = apiVersion >= 2;
      let size = 4 + (withIsolation ? 1 : 0) + 4;
      const names = topics.map(({ topic }) => Buffer.from(topic, 'utf8'));
      topics.forEach(({ partitions }, i) => (size += 2 + names[i]!.length + 4 + partitions.length * 12));
      const body = Buffer.allocUnsafe(size);
      let at = body.writeInt32BE(-1, 0);
      if (withIsolation) at = body.writeInt8(isolationLevel, at);
      at = body.writeInt32BE(topics.length, at);
      const ts = BigInt(timestamp);
      topics.forEach(({ partitions }, i) => {
        const name = names[i]!;
        at = body.writeInt16BE(name.length, at);
        at += name.copy(body, at);
        at = body.writeInt32BE(partitions.length, at);
        for (const partition of partitions) {
          at = body.writeInt32BE(partition, at);
          at = body.writeBigInt64BE(ts, at);
        }
      });
      return new Encoder().writeBuffer(body);
    };
  };
}

/**
 * Sends a request and returns the decoded response without kafkajs's throw-on-first-error parse.
 * `body`, when given, may replace kafkajs's encoding of the request body for the negotiated version.
 */
export async function sendRaw<T>(
  broker: BrokerLike,
  apiKey: number,
  definitions: unknown,
  args: Record<string, unknown>,
  body?: (apiVersion: number) => (() => Promise<unknown>) | undefined,
): Promise<T> {
  const looked = broker.lookupRequest(apiKey, definitions)(args);
  const request = looked.request as { apiVersion: number; encode(): Promise<unknown> };
  const encode = body?.(request.apiVersion);
  const req = encode ? { ...looked, request: { ...request, encode } } : looked;
  try {
    await connectOnce(broker, apiKey);
    return (await broker.connectionPool.send({ ...req, response: { ...req.response, parse: async (data: unknown) => data } })) as T;
  } catch (err) {
    if ((err as Error)?.name === 'KafkaJSConnectionClosedError') await broker.disconnect().catch(() => undefined);
    throw err;
  }
}

/** kafkajs error types that mean "ask again": the group's coordinator is being elected or moved. */
const coordinatorMoving = new Set(['NOT_COORDINATOR_FOR_GROUP', 'GROUP_LOAD_IN_PROGRESS', 'GROUP_COORDINATOR_NOT_AVAILABLE']);

/** True for a kafkajs error that only says the group's coordinator is not settled yet. */
export function isCoordinatorMoving(err: unknown): boolean {
  return typeof err === 'object' && err !== null && coordinatorMoving.has(String((err as { type?: unknown }).type));
}

const isConnectionFailure = (err: unknown): boolean => /^KafkaJS(Connection|ConnectionClosed|RequestTimeout)Error$/.test((err as Error | undefined)?.name ?? '');

/** Coordinators remembered, at most; past it the memory starts over (integrations come and go). */
const maxCoordinators = 10_000;

/** One kafkajs Cluster (its own connections) for raw requests; reconnects after `reset()`. */
export class RawKafka {
  private cluster: Promise<ClusterLike> | undefined;
  /**
   * Each group's coordinator as last found. kafkajs sends FindCoordinator on every lookup: a
   * parked sink's commit was two requests instead of one. Forgotten when a request to it fails
   * because it moved or its connection broke (`forgetCoordinator`), and on `reset()`.
   */
  private readonly coordinators = new Map<string, Promise<CoordinatorLike>>();

  constructor(private readonly kafka: Kafka) {}

  private connected(): Promise<ClusterLike> {
    this.cluster ??= (async () => {
      const cluster = createCluster(this.kafka);
      await cluster.connect();
      // No target topics: kafkajs asks for the metadata of every topic here (its way to learn the
      // brokers), once per connection; every request below names its own topics.
      await cluster.refreshMetadata();
      return cluster;
    })();
    this.cluster.catch(() => (this.cluster = undefined));
    return this.cluster;
  }

  async broker(nodeId: number): Promise<BrokerLike> {
    return (await this.connected()).findBroker({ nodeId: String(nodeId) });
  }

  async groupCoordinator(groupId: string): Promise<CoordinatorLike> {
    let found = this.coordinators.get(groupId);
    if (!found) {
      if (this.coordinators.size >= maxCoordinators) this.coordinators.clear();
      const finding = this.connected().then((cluster) => cluster.findGroupCoordinator({ groupId }));
      this.coordinators.set(groupId, finding);
      finding.catch(() => this.coordinators.get(groupId) === finding && this.coordinators.delete(groupId));
      found = finding;
    }
    const coordinator = await found;
    // A remembered coordinator's connection may have closed since (the broker closes idle ones):
    // kafkajs reconnects on use, once per caller; this reconnects it once. (OffsetCommit and
    // OffsetFetch go on the connection Metadata uses.)
    await connectOnce(coordinator as unknown as BrokerLike, apiKeys.Metadata);
    return coordinator;
  }

  /** After a request to a group's coordinator failed: find it afresh next time if it moved or its connection broke. */
  forgetCoordinator(groupId: string, err: unknown): void {
    if (isCoordinatorMoving(err) || isConnectionFailure(err)) this.coordinators.delete(groupId);
  }

  /**
   * The cluster's brokers (and no topic), from a Metadata request naming none: what a health probe needs,
   * at a cost that does not grow with the cluster's topics. (kafkajs's `describeCluster` asks for
   * every topic, twice: ~8,000 topics' metadata every 5 s per node on the bench's broker.)
   */
  async brokersOnly(): Promise<MetadataResponse> {
    try {
      const cluster = await this.connected();
      const any = await this.broker(cluster.getNodeIds()[0]!);
      return await sendRaw<MetadataResponse>(any, apiKeys.Metadata, requests.Metadata, { topics: [], allowAutoTopicCreation: false }, noTopicsBody);
    } catch (err) {
      await this.resetAfter(err);
      throw err;
    }
  }

  /** Metadata of these topics only (up to 500 per request), each with its own error codes. */
  async metadata(topics: readonly string[]): Promise<MetadataResponse['topicMetadata']> {
    const cluster = await this.connected();
    const any = await this.broker(cluster.getNodeIds()[0]!);
    const out: MetadataResponse['topicMetadata'] = [];
    for (let i = 0; i < topics.length; i += chunkSize) {
      const md = await sendRaw<MetadataResponse>(any, apiKeys.Metadata, requests.Metadata, { topics: topics.slice(i, i + chunkSize), allowAutoTopicCreation: false });
      out.push(...md.topicMetadata);
    }
    return out;
  }

  /**
   * The last record of each non-empty partition of a topic: Metadata, ListOffsets (earliest and
   * latest) and one Fetch per leader, on this client's connections. No consumer group (no join,
   * no heartbeats, nothing to delete), so a thousand callers at once cost a few requests each.
   * Throws on a topic or partition error (a just-created topic without a leader yet, say): the
   * caller retries. A last batch larger than 16 MiB may come back cut; that partition is then
   * left out.
   */
  async lastRecords(topic: string): Promise<Map<number, KafkaMessage>> {
    try {
      const out = new Map<number, KafkaMessage>();
      await Promise.all(
        (await this.ranges(topic)).map(async ({ broker, partitions, starts, ends }) => {
          const wanted = partitions.filter((p) => ends.get(p)! > starts.get(p)!);
          if (wanted.length === 0) return;
          const res = await sendRaw<FetchResponse>(broker, apiKeys.Fetch, requests.Fetch, {
            replicaId: -1,
            maxWaitTime: 0,
            minBytes: 0,
            maxBytes: lastRecordFetchBytes * wanted.length,
            isolationLevel: 1,
            topics: [{ topic, partitions: wanted.map((partition) => ({ partition, fetchOffset: String(ends.get(partition)! - 1n), maxBytes: lastRecordFetchBytes })) }],
          });
          for (const pd of res.responses.find((r) => r.topicName === topic)?.partitions ?? []) {
            if (pd.errorCode !== 0) throw new TributaryError(ErrorCode.kafkaUnavailable, `fetch of ${topic} partition ${pd.partition}: error code ${pd.errorCode}`);
            const messages = new Batch(topic, String(ends.get(pd.partition)! - 1n), pd).messages;
            const last = messages[messages.length - 1];
            if (last) out.set(pd.partition, last);
          }
        }),
      );
      return out;
    } catch (err) {
      await this.resetAfter(err);
      throw err;
    }
  }

  /**
   * Where a consumer group stands on a topic: each partition's committed offset (absent where it
   * never committed) and its log start and end. What a sink needs at start, on these shared
   * connections instead of an admin of its own. Throws like lastRecords; the caller retries.
   */
  async groupPositions(groupId: string, topic: string): Promise<{ committed: Map<number, bigint>; offsets: { partition: number; low: string; high: string }[] }> {
    try {
      const offsets = (await this.ranges(topic))
        .flatMap(({ partitions, starts, ends }) => partitions.map((p) => ({ partition: p, low: String(starts.get(p)!), high: String(ends.get(p)!) })))
        .sort((a, b) => a.partition - b.partition);
      const coordinator = await this.groupCoordinator(groupId);
      const res = await coordinator.offsetFetch({ groupId, topics: [{ topic, partitions: offsets.map(({ partition }) => ({ partition })) }] });
      const committed = new Map<number, bigint>();
      for (const p of res.responses.find((r) => r.topic === topic)?.partitions ?? []) {
        if (p.errorCode !== 0) throw new TributaryError(ErrorCode.kafkaUnavailable, `committed offsets of ${groupId} on ${topic} partition ${p.partition}: error code ${p.errorCode}`);
        if (/^\d+$/.test(p.offset)) committed.set(p.partition, BigInt(p.offset));
      }
      return { committed, offsets };
    } catch (err) {
      this.forgetCoordinator(groupId, err);
      await this.resetAfter(err);
      throw err;
    }
  }

  /**
   * Fresh connections after a connection-level failure (a restarted broker, a moved leader). A
   * protocol answer (a topic's error code, a coordinator still loading) leaves the shared
   * connections alone: resetting them would fail every other caller's request in flight.
   */
  private async resetAfter(err: unknown): Promise<void> {
    if (isConnectionFailure(err)) await this.reset();
  }

  /** Per leader of a topic: its partitions and their log start and end offsets. */
  private async ranges(topic: string): Promise<{ broker: BrokerLike; partitions: number[]; starts: Map<number, bigint>; ends: Map<number, bigint> }[]> {
    return Promise.all(
      [...(await this.leaders(topic))].map(async ([leader, partitions]) => {
        const broker = await this.broker(leader);
        const [starts, ends] = await Promise.all([offsetsAt(broker, topic, partitions, EARLIEST), offsetsAt(broker, topic, partitions, LATEST)]);
        return { broker, partitions, starts, ends };
      }),
    );
  }

  /** A topic's partitions by leader; a topic or partition error (no leader yet, say) throws. */
  private async leaders(topic: string): Promise<Map<number, number[]>> {
    const [md] = await this.metadata([topic]);
    if (!md || md.topicErrorCode !== 0) throw new TributaryError(ErrorCode.kafkaUnavailable, `metadata of ${topic}: error code ${md?.topicErrorCode ?? 'none'}`);
    const byLeader = new Map<number, number[]>();
    for (const p of md.partitionMetadata) {
      if (p.partitionErrorCode !== 0 || p.leader < 0) throw new TributaryError(ErrorCode.kafkaUnavailable, `${topic} partition ${p.partitionId}: error code ${p.partitionErrorCode}, leader ${p.leader}`);
      byLeader.set(p.leader, [...(byLeader.get(p.leader) ?? []), p.partitionId]);
    }
    return byLeader;
  }

  /** Drops the connections; the next request connects afresh (a restarted broker, a moved leader). */
  async reset(): Promise<void> {
    const cluster = this.cluster;
    this.cluster = undefined;
    this.coordinators.clear();
    await cluster?.then((c) => c.disconnect()).catch(() => undefined);
  }
}

/** ListOffsets of some partitions of one topic at `timestamp` (LATEST or EARLIEST), each partition's error thrown. */
async function offsetsAt(broker: BrokerLike, topic: string, partitions: readonly number[], timestamp: number): Promise<Map<number, bigint>> {
  const res = await listOffsets(broker, [{ topic, partitions }], timestamp);
  const out = new Map<number, bigint>();
  for (const p of res.responses.find((r) => r.topic === topic)?.partitions ?? []) {
    const offset = p.offset ?? p.offsets?.[0];
    if (p.errorCode !== 0 || offset === undefined) throw new TributaryError(ErrorCode.kafkaUnavailable, `offsets of ${topic} partition ${p.partition}: error code ${p.errorCode}`);
    out.set(p.partition, BigInt(offset));
  }
  for (const p of partitions) if (!out.has(p)) throw new TributaryError(ErrorCode.kafkaUnavailable, `offsets of ${topic} partition ${p}: not in the answer`);
  return out;
}

/**
 * One ListOffsets request (read-uncommitted: LATEST is the log end, as the watcher and the
 * start-up reads need) for these topics' partitions at `timestamp`, its body written by
 * `listOffsetsBody`.
 */
export function listOffsets(broker: BrokerLike, topics: readonly TopicPartitions[], timestamp: number): Promise<ListOffsetsResponse> {
  return sendRaw<ListOffsetsResponse>(
    broker,
    apiKeys.ListOffsets,
    requests.ListOffsets,
    // kafkajs's encoding of the same request, for v0 (or a broker that only speaks it).
    { replicaId: -1, isolationLevel: 0, topics: topics.map(({ topic, partitions }) => ({ topic, partitions: partitions.map((partition) => ({ partition, timestamp })) })) },
    listOffsetsBody(topics, timestamp, 0),
  );
}
