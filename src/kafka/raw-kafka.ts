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
  connectionPool: { send(req: RawRequest): Promise<unknown> };
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
  offsetCommit(o: { groupId: string; groupGenerationId: number; memberId: string; topics: { topic: string; partitions: { partition: number; offset: string }[] }[] }): Promise<unknown>;
}

export const { requests } = require('kafkajs/src/protocol/requests/index.js') as { requests: { Metadata: unknown; ListOffsets: unknown; Fetch: unknown } };
export const apiKeys = require('kafkajs/src/protocol/requests/apiKeys.js') as { Metadata: number; ListOffsets: number; Fetch: number };
/** kafkajs's fetch batch: drops records before the fetch offset (a batch starts earlier), control records and aborted ones. */
export const Batch = require('kafkajs/src/consumer/batch.js') as new (topic: string, fetchedOffset: string, partitionData: unknown) => { messages: KafkaMessage[] };
/** Kafka's "latest" timestamp in ListOffsets: the log end offset (high watermark). */
export const LATEST = -1;
/** Topics per Metadata / ListOffsets request. */
export const chunkSize = 500;

/** The kafkajs Cluster behind a client, for requests kafkajs does not expose (see the header). */
function createCluster(kafka: Kafka): ClusterLike {
  const key = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const create = key ? (kafka as unknown as Record<symbol, unknown>)[key] : undefined;
  if (typeof create !== 'function') throw new TributaryError(ErrorCode.bug, 'kafkajs internals changed: no createCluster on the Kafka client (raw Kafka requests need it)');
  return create({ allowAutoTopicCreation: false }) as ClusterLike;
}

/** Sends a request and returns the decoded response without kafkajs's throw-on-first-error parse. */
export async function sendRaw<T>(broker: BrokerLike, apiKey: number, definitions: unknown, args: Record<string, unknown>): Promise<T> {
  const req = broker.lookupRequest(apiKey, definitions)(args);
  try {
    return (await broker.connectionPool.send({ ...req, response: { ...req.response, parse: async (data: unknown) => data } })) as T;
  } catch (err) {
    if ((err as Error)?.name === 'KafkaJSConnectionClosedError') await broker.disconnect().catch(() => undefined);
    throw err;
  }
}

/** One kafkajs Cluster (its own connections) for raw requests; reconnects after `reset()`. */
export class RawKafka {
  private cluster: Promise<ClusterLike> | undefined;

  constructor(private readonly kafka: Kafka) {}

  private connected(): Promise<ClusterLike> {
    this.cluster ??= (async () => {
      const cluster = createCluster(this.kafka);
      await cluster.connect();
      // Brokers only (no target topics): every request here names its own topics.
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
    return (await this.connected()).findGroupCoordinator({ groupId });
  }

  /** Metadata of these topics only (up to 500 per request), each with its own error codes. */
  async metadata(topics: readonly string[]): Promise<MetadataResponse['topicMetadata']> {
    const cluster = await this.connected();
    const any = await cluster.findBroker({ nodeId: String(cluster.getNodeIds()[0]) });
    const out: MetadataResponse['topicMetadata'] = [];
    for (let i = 0; i < topics.length; i += chunkSize) {
      const md = await sendRaw<MetadataResponse>(any, apiKeys.Metadata, requests.Metadata, { topics: topics.slice(i, i + chunkSize), allowAutoTopicCreation: false });
      out.push(...md.topicMetadata);
    }
    return out;
  }

  /** Drops the connections; the next request connects afresh (a restarted broker, a moved leader). */
  async reset(): Promise<void> {
    const cluster = this.cluster;
    this.cluster = undefined;
    await cluster?.then((c) => c.disconnect()).catch(() => undefined);
  }
}
