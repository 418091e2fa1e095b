// StatsD metrics (hot-shots, buffered) with a closed catalogue: every metric Tributary emits is
// declared here with its type, tags and meaning, and docs/metrics.md is checked against it.
// Tags are bounded (tier, sink type, event type, error class); integration ids only on opt-in.
import { StatsD } from 'hot-shots';
import { z } from 'zod';
import { knownEventTypes } from '../connect/event.js';

export const metricTypes = ['counter', 'gauge', 'timing'] as const;
type MetricType = (typeof metricTypes)[number];

interface MetricDef {
  type: MetricType;
  tags: readonly string[];
  description: string;
}

/** The catalogue: name (without the `tributary.` prefix) → definition. */
export const catalogue = {
  'source.events_read': { type: 'counter', tags: ['tier', 'event_type'], description: 'Connect events read (parsed, envelope valid), counted once Kafka acknowledged their batch' },
  'source.events_produced': { type: 'counter', tags: ['tier'], description: 'events acknowledged by Kafka (acks=all)' },
  'source.batch_events': { type: 'timing', tags: ['tier'], description: 'events per produced batch (a distribution; StatsD timing type)' },
  'source.poison_lines': { type: 'counter', tags: ['tier', 'code'], description: 'Connect lines that could not become events (sent to the DLQ)' },
  'source.reconnects': { type: 'counter', tags: ['tier', 'reason'], description: 'Connect stream reconnects by reason' },
  'source.lag_ms': { type: 'gauge', tags: ['tier'], description: 'now − processed of the newest event read (source lag)' },
  'source.produce_ms': { type: 'timing', tags: ['tier'], description: 'time from batch produce to Kafka acknowledgement' },
  'sink.events_delivered': { type: 'counter', tags: ['tier', 'sink', 'event_type'], description: 'events the sink accepted' },
  'sink.events_deduplicated': { type: 'counter', tags: ['tier', 'sink'], description: 'duplicate events dropped before delivery' },
  'sink.events_dlq': { type: 'counter', tags: ['tier', 'sink', 'code', 'event_type'], description: 'events dead-lettered by the sink stage, by error code and Connect event type' },
  'sink.bytes_sent': { type: 'counter', tags: ['tier', 'sink'], description: 'bytes sent to the third party' },
  'sink.requests': { type: 'counter', tags: ['tier', 'sink'], description: 'requests made to the third party' },
  'sink.retries': { type: 'counter', tags: ['tier', 'sink'], description: 'retries after transient failures' },
  'sink.latency_ms': { type: 'timing', tags: ['tier', 'sink'], description: 'time to deliver one chunk, retries included' },
  'sink.end_to_end_ms': { type: 'timing', tags: ['tier', 'sink'], description: 'Connect processed → delivered, per chunk (oldest event)' },
  'sink.parked': { type: 'counter', tags: ['tier', 'sink'], description: 'idle sinks parked: left their consumer group, waiting on the offset watcher (flag sink.parkWhenIdle)' },
  'sink.unparked': { type: 'counter', tags: ['tier', 'sink'], description: 'parked sinks woken by new records (or an unreadable topic): consuming again' },
  'sink.consumer_lag': { type: 'gauge', tags: ['tier', 'sink'], description: 'records in Kafka not yet delivered (consumer lag)' },
  'canary.latency_ms': { type: 'timing', tags: ['sink'], description: "the end-to-end canary's delivery latency: receiver acknowledgement minus the oldest event's Connect `processed` time, per batch" },
  'supervision.crashes': { type: 'counter', tags: ['tier', 'role', 'class'], description: 'supervised worker faults by error class' },
  'supervision.degraded': { type: 'counter', tags: ['tier', 'role', 'class'], description: 'failure episodes a running worker retries by itself (Connect refusing or cutting the stream), by error class' },
  'supervision.restarts': { type: 'counter', tags: ['tier', 'role'], description: 'worker restarts decided by the restart policy' },
  'supervision.halts': { type: 'counter', tags: ['tier', 'role'], description: 'integrations halted as misconfigured' },
  'alerting.pages': { type: 'counter', tags: ['action', 'rule'], description: 'pages triggered and resolved' },
  'alerting.notifications': { type: 'counter', tags: ['tier'], description: 'customer notifications for misconfiguration' },
  'alerting.page_failures': { type: 'counter', tags: ['action'], description: 'page sends that failed (retried on the next tick, or dropped when refused)' },
  'alerting.open_pages': { type: 'gauge', tags: [], description: 'pages this node\'s guardian holds open' },
  'alerting.outbox': { type: 'gauge', tags: [], description: 'page actions and notifications waiting to be delivered' },
  'alerting.fleet_failing': { type: 'gauge', tags: [], description: 'integrations failing, misconfigured or stalled in the last state-table scan' },
  'alerting.scans': { type: 'counter', tags: ['outcome'], description: 'state-table scans by the alerting service (ok / failed)' },
  'alerting.sentry_events': { type: 'counter', tags: ['outcome'], description: 'faults offered to Sentry: sent, or rate_limited per fingerprint' },
  'control.flag_records_rejected': { type: 'counter', tags: [], description: 'flags-topic records refused (bad key, unknown flag, bad value): they change no flag' },
  'node.integrations': { type: 'gauge', tags: ['status'], description: 'integrations on this node by status (every 10 s, zeros included)' },
  'node.kafka_up': { type: 'gauge', tags: [], description: '1 when Kafka answered the last health check' },
  'node.dynamodb_up': { type: 'gauge', tags: [], description: '1 when DynamoDB answered the last health check' },
  'node.memory_bytes': { type: 'gauge', tags: ['kind'], description: 'the node process\'s memory, every 10 s: `rss`, and V8\'s `heap_used`, `heap_total`, `external`, `array_buffers` (process.memoryUsage); `pack_pool`, the free pack buffers kept for reuse (part of `array_buffers`, at most 16 MiB)' },
  'node.cpu_percent': { type: 'gauge', tags: [], description: 'CPU the node process used over the last 10 s, user + system, in % of one core (above 100 on more than one core)' },
  'node.parse_lines': { type: 'counter', tags: ['outcome'], description: 'Connect lines of busy streams handed to the parse thread (connect.parseThreads), every 10 s: `thread` parsed there, `recovered` parsed on the event loop after their thread failed' },
  'node.parse_streams': { type: 'counter', tags: ['outcome'], description: 'busy gzip Connect streams inflated on a parse thread from their first byte (connect.inflateMinBytes), every 10 s: `thread` opened there, `lost` ended with their thread failing (each session reads again from its confirmed offset)' },
  'node.integration_thread_restarts': { type: 'counter', tags: [], description: 'integration threads that ended unasked (crashed, ran out of memory, or stopped answering: a ping for 60 s, a removal or replay for 210 s) and were started again with their integrations (integrations.threads); an end that makes the node give up is not counted' },
  'node.parse_thread_failures': { type: 'counter', tags: [], description: 'parse threads that crashed, answered badly or could not start (their lines are parsed on the event loop; after three in a row that never answered, parsing stays there)' },
  'node.thread_event_loop_delay_ms': { type: 'gauge', tags: ['stat', 'thread'], description: 'an integration thread\'s event-loop delay over the last 10 s (integrations.threads): `p50`, `p99`, `max`; `thread` is its index' },
  'node.thread_memory_bytes': { type: 'gauge', tags: ['kind', 'thread'], description: 'an integration thread\'s own V8 heap every 10 s (integrations.threads): `heap_used`, `heap_total`, and `pack_pool` (its free pack buffers); the process\'s RSS is in node.memory_bytes' },
  'node.event_loop_delay_ms': { type: 'gauge', tags: ['stat'], description: 'event-loop delay over the last 10 s: `p50`, `p99`, `max` (sampled every 50 ms)' },
} as const satisfies Record<string, MetricDef>;

