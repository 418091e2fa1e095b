// Kafka clients for a node: one kafkajs instance with its logs in pino, and topic creation
// with per-integration partitions and retention (the broker never auto-creates).
import { createRequire } from 'node:module';
import { Kafka, logLevel, type Admin, type ITopicConfig, type LogEntry, type Producer } from 'kafkajs';
import pLimit from 'p-limit';
import type { NodeConfig } from '../config/node-config.js';
import { ErrorCode, TributaryError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { applyKafkajsFixes } from './kafkajs-fixes.js';

applyKafkajsFixes();

const require = createRequire(import.meta.url);

type PinoLevel = 'error' | 'warn' | 'info' | 'debug';
const levels: Record<number, PinoLevel> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** kafkajs's warning when an idempotent producer's retries are bounded (src/producer/index.js). */
const limitedRetriesWarning = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';
/** The messages of the broker errors kafkajs marks retriable (its protocol error table). */
const retriableMessages: ReadonlySet<string> = new Set(
  (require('kafkajs/src/protocol/error.js') as { errorCodes: { message: string; retriable: boolean }[] }).errorCodes
    .filter((e) => e.retriable)
    .map((e) => e.message),
);

/**
 * The level a kafkajs log entry is written at. kafkajs logs every error response at error level
 * ("Response Metadata(key: 3, version: 6)"), including the retriable ones it or we retry as a
 * matter of course: a topic's metadata polled until its new leader shows, a group coordinator
 * that moved. A 1,000-integration start wrote ~6,700 such error lines and nothing had failed.
 * Those go to debug; a retry that gives up surfaces as the caller's error, logged where it is
 * handled. So does a CreateTopics answer with per-topic errors ("Topic creation errors", the
 * entry does not say which): mostly topics that already exist, which `createTopic` counts as
 * created; any other is its caller's error. Any other error response stays at error.
 * kafkajs also warns, for every idempotent producer whose retries are bounded, that this "may
 * invalidate EoS guarantees": the control-topic writer's (`tributary integrations`, local mode)
 * are bounded on purpose (a command fails instead of hanging; its records are keyed values, the
 * last one read wins, so a value sent again after a failure changes nothing). Debug too.
 */
export function kafkajsLogLevel(level: number, log: { message?: unknown; error?: unknown }): PinoLevel {
  const pino = levels[level] ?? 'info';
  if (pino === 'warn' && log.message === limitedRetriesWarning) return 'debug';
  if (pino !== 'error' || typeof log.message !== 'string' || !log.message.startsWith('Response ') || typeof log.error !== 'string') return pino;
  if (retriableMessages.has(log.error)) return 'debug';
  if (log.message.startsWith('Response CreateTopics(') && log.error === 'Topic creation errors') return 'debug';
  return pino;
}

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
        logger[kafkajsLogLevel(level, log)]({ kafka: namespace, ...extra }, message);
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

/**
 * Short-lived admin clients, a few at a time per process, for the per-integration lookups of a
 * start (group offsets, a topic's offsets). On the node's shared admin, kafkajs adds each topic
 * to the client's target topics under one lock and refreshes the metadata of all of them on
 * every addition: a node starting 1,000 integrations queued thousands of ever larger refreshes
 * behind that lock, and integrations failed with "Timeout while acquiring lock (175 waiting
 * locks): updating target topics". An admin of its own knows only the topic it asks about.
 */
const ownAdmins = pLimit(16);

export function withOwnAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  return ownAdmins(async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  });
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  retentionMs?: number;
  compacted?: boolean;
  extraConfig?: Record<string, string>;
}

/** How long one `listTopics` answer serves every `ensureTopic` on the same admin, counted from the answer. */
const topicListTtlMs = 2_000;
/** A listing in flight (`at` undefined) or answered at `at`. */
interface TopicList {
  at: number | undefined;
  names: Promise<Set<string>>;
}
const topicLists = new WeakMap<Admin, TopicList>();

/**
 * The cluster's topic names, asked at most once per `topicListTtlMs` per admin client, and never
 * while a listing is in flight: a node starting a thousand integrations asks a few dozen times,
 * not 2,000 (each answer is O(topics in the cluster), for the broker to build and us to decode).
 */
function knownTopics(admin: Admin): Promise<Set<string>> {
  const hit = topicLists.get(admin);
  if (hit && (hit.at === undefined || Date.now() - hit.at < topicListTtlMs)) return hit.names;
  const list: TopicList = { at: undefined, names: admin.listTopics().then((names) => new Set(names)) };
  topicLists.set(admin, list);
  list.names.then(
    () => (list.at = Date.now()),
    // A failed listing is not kept: the next caller asks again.
    () => topicLists.get(admin) === list && topicLists.delete(admin),
  );
  return list.names;
}

/**
 * Creates the topic when missing and waits until every partition has a leader. Existing topics
 * are left as they are (never shrunk). Two nodes racing to create it is fine.
 *
 * The cluster's listing is asked once per call (shared, above). A topic it lists has had its
 * leaders (a restart, a failover): returned at once. A topic deleted since the listing was taken
 * fails its first produce or fetch, and the worker's restart asks afresh. A topic it does not
 * list is created, then only its own metadata is polled until the leaders show: a broker's
 * metadata lags a creation by seconds under load, and re-listing the whole cluster on each poll
 * (what this did before) made a 1,000-integration start send thousands of whole-cluster Metadata
 * requests, which cost the broker most of a core on a cluster of 8,000 topics (BENCHMARKS.md).
 */
