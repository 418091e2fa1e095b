// Builds the two long-running tasks of an integration from its spec: the source (Connect →
// Kafka) and the sink (Kafka → third party). Plain functions over the node's shared clients;
// the actors decide when they run.
import { ConnectClient, type StreamItem } from '../connect/client/index.js';
import { eventTypeTag, type Tags } from '../observability/metrics.js';
import { resolveSecret } from '../control/secrets.js';
import type { IntegrationSpec } from '../control/spec.js';
import { tierSettings } from '../control/spec.js';
import { ensureTopic } from '../kafka/kafka.js';
import { topicMaxMessageBytes } from '../kafka/produce-queue.js';
import { headers, topics } from '../kafka/topics.js';
import { retryLookup, watermarkInKafka } from '../kafka/tail-reader.js';
import { compareOffsets } from '../connect/event.js';
import { classify, errorMessage, ErrorCode, TributaryError } from '../errors.js';
import type { DedupWindow } from '../pipeline/dedup-window.js';
import type { PackLimits } from '../pipeline/event-record.js';
import { SinkRunner } from '../pipeline/sink-runner.js';
import { SourceRunner } from '../pipeline/source-runner.js';
import { buildSink, validateSinkConfig } from '../sinks/registry.js';
import type { StateWriter } from '../state/state-writer.js';
import type { TaskHandle } from '../supervision/nact-adapter.js';
import type { FlowCounter } from '../supervision/lag-growth.js';
import { resolveFlags, type ResolvedFlags } from '../control/flags.js';
import type { NodeContext } from './node-context.js';

/** Creates the events and DLQ topics with the spec's (or its tier's) partitions and retention. */
export async function ensureIntegrationTopics(node: NodeContext, spec: IntegrationSpec): Promise<void> {
  const tier = tierSettings(spec.app.size);
  const retentionMs = spec.options.retentionMs ?? tier.retentionMs;
  const extraConfig = { 'max.message.bytes': String(topicMaxMessageBytes) };
  // Both at once: they share one listing, one CreateTopics request and the wait for leaders.
  await Promise.all([
    ensureTopic(node.admin, { topic: topics.events(spec.id), partitions: spec.options.partitions ?? tier.partitions, retentionMs, extraConfig }),
    ensureTopic(node.admin, { topic: topics.dlq(spec.id), partitions: 1, retentionMs: Math.max(retentionMs, 7 * 86_400_000), extraConfig }),
  ]);
}

/** A pack never exceeds this many Connect JSON bytes, whatever the sink takes (a Kafka record stays well under the topic's limit). */
export const maxPackBytes = 512 * 1024;

/**
 * Packs no larger than the sink's chunk limits, so a sink delivers a pack whole: its validated
 * config's `maxBatchEvents` / `maxBatchBytes`, within 1–10,000 events and 512 KiB; the webhook's
 * defaults (500 events) where the config has no usable value.
 */
export function packLimitsFor(sinkConfig: { maxBatchEvents?: unknown; maxBatchBytes?: unknown } | undefined): PackLimits {
  const n = (v: unknown, fallback: number, cap: number) => Math.max(1, Math.min(typeof v === 'number' && Number.isFinite(v) ? Math.floor(v) : fallback, cap));
  return { maxEvents: n(sinkConfig?.maxBatchEvents, 500, 10_000), maxBytes: n(sinkConfig?.maxBatchBytes, maxPackBytes, maxPackBytes) };
}

/**
 * Flag `source.packRecords`: the events topic's partition count (read from Kafka: an operator may
 * have grown it) and the pack limits of the integration's sink.
 */
async function packSettings(node: NodeContext, spec: IntegrationSpec): Promise<{ partitions: number; limits: PackLimits }> {
  const topic = topics.events(spec.id);
  // On the node's shared connections (no admin of its own per source start).
  const partitions = await retryLookup(async () => {
    const [meta] = await node.raw.metadata([topic]);
    const n = meta?.topicErrorCode === 0 ? meta.partitionMetadata.length : 0;
    if (n < 1) throw new TributaryError(ErrorCode.kafkaUnavailable, `the events topic ${topic} has no partitions in Kafka's metadata (error code ${meta?.topicErrorCode ?? 'none'}; packed records need their count)`);
    return n;
  });
  let sinkConfig: Parameters<typeof packLimitsFor>[0];
  try {
    sinkConfig = validateSinkConfig(sinkConfigWithFlags(spec.sink, integrationFlags(node, spec)), { local: node.config.local }) as Parameters<typeof packLimitsFor>[0];
  } catch {
    // The sink task reports a bad sink config; the source packs by the defaults meanwhile.
  }
  return { partitions, limits: packLimitsFor(sinkConfig) };
}

