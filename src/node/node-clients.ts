// The clients a node's integrations share: Kafka (producer, admin, plain requests, the parked
// sinks' offset watcher), DynamoDB, the line-parse threads. Built in one place for the node's main
// thread and for each integration thread (docs/operations.md, "Integration threads"): every
// thread that runs integrations has its own, as its own heap holds them.
import type { Admin, Kafka } from 'kafkajs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LineParseThreads } from '../connect/client/index.js';
import type { NodeConfig } from '../config/node-config.js';
import { createIdempotentProducer, createKafka } from '../kafka/kafka.js';
import { OffsetWatcher } from '../kafka/offset-watcher.js';
import { ProduceQueue } from '../kafka/produce-queue.js';
import { RawKafka } from '../kafka/raw-kafka.js';
import type { Logger } from '../observability/logger.js';
import { createDynamoClient, StateStore } from '../state/state-store.js';

export interface NodeClients {
  kafka: Kafka;
  producer: ProduceQueue;
  admin: Admin;
  offsetWatcher: OffsetWatcher;
  raw: RawKafka;
  lineParser: LineParseThreads | undefined;
  dynamo: DynamoDBClient;
  state: StateStore;
  /** Disconnects and stops everything above; never rejects. */
  close(): Promise<void>;
}

/**
 * `clientId`: the Kafka client id (the node's, with a thread's suffix on an integration thread).
 * `parseThreads`: false when this thread runs no Connect source (the main thread of a node whose
 * integrations run on integration threads).
 */
export function createNodeClients(config: NodeConfig, logger: Logger, o: { clientId: string; parseThreads: boolean }): NodeClients {
  const kafka = createKafka(config.kafka, logger, o.clientId);
  const producer = new ProduceQueue(() => createIdempotentProducer(kafka), {
    onSlow: (info) => logger.warn(info, 'Kafka has not answered a produce request for %d s; sources wait (backpressure)', Math.round(info.waitingMs / 1000)),
    onReplace: (reason) => logger.warn({ reason }, 'Kafka refused the producer state (sequence numbers); replaced the producer: unacknowledged records may be written twice, and sinks drop such copies by event id'),
  });
  const admin = kafka.admin();
  const offsetWatcher = new OffsetWatcher({ kafka, logger, pollMs: config.kafka.parkPollMs });
  const raw = new RawKafka(kafka);
  const { connect } = config;
  const lineParser = o.parseThreads && connect.parseThreads > 0 ? new LineParseThreads({ threads: connect.parseThreads, minLines: connect.parseMinLines, inflateMinBytes: connect.inflateMinBytes, logger }) : undefined;
  const dynamo = createDynamoClient({ endpoint: config.dynamodb.endpoint, region: config.dynamodb.region });
  const state = new StateStore(dynamo, config.dynamodb.table);
  let closed: Promise<void> | undefined;
  return {
    kafka,
    producer,
    admin,
    offsetWatcher,
    raw,
    lineParser,
    dynamo,
    state,
    close: () =>
      (closed ??= Promise.allSettled([offsetWatcher.stop(), raw.reset(), lineParser?.close(), producer.disconnect(), admin.disconnect()]).then(() => {
        dynamo.destroy();
      })),
  };
}