export async function ensureTopic(admin: Admin, spec: TopicSpec, timeoutMs = 30_000): Promise<void> {
  const configEntries: ITopicConfig['configEntries'] = [];
  if (spec.retentionMs !== undefined) configEntries.push({ name: 'retention.ms', value: String(spec.retentionMs) });
  if (spec.compacted) configEntries.push({ name: 'cleanup.policy', value: 'compact' });
  for (const [name, value] of Object.entries(spec.extraConfig ?? {})) configEntries.push({ name, value });
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let listed: boolean | undefined;
  let created = false;
  while (Date.now() < deadline) {
    try {
      listed ??= (await knownTopics(admin)).has(spec.topic);
      if (listed) return;
      if (!created) {
        // Created meanwhile (another node, or after the shared listing was taken) counts as created.
        await createTopic(admin, { topic: spec.topic, numPartitions: spec.partitions, replicationFactor: -1, configEntries });
        created = true;
      }
      const meta = await admin.fetchTopicMetadata({ topics: [spec.topic] });
      const partitions = meta.topics.find((t) => t.name === spec.topic)?.partitions ?? [];
      if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new TributaryError(ErrorCode.kafkaUnavailable, `cannot create topic ${spec.topic}: ${(lastError as Error)?.message ?? 'no leader in time'}`, {
    cause: lastError,
  });
}

/** Topics per CreateTopics request. */
const maxTopicsPerCreate = 100;
interface PendingCreate {
  topic: ITopicConfig;
  waiters: { resolve: () => void; reject: (err: unknown) => void }[];
}
interface CreateQueue {
  pending: Map<string, PendingCreate>;
  /** A CreateTopics request of this admin is waiting for the broker. */
  inFlight: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}
const createQueues = new WeakMap<Admin, CreateQueue>();

/**
 * Creates a topic; "already exists" counts as success. Calls on one admin share CreateTopics
 * requests (up to 100 topics each), one request in flight at a time: what arrives while the
 * broker works on a request goes in the next. The broker answers one connection's requests in
 * order and spends ~60 ms of controller work per request here whatever its size (200 topics:
 * 12.6 s one per request, 0.2 s a hundred per request), so a node starting 1,000 integrations
 * with a request every few milliseconds kept each integration waiting behind hundreds of tiny
 * requests. And kafkajs refreshes the metadata of every topic its admin ever touched before each
 * CreateTopics. Each caller gets its own topic's outcome.
 */
export function createTopic(admin: Admin, topic: ITopicConfig): Promise<void> {
  let queue = createQueues.get(admin);
  if (!queue) {
    queue = { pending: new Map(), inFlight: false, timer: undefined };
    createQueues.set(admin, queue);
  }
  const q = queue;
  return new Promise<void>((resolve, reject) => {
    const same = q.pending.get(topic.topic);
    if (same) same.waiters.push({ resolve, reject });
    else q.pending.set(topic.topic, { topic, waiters: [{ resolve, reject }] });
    // A short wait gathers the topics of one start (events + DLQ) and of its neighbours.
    if (!q.inFlight && !q.timer) q.timer = setTimeout(() => void flushCreates(admin, q), 5);
  });
}

async function flushCreates(admin: Admin, q: CreateQueue): Promise<void> {
  q.timer = undefined;
  if (q.inFlight || q.pending.size === 0) return;
  const take = [...q.pending.values()].slice(0, maxTopicsPerCreate);
  for (const p of take) q.pending.delete(p.topic.topic);
  q.inFlight = true;
  const settle = (p: PendingCreate, err?: unknown) => {
    for (const w of p.waiters) {
      if (err === undefined) w.resolve();
      else w.reject(err);
    }
  };
  try {
    await admin.createTopics({ waitForLeaders: false, topics: take.map((p) => p.topic) });
    for (const p of take) settle(p);
  } catch (err) {
    const perTopic = topicErrors(err);
    for (const p of take) {
      if (perTopic === undefined) settle(p, err);
      else {
        const own = perTopic.get(p.topic.topic);
        settle(p, own === undefined || own.type === 'TOPIC_ALREADY_EXISTS' ? undefined : own);
      }
    }
  } finally {
    q.inFlight = false;
    // Whatever arrived meanwhile goes now, in one request.
    if (q.pending.size > 0) void flushCreates(admin, q);
  }
}

/** kafkajs's per-topic CreateTopics errors (an aggregate, possibly wrapped by its retrier). */
function topicErrors(err: unknown): Map<string, { type?: string }> | undefined {
  const e = err as { errors?: unknown; originalError?: { errors?: unknown }; cause?: { errors?: unknown } } | null;
  const list = e?.errors ?? e?.originalError?.errors ?? e?.cause?.errors;
  if (!Array.isArray(list)) return undefined;
  return new Map((list as { topic?: string; type?: string }[]).filter((x) => typeof x.topic === 'string').map((x) => [x.topic!, x]));
}