export interface SourceTaskOptions {
  node: NodeContext;
  spec: IntegrationSpec;
  state: StateWriter;
  /** The durable checkpoint to resume after (exclusive), if any. */
  resumeOffset: () => string | undefined;
  onCheckpoint: (offset: string) => void;
  healthy: () => void;
  /** Connect refused a request or cut a stream; the client retries by itself (reported once per episode). */
  degraded?: (error: unknown) => void;
  onStreamItem?: (item: StreamItem) => void;
  /** Arrivals counted for the lag-growth detector (the integration actor samples it). */
  flow?: FlowCounter;
}

export async function startSourceTask(o: SourceTaskOptions): Promise<TaskHandle> {
  const { spec, node } = o;
  const token = await resolveSecret(spec.connect.token, node.env);
  const url = new URL(spec.connect.url);
  // Kafka is the record of truth for what reached it; the state row may lag by a flush interval.
  const fromState = o.resumeOffset();
  node.logger.debug({ integrationId: spec.id, fromState }, 'source: reading the watermark recorded in Kafka');
  const fromKafka = await retryLookup(() => watermarkInKafka(node.raw, topics.events(spec.id), headers.watermark));
  node.logger.debug({ integrationId: spec.id, fromState, fromKafka }, 'source: watermark read');
  const resumeOffset = fromKafka !== undefined && (fromState === undefined || compareOffsets(fromKafka, fromState) > 0) ? fromKafka : fromState;
  if (resumeOffset !== fromState) node.logger.info({ integrationId: spec.id, fromState, fromKafka }, 'resuming from the watermark recorded in Kafka');
  const tags = node.metrics.integrationTags(spec.id, spec.app.size);
  const client = new ConnectClient(
    {
      baseUrl: url.origin,
      path: url.pathname,
      appKey: spec.app.key,
      token,
      start: spec.connect.start,
      ...(resumeOffset ? { resumeOffset } : {}),
      ...(spec.connect.filters ? { filters: spec.connect.filters } : {}),
      ...(spec.connect.subset ? { subset: spec.connect.subset } : {}),
      ...(spec.connect.idleTimeoutMs ? { idleTimeoutMs: spec.connect.idleTimeoutMs } : {}),
      allowAnyHost: node.config.local,
      userAgent: `tributary/${node.nodeId}`,
    },
    { logger: node.logger, ...(node.lineParser ? { lineParser: node.lineParser } : {}) },
  );
  const pack = integrationFlags(node, spec)['source.packRecords'] ? await packSettings(node, spec) : undefined;
  let lasting: NodeJS.Timeout | undefined;
  const runner = new SourceRunner({
    pack,
    integrationId: spec.id,
    client,
    producer: node.producer,
    state: o.state,
    logger: node.logger.child({ integrationId: spec.id, role: 'source' }),
    batch: { maxCount: spec.options.batch.maxEvents, maxBytes: spec.options.batch.maxBytes, lingerMs: spec.options.batch.lingerMs },
    onProduced: (batch, ackMs) => {
      if (batch.events === 0) return;
      o.healthy();
      if (o.flow) o.flow.produced += batch.events;
      const m = node.metrics;
      m.count('source.events_produced', batch.events, tags);
      m.timing('source.batch_events', batch.events, tags);
      m.timing('source.produce_ms', ackMs, tags);
      for (const [type, n] of byTypeTag(batch.byType)) m.count('source.events_read', n, { ...tags, event_type: type });
      const newest = Date.parse(batch.newestProcessed ?? '');
      if (Number.isFinite(newest)) m.gauge('source.lag_ms', Math.max(0, Date.now() - newest), tags);
    },
    // Each acknowledged watermark is reported as it moves (no timer per integration), and once more at the end.
    onWatermark: (wm) => o.onCheckpoint(wm),
    onStreamItem: (item) => {
      // A stream answered is not yet a recovery: one cut again at once would flap failing/running
      // (and Sentry) on every backoff step. Events produced, or a stream that lasts, are.
      if (item.kind === 'connected') {
        clearTimeout(lasting);
        lasting = setTimeout(o.healthy, client.healthyAfterMs);
        lasting.unref();
      } else if (item.kind === 'reconnecting') {
        clearTimeout(lasting);
        node.metrics.count('source.reconnects', 1, { ...tags, reason: item.reason });
        // A session Connect simply ended is routine; an error (refused, cut, corrupt, silent) is not.
        if (item.error) o.degraded?.(item.error);
      }
      else if (item.kind === 'poison') node.metrics.count('source.poison_lines', 1, { ...tags, code: item.code });
      o.onStreamItem?.(item);
    },
  });
  const abort = new AbortController();
  const done = runner.run(abort.signal).finally(async () => {
    clearTimeout(lasting);
    if (runner.watermark) o.onCheckpoint(runner.watermark);
    await client.close().catch(() => undefined);
  });
  return {
    done,
    stop: async () => {
      abort.abort();
      await done.catch(() => undefined);
    },
  };
}

