// The node's configuration: one zod schema gives the type, the defaults and messages that
// name the bad key. Loaded from an optional JSON file, then overridden by the environment.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { ConfigError, ErrorCode } from '../errors.js';
import { zodIssues } from './zod-issues.js';
import { metricsConfigSchema } from '../observability/metrics.js';
import { alertingConfigSchema } from '../supervision/alerting-config.js';
import { nodeHealthConfigSchema } from '../node/node-health.js';
import { flagValuesSchema } from '../control/flags.js';

const brokerList = z
  .array(z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'must be host:port'))
  .min(1, 'needs at least one broker');

export const nodeConfigSchema = z.strictObject({
  /** Identity of this node in state rows and logs: ECS task id, or hostname + pid. */
  nodeId: z.string().min(1).max(200).optional(),
  /** Local mode: loopback http sinks and inline secrets are allowed. Never in production. */
  local: z.boolean().default(false),
  kafka: z
    .strictObject({
      brokers: brokerList.default(['127.0.0.1:9092']),
      clientId: z.string().min(1).default('tributary'),
      connectionTimeoutMs: z.number().int().positive().default(5_000),
      requestTimeoutMs: z.number().int().positive().default(30_000),
      /** Sink consumers' group session: how long a dead node holds its partitions before a rebalance. */
      sessionTimeoutMs: z.number().int().min(1_000).max(300_000).default(30_000),
      /**
       * Sink consumers' fetch long-poll: the broker answers as soon as a record arrives, so this
       * only paces idle integrations (one fetch per this interval each) and bounds a stop's wait.
       */
      fetchMaxWaitMs: z.number().int().min(10).max(10_000).default(1_000),
      /**
       * Sink consumers' fetch minimum: the broker holds a fetch until this many bytes wait (or
       * `fetchMaxWaitMs` passes), so a steady stream arrives in full chunks rather than a few
       * records per fetch, each with its own delivery and offset commit.
       */
      fetchMinBytes: z.number().int().min(1).max(16 * 1024 * 1024).default(1),
      /**
       * Parked sinks (flag `sink.parkWhenIdle`): a sink with everything delivered and nothing new
       * for this long leaves its consumer group and waits on the node's offset watcher.
       */
      sinkParkIdleMs: z.number().int().min(100).max(86_400_000).default(15_000),
      /** How often the offset watcher reads the parked sinks' topic ends: a parked sink's extra delay. */
      parkPollMs: z.number().int().min(100).max(60_000).default(1_000),
    })
    .prefault({}),
  /** How the node reads Connect (the per-integration settings are in the specs). */
  connect: z
    .strictObject({
      /**
       * Worker threads that parse busy streams' lines (JSON and envelope), so the event loop keeps
       * to reading, producing and delivering; 0 parses everything on the event loop.
       */
      parseThreads: z.number().int().min(0).max(16).default(1),
      /** A decompressed chunk of at least this many lines goes to a parse thread; keep-alives and trickles never do. */
      parseMinLines: z.number().int().min(1).max(100_000).default(64),
      /**
       * A gzip stream whose first network chunk has at least this many bytes (a stream that starts
       * busy) is inflated and framed on a parse thread too, for as long as it stays open; 0: never.
       */
      inflateMinBytes: z.number().int().min(0).max(16 * 1024 * 1024).default(16 * 1024),
    })
    .prefault({}),
  /** Where the node runs its integrations (docs/operations.md, "Integration threads"). */
  integrations: z
    .strictObject({
      /**
       * Worker threads that run the node's integrations, each with its own heap, Kafka and
       * DynamoDB clients and parse threads; an app's integrations share one. 0: on the main thread.
       * A major GC marks one thread's heap, not the whole node's, and a node can use more cores.
       */
      threads: z.number().int().min(0).max(32).default(0),
    })
    .prefault({}),
  dynamodb: z
    .strictObject({
      endpoint: z.url().optional(),
      region: z.string().min(1).default('us-east-1'),
      table: z.string().regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'must be a valid DynamoDB table name').default('tributary-integrations'),
    })
    .prefault({}),
  http: z
    .strictObject({
      host: z.string().min(1).default('0.0.0.0'),
      port: z.number().int().min(0).max(65_535).default(8080),
    })
    .prefault({}),
  /** The control plane (docs/clustering.md): the tributary.control topic and the tributary.nodes group. */
  control: z
    .strictObject({
      /** The control topic (default tributary.control) and node group (default tributary.nodes), for several deployments on one cluster. */
      topic: z.string().regex(/^[a-zA-Z0-9._-]{1,200}$/, 'must be a Kafka topic name').optional(),
      group: z.string().min(1).max(200).optional(),
      /** Partitions of the control topic when a node creates it: the unit of spreading integrations over nodes. */
      partitions: z.number().int().min(1).max(1_000).default(12),
      /** tributary.nodes group session: how long a dead or paused node keeps its integrations. */
      sessionTimeoutMs: z.number().int().min(1_000).max(300_000).default(30_000),
      heartbeatIntervalMs: z.number().int().min(100).max(60_000).default(3_000),
      /** How long the group waits for members to rejoin during a rebalance. */
      rebalanceTimeoutMs: z.number().int().min(1_000).max(600_000).default(60_000),
      /** A gained partition counts as read to its end after this long without a record (compacted tails). */
      rebuildIdleMs: z.number().int().min(100).max(120_000).default(5_000),
      /** How long a node waits for a still-live previous owner to release an integration before taking it. */
      handoverTimeoutMs: z.number().int().min(0).max(600_000).default(30_000),
      /** How often running integrations are checked against the state table's owner epoch. */
      auditIntervalMs: z.number().int().min(500).max(600_000).default(10_000),
      /** How often a node checks the flags topic (`<topic>.flags`) for fleet-wide and per-app flag changes. */
      flagsPollMs: z.number().int().min(200).max(600_000).default(2_000),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
  metrics: metricsConfigSchema.prefault({}),
  sentry: z
    .strictObject({
      /** Sentry DSN; unset disables Sentry. Usually from SENTRY_DSN. */
      dsn: z.url().optional(),
      environment: z.string().min(1).default('production'),
      /** At most this many events per fingerprint per minute reach Sentry. */
      maxEventsPerFingerprintPerMinute: z.number().int().min(1).default(5),
    })
    .prefault({}),
  /** Paging, customer notifications, fleet scan (docs/alerting.md). */
  alerting: alertingConfigSchema.prefault({}),
  /** Feature flags fleet-wide (docs/flags.md): `{ "alerting.lagGrowth": true }`. */
  flags: flagValuesSchema.default({}),
  /** Per-app flag values by Airship app key; above `flags`, below an integration spec's `flags`. */
  flagsByApp: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an Airship app key'), flagValuesSchema).default({}),
  /** The node watchdog: Kafka/DynamoDB unreachable past `graceMs` ⇒ exit non-zero (docs/runbook.md). */
  health: nodeHealthConfigSchema.prefault({}),
  infra: z
    .strictObject({
      /** Where downloaded jars and local server data live; outside the repository. */
      cacheDir: z.string().min(1).optional(),
      kafkaPort: z.number().int().min(0).max(65_535).default(0),
      dynamodbPort: z.number().int().min(0).max(65_535).default(0),
      kafkaHeapMb: z.number().int().min(128).default(512),
      dynamodbHeapMb: z.number().int().min(64).default(256),
    })
    .prefault({}),
});

export type NodeConfig = z.infer<typeof nodeConfigSchema>;

/** Environment variables that override the file, each mapped to one config path. */
const envOverrides: readonly { name: string; path: readonly string[]; parse: (v: string) => unknown }[] = [
  { name: 'KAFKA_BROKERS', path: ['kafka', 'brokers'], parse: (v) => v.split(',').map((s) => s.trim()).filter(Boolean) },
  { name: 'DYNAMODB_ENDPOINT', path: ['dynamodb', 'endpoint'], parse: (v) => v },
  { name: 'AWS_REGION', path: ['dynamodb', 'region'], parse: (v) => v },
  { name: 'TRIBUTARY_STATE_TABLE', path: ['dynamodb', 'table'], parse: (v) => v },
  { name: 'TRIBUTARY_NODE_ID', path: ['nodeId'], parse: (v) => v },
  { name: 'TRIBUTARY_LOCAL', path: ['local'], parse: parseBool },
  { name: 'TRIBUTARY_HTTP_PORT', path: ['http', 'port'], parse: parseIntStrict },
  { name: 'TRIBUTARY_HTTP_HOST', path: ['http', 'host'], parse: (v) => v },
  { name: 'TRIBUTARY_CONTROL_PARTITIONS', path: ['control', 'partitions'], parse: parseIntStrict },
  { name: 'TRIBUTARY_CONTROL_SESSION_TIMEOUT_MS', path: ['control', 'sessionTimeoutMs'], parse: parseIntStrict },
  { name: 'TRIBUTARY_LOG_LEVEL', path: ['log', 'level'], parse: (v) => v },
  { name: 'TRIBUTARY_PARSE_THREADS', path: ['connect', 'parseThreads'], parse: parseIntStrict },
  { name: 'TRIBUTARY_INTEGRATION_THREADS', path: ['integrations', 'threads'], parse: parseIntStrict },
  { name: 'TRIBUTARY_INFLATE_MIN_BYTES', path: ['connect', 'inflateMinBytes'], parse: parseIntStrict },
  { name: 'TRIBUTARY_FLAGS', path: ['flags'], parse: parseJsonValue },
  { name: 'TRIBUTARY_CACHE_DIR', path: ['infra', 'cacheDir'], parse: (v) => v },
  { name: 'STATSD_HOST', path: ['metrics', 'host'], parse: (v) => v },
  { name: 'STATSD_PORT', path: ['metrics', 'port'], parse: parseIntStrict },
  { name: 'TRIBUTARY_METRICS', path: ['metrics', 'enabled'], parse: parseBool },
  { name: 'SENTRY_DSN', path: ['sentry', 'dsn'], parse: (v) => v },
  { name: 'SENTRY_ENVIRONMENT', path: ['sentry', 'environment'], parse: (v) => v },
];

function parseBool(v: string): unknown {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  return v; // left as a string so the schema names the key and the bad value
}

function parseIntStrict(v: string): unknown {
  return /^\d+$/.test(v) ? Number(v) : v;
}

/** JSON, e.g. TRIBUTARY_FLAGS='{"sink.parkWhenIdle":true}'; text that is not JSON is left as a string, which the schema refuses by its key. */
function parseJsonValue(v: string): unknown {
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** Validates a raw object (file contents merged with env) into a NodeConfig, or throws ConfigError. */
export function parseNodeConfig(raw: unknown, source = 'node config'): NodeConfig {
  const result = nodeConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(ErrorCode.configInvalid, `invalid ${source}`, zodIssues(result.error));
  return result.data;
}

export interface LoadOptions {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Values set by the caller (CLI flags); applied last. */
  overrides?: readonly { path: readonly string[]; value: unknown }[];
}

export function loadNodeConfig(options: LoadOptions = {}): NodeConfig {
  const env = options.env ?? process.env;
  let raw: Record<string, unknown> = {};
  if (options.file) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (err) {
      throw new ConfigError(ErrorCode.configInvalid, `cannot read config file ${options.file}`, [
        { path: '', message: (err as Error).message },
      ]);
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new Error('the top level must be a JSON object');
      }
      raw = parsed as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(ErrorCode.configInvalid, `config file ${options.file} is not valid JSON`, [
        { path: '', message: (err as Error).message },
      ]);
    }
  }
  for (const o of envOverrides) {
    const v = env[o.name];
    if (v !== undefined && v !== '') setPath(raw, o.path, o.parse(v));
  }
  for (const o of options.overrides ?? []) setPath(raw, o.path, o.value);
  return parseNodeConfig(raw, options.file ? `config (${options.file} + environment)` : 'config (environment)');
}

/** The node's identity: explicit, else the ECS task id from the metadata URI, else hostname + pid. */
export function resolveNodeId(config: NodeConfig, env: NodeJS.ProcessEnv = process.env): string {
  if (config.nodeId) return config.nodeId;
  const meta = env.ECS_CONTAINER_METADATA_URI_V4 ?? env.ECS_CONTAINER_METADATA_URI;
  const task = meta?.match(/\/v\d\/([0-9a-f]{32})/)?.[1];
  return task ? `ecs-${task}` : `${hostname()}-${process.pid}`;
}