export type MetricName = keyof typeof catalogue;

/** Event types outside the known set are reported as `other`, so the tag stays bounded. */
const knownTypes = new Set<string>(knownEventTypes);
export function eventTypeTag(type: string): string {
  return knownTypes.has(type) ? type : 'other';
}

export const metricsConfigSchema = z.strictObject({
  enabled: z.boolean().default(false),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(1).max(65_535).default(8125),
  prefix: z.string().default('tributary.'),
  /** dogstatsd / telegraf carry tags; `none` folds tag values into the name (plain StatsD → Graphite). */
  tagFormat: z.enum(['dogstatsd', 'telegraf', 'none']).default('dogstatsd'),
  /** Adds an `integration` tag: hundreds of series per integration, so off unless asked for. */
  perIntegrationTags: z.boolean().default(false),
  globalTags: z.record(z.string(), z.string()).default({}),
  bufferFlushIntervalMs: z.number().int().min(10).default(1_000),
});
export type MetricsConfig = z.infer<typeof metricsConfigSchema>;

export type Tags = Record<string, string | number | undefined>;

export interface Metrics {
  count(name: MetricName, value?: number, tags?: Tags): void;
  gauge(name: MetricName, value: number, tags?: Tags): void;
  timing(name: MetricName, ms: number, tags?: Tags): void;
  /** Tags to add for one integration (its id only when per-integration tags are on). */
  integrationTags(integrationId: string, tier: string, sink?: string): Tags;
  close(): Promise<void>;
}