/** Runs the sink's healthcheck once; returns the problem, or undefined when it passes. */
export async function probeSink(node: NodeContext, spec: IntegrationSpec): Promise<string | undefined> {
  let sink: Awaited<ReturnType<typeof buildSink>> | undefined;
  try {
    sink = await buildSink(validateSinkConfig(sinkConfigWithFlags(spec.sink, integrationFlags(node, spec)), { local: node.config.local }), {
      integrationId: spec.id,
      appKey: spec.app.key,
      tier: spec.app.size,
      local: node.config.local,
      logger: node.logger.child({ integrationId: spec.id, role: 'probe' }),
      resolveSecret: (ref) => resolveSecret(ref, node.env),
      dataDir: node.dataDir,
    });
    await sink.healthcheck(AbortSignal.timeout(30_000));
    return undefined;
  } catch (err) {
    return errorMessage(err);
  } finally {
    await sink?.close().catch(() => undefined);
  }
}

export interface SinkTaskOptions {
  node: NodeContext;
  spec: IntegrationSpec;
  state: StateWriter;
  dedup: DedupWindow;
  healthy: () => void;
  /** Consumption (delivered, dead-lettered, deduplicated) counted for the lag-growth detector. */
  flow?: FlowCounter;
  /** The sink parked (true) or consumes again (false). */
  onParked?: (parked: boolean) => void;
  /** The start-up check ran (passed, or failed transiently); not called when it halts the sink. */
  onChecked?: () => void;
  /** A batch was delivered; its oldest event was this old (since Connect processed it). */
  onLatency?: (ms: number) => void;
}

/** One integration's flags: catalogue defaults, node config and flags topic (fleet, then app), then the spec's own. */
export function integrationFlags(node: Pick<NodeContext, 'config' | 'flagOverrides'>, spec: Pick<IntegrationSpec, 'app' | 'flags'>): ResolvedFlags {
  return resolveFlags(node.config, spec.app.key, spec.flags, node.flagOverrides?.());
}

/**
 * The sink config with flag-driven defaults applied to the raw spec (before validation, so an
 * explicit value in the spec always wins over a flag).
 */
export function sinkConfigWithFlags(raw: IntegrationSpec['sink'], flags: ResolvedFlags): IntegrationSpec['sink'] {
  if (raw.type === 'webhook' && flags['sink.webhook.gzipDefault'] && raw.gzip === undefined) return { ...raw, gzip: true };
  return raw;
}

