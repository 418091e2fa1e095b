// What every actor on a node shares: clients, config, identity, and the guardian's inbox for
// failure reports. Built once by the node runner; actors never create clients themselves.
import type { Admin, Kafka } from 'kafkajs';
import type { OffThreadParser } from '../connect/client/index.js';
import type { FlagOverrides } from '../control/flags.js';
import type { OffsetWatcher } from '../kafka/offset-watcher.js';
import type { RawKafka } from '../kafka/raw-kafka.js';
import type { RecordProducer } from '../kafka/produce-queue.js';
import type { NodeConfig } from '../config/node-config.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { StateStore } from '../state/state-store.js';
import type { FailureReport } from '../supervision/guardian-types.js';
import type { RestartPolicyConfig } from '../supervision/restart-policy.js';

export interface NodeContext {
  nodeId: string;
  config: NodeConfig;
  logger: Logger;
  kafka: Kafka;
  /** Idempotent, acks=all, one request in flight; shared by every source and DLQ write on the node. */
  producer: RecordProducer;
  admin: Admin;
  /** Watches the topics of parked sinks (flag `sink.parkWhenIdle`). */
  offsetWatcher: OffsetWatcher;
  /** Parses busy Connect streams' lines on worker threads (`connect.parseThreads`); absent: on the event loop. */
  lineParser?: OffThreadParser | undefined;
  /** Plain Kafka requests on shared connections (the sources' watermark reads at start). */
  raw: RawKafka;
  state: StateStore;
  /** Where file sinks write. */
  dataDir: string;
  restartPolicy: RestartPolicyConfig;
  metrics: Metrics;
  /** Slow probe of a halted (misconfigured) integration. */
  probeIntervalMs: number;
  /** Fleet-wide and per-app flags set on the flags topic (docs/flags.md); none when absent. */
  flagOverrides?: () => FlagOverrides;
  /** The guardian's inbox. */
  reportFailure(report: FailureReport): void;
  env: NodeJS.ProcessEnv;
}
