// Kafka clients for a node: one kafkajs instance with its logs in pino, and topic creation
// with per-integration partitions and retention (the broker never auto-creates).
import { Kafka, logLevel, type Admin, type ITopicConfig, type LogEntry, type Producer } from 'kafkajs';
import type { NodeConfig } from '../config/node-config.js';
import { ErrorCode, TributaryError } from '../errors.js';
import type { Logger } from '../observability/logger.js';

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function createKafka(config: NodeConfig['kafka'], logger: Logger, clientId = config.clientId): Kafka {
  return new Kafka({
    clientId,
    brokers: config.brokers,
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log, namespace }: LogEntry) => {
        const { message, ...extra } = log;
        // kafkajs logs a warning per retry; they are transient by design and counted elsewhere.
        logger[levels[level] ?? 'info']({ kafka: namespace, ...extra }, message);
      },
  });
}

/**
 * The producer behind a node's produce queue: idempotent, acks=all (the queue sets it), one
 * request in flight (kafkajs cannot pipeline idempotent requests safely), and retries without
 * limit (kafkajs warns otherwise): a broker that stays down stalls the sources (backpressure)
 * until the node's health check gives up on it.
 */
export function createIdempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  retentionMs?: number;
  compacted?: boolean;
  extraConfig?: Record<string, string>;
}

/** How long one `listTopics` answer serves every concurrent `ensureTopic` on the same admin. */
const topicListTtlMs = 2_000;
const topicLists = new WeakMap<Admin, { at: number; names: Promise<Set<string>> }>();

/**
 * The cluster's topic names, fetched at most once per `topicListTtlMs` per admin client: a node
 * starting a thousand integrations asks once, not 2,000 times (each answer is O(topics)).
 */
function knownTopics(admin: Admin, fresh = false): Promise<Set<string>> {
  const hit = topicLists.get(admin);
  if (!fresh && hit && Date.now() - hit.at < topicListTtlMs) return hit.names;
  const names = admin.listTopics().then((list) => new Set(list));
  topicLists.set(admin, { at: Date.now(), names });
  // A failed list is not cached: the next caller asks again.
  names.catch(() => topicLists.delete(admin));
  return names;
}

/**
 * Creates the topic when missing and waits until every partition has a leader. Existing topics
 * are left as they are (never shrunk). Two nodes racing to create it is fine.
 */
export async function ensureTopic(admin: Admin, spec: TopicSpec, timeoutMs = 30_000): Promise<void> {
  const configEntries: ITopicConfig['configEntries'] = [];
  if (spec.retentionMs !== undefined) configEntries.push({ name: 'retention.ms', value: String(spec.retentionMs) });
  if (spec.compacted) configEntries.push({ name: 'cleanup.policy', value: 'compact' });
  for (const [name, value] of Object.entries(spec.extraConfig ?? {})) configEntries.push({ name, value });
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let fresh = false;
  while (Date.now() < deadline) {
    try {
      if (!(await knownTopics(admin, fresh)).has(spec.topic)) {
        try {
          await admin.createTopics({
            waitForLeaders: false,
            topics: [{ topic: spec.topic, numPartitions: spec.partitions, replicationFactor: -1, configEntries }],
          });
        } catch (err) {
          // Created meanwhile (another node, or after the shared list was taken): wait for leaders.
          if (!alreadyExists(err)) throw err;
        }
      }
      const meta = await admin.fetchTopicMetadata({ topics: [spec.topic] });
      const partitions = meta.topics.find((t) => t.name === spec.topic)?.partitions ?? [];
      if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return;
    } catch (err) {
      lastError = err;
      // The shared list may be stale (a topic deleted since): ask the cluster again next time.
      fresh = true;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new TributaryError(ErrorCode.kafkaUnavailable, `cannot create topic ${spec.topic}: ${(lastError as Error)?.message ?? 'no leader in time'}`, {
    cause: lastError,
  });
}

function alreadyExists(err: unknown): boolean {
  if ((err as { type?: string }).type === 'TOPIC_ALREADY_EXISTS') return true;
  const errors = (err as { errors?: { type?: string }[] }).errors;
  return Array.isArray(errors) && errors.length > 0 && errors.every((e) => e.type === 'TOPIC_ALREADY_EXISTS');
}