export async function startSinkTask(o: SinkTaskOptions): Promise<TaskHandle> {
  const { spec, node } = o;
  const flags = integrationFlags(node, spec);
  const config = validateSinkConfig(sinkConfigWithFlags(spec.sink, flags), { local: node.config.local });
  const logger = node.logger.child({ integrationId: spec.id, role: 'sink', sinkType: config.type });
  const tags: Tags = node.metrics.integrationTags(spec.id, spec.app.size, config.type);
  const sink = await buildSink(config, {
    integrationId: spec.id,
    appKey: spec.app.key,
    tier: spec.app.size,
    local: node.config.local,
    logger,
    resolveSecret: (ref) => resolveSecret(ref, node.env),
    dataDir: node.dataDir,
  });
  // Start-up check: one probe carrying no data before the consumer joins its group. A
  // misconfigured sink (credentials refused, endpoint gone, SSRF, missing bucket) halts here, so
  // a broken endpoint never receives a batch; a transient failure (5xx, network) is logged and
  // the runner's own retries take over while the data waits in Kafka.
  try {
    await sink.healthcheck(AbortSignal.timeout(15_000));
  } catch (err) {
    if (classify(err) === 'misconfiguration') {
      await sink.close().catch(() => undefined);
      throw err;
    }
    logger.warn({ err: errorMessage(err) }, 'sink start-up check failed; starting anyway (deliveries retry)');
  }
  o.onChecked?.();
  const runner = new SinkRunner({
    integrationId: spec.id,
    kafka: node.kafka,
    admin: node.admin,
    raw: node.raw,
    producer: node.producer,
    sink,
    dedup: o.dedup,
    state: o.state,
    logger,
    sessionTimeoutMs: node.config.kafka.sessionTimeoutMs,
    fetchMaxWaitMs: node.config.kafka.fetchMaxWaitMs,
    fetchMinBytes: node.config.kafka.fetchMinBytes,
    ...(flags['sink.parkWhenIdle'] ? { parking: { watcher: node.offsetWatcher, idleMs: node.config.kafka.sinkParkIdleMs } } : {}),
    stableChunks: flags['sink.stableChunks'],
    // A source re-sends at most its in-flight batches after a restart: a few packed records per
    // partition, where unpacked they are thousands of records. 100 packs cover that many times.
    ...(flags['source.packRecords'] ? { dedupSeedPerPartition: 100 } : {}),
    onParked: (parked) => {
      o.onParked?.(parked);
      node.metrics.count(parked ? 'sink.parked' : 'sink.unparked', 1, tags);
    },
    onDelivered: (records, ms, result) => {
      const m = node.metrics;
      if (records.length) o.healthy();
      if (o.flow) o.flow.consumed += records.length;
      for (const [type, n] of countBy(records, (r) => r.type)) m.count('sink.events_delivered', n, { ...tags, event_type: type });
      m.count('sink.requests', result.requests, tags);
      if (result.retries) m.count('sink.retries', result.retries, tags);
      if (result.bytesSent) m.count('sink.bytes_sent', result.bytesSent, tags);
      m.timing('sink.latency_ms', ms, tags);
      const oldest = Math.min(...records.map((r) => Date.parse(r.processed)).filter(Number.isFinite));
      if (Number.isFinite(oldest)) {
        const latency = Math.max(0, Date.now() - oldest);
        m.timing('sink.end_to_end_ms', latency, tags);
        if (spec.options.canary) m.timing('canary.latency_ms', latency, { sink: config.type });
        o.onLatency?.(latency);
      }
    },
    onRejected: (record, outcome) => {
      if (o.flow) o.flow.consumed += 1;
      node.metrics.count('sink.events_dlq', 1, { ...tags, code: outcome.status === 'rejected' ? outcome.error.code : 'unknown', event_type: eventTypeTag(record.type) });
    },
    onDuplicates: (n) => {
      if (o.flow) o.flow.consumed += n;
      node.metrics.count('sink.events_deduplicated', n, tags);
    },
    onLag: (lag) => node.metrics.gauge('sink.consumer_lag', lag, tags),
  });
  try {
    await runner.start();
  } catch (err) {
    await runner.stop();
    await sink.close().catch(() => undefined);
    throw err;
  }
  let stopped = false;
  let resolveDone!: () => void;
  const ended = new Promise<void>((r) => (resolveDone = r));
  const done = Promise.race([runner.failed, ended]).finally(async () => {
    if (!stopped) await runner.stop();
    await sink.close().catch(() => undefined);
  });
  return {
    done,
    stop: async () => {
      stopped = true;
      await runner.stop();
      resolveDone();
      await done.catch(() => undefined);
    },
  };
}

/** Folds counts by Connect type into counts by `event_type` tag (unknown types are one `other`). */
function byTypeTag(counts: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [type, n] of counts) {
    const k = eventTypeTag(type);
    out.set(k, (out.get(k) ?? 0) + n);
  }
  return out;
}

/** Counts items by Connect type, so per-type metrics cost one call per type per batch, not per event. */
function countBy<T>(items: readonly T[], type: (t: T) => string): Map<string, number> {
  const raw = new Map<string, number>();
  for (const item of items) {
    const k = type(item);
    raw.set(k, (raw.get(k) ?? 0) + 1);
  }
  return byTypeTag(raw);
}