export function createMetrics(config: MetricsConfig, onError?: (err: Error) => void): Metrics {
  if (!config.enabled) return noMetrics(config);
  const client = new StatsD({
    host: config.host,
    port: config.port,
    prefix: config.prefix,
    maxBufferSize: 1400,
    bufferFlushInterval: config.bufferFlushIntervalMs,
    telegraf: config.tagFormat === 'telegraf',
    globalTags: config.tagFormat === 'none' ? {} : config.globalTags,
    errorHandler: (err: Error) => onError?.(err),
  });
  const emit = (name: MetricName, tags: Tags | undefined): [string, string[]] => {
    const pairs = Object.entries(tags ?? {}).filter(([, v]) => v !== undefined && v !== '') as [string, string | number][];
    if (config.tagFormat === 'none') {
      // Graphite paths: tag values appended in the catalogue's order.
      const ordered = (catalogue[name].tags as readonly string[]).map((k) => pairs.find(([p]) => p === k)?.[1]).filter((v) => v !== undefined);
      return [[name, ...ordered.map((v) => sanitise(String(v)))].join('.'), []];
    }
    return [name, pairs.map(([k, v]) => `${k}:${sanitise(String(v))}`)];
  };
  return {
    count: (name, value = 1, tags) => {
      const [n, t] = emit(name, tags);
      client.increment(n, value, t);
    },
    gauge: (name, value, tags) => {
      const [n, t] = emit(name, tags);
      client.gauge(n, value, t);
    },
    timing: (name, ms, tags) => {
      const [n, t] = emit(name, tags);
      client.timing(n, ms, t);
    },
    integrationTags: (integrationId, tier, sink) => tagsFor(config, integrationId, tier, sink),
    close: () => new Promise<void>((resolve) => client.close(() => resolve())),
  };
}

function tagsFor(config: MetricsConfig, integrationId: string, tier: string, sink?: string): Tags {
  return { tier, ...(sink ? { sink } : {}), ...(config.perIntegrationTags ? { integration: integrationId } : {}) };
}

function sanitise(v: string): string {
  return v.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100);
}

function noMetrics(config: MetricsConfig): Metrics {
  return {
    count: () => undefined,
    gauge: () => undefined,
    timing: () => undefined,
    integrationTags: (id, tier, sink) => tagsFor(config, id, tier, sink),
    close: async () => undefined,
  };
}
