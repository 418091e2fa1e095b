// Builds the two long-running tasks of an integration from its spec: the source (Connect →
// Kafka) and the sink (Kafka → third party). Plain functions over the node's shared clients;
// the actors decide when they run.
import { ConnectClient, type StreamItem } from '../connect/client/index.js';
import { resolveSecret } from '../control/secrets.js';
import type { IntegrationSpec } from '../control/spec.js';
import { tierSettings } from '../control/spec.js';
import { ensureTopic } from '../kafka/kafka.js';
import { topics } from '../kafka/topics.js';
import type { DedupWindow } from '../pipeline/dedup-window.js';
import { SinkRunner } from '../pipeline/sink-runner.js';
import { SourceRunner } from '../pipeline/source-runner.js';
import { buildSink, validateSinkConfig } from '../sinks/registry.js';
import type { StateWriter } from '../state/state-writer.js';
import type { TaskHandle } from '../supervision/nact-adapter.js';
import type { NodeContext } from './node-context.js';

/** Creates the events and DLQ topics with the spec's (or its tier's) partitions and retention. */
export async function ensureIntegrationTopics(node: NodeContext, spec: IntegrationSpec): Promise<void> {
  const tier = tierSettings(spec.app.size);
  const retentionMs = spec.options.retentionMs ?? tier.retentionMs;
  await ensureTopic(node.admin, { topic: topics.events(spec.id), partitions: spec.options.partitions ?? tier.partitions, retentionMs });
  await ensureTopic(node.admin, { topic: topics.dlq(spec.id), partitions: 1, retentionMs: Math.max(retentionMs, 7 * 86_400_000) });
}

export interface SourceTaskOptions {
  node: NodeContext;
  spec: IntegrationSpec;
  state: StateWriter;
  /** The durable checkpoint to resume after (exclusive), if any. */
  resumeOffset: () => string | undefined;
  onCheckpoint: (offset: string) => void;
  healthy: () => void;
  onStreamItem?: (item: StreamItem) => void;
}

export async function startSourceTask(o: SourceTaskOptions): Promise<TaskHandle> {
  const { spec, node } = o;
  const token = await resolveSecret(spec.connect.token, node.env);
  const url = new URL(spec.connect.url);
  const resumeOffset = o.resumeOffset();
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
    { logger: node.logger },
  );
  const runner = new SourceRunner({
    integrationId: spec.id,
    client,
    producer: node.producer,
    state: o.state,
    logger: node.logger.child({ integrationId: spec.id, role: 'source' }),
    batch: { maxCount: spec.options.batch.maxEvents, maxBytes: spec.options.batch.maxBytes, lingerMs: spec.options.batch.lingerMs },
    onProduced: (events) => {
      if (events.length) o.healthy();
    },
    onStreamItem: (item) => {
      if (item.kind === 'connected') o.healthy();
      o.onStreamItem?.(item);
    },
  });
  const abort = new AbortController();
  const done = runner.run(abort.signal).finally(async () => {
    if (runner.watermark) o.onCheckpoint(runner.watermark);
    await client.close().catch(() => undefined);
  });
  // Each acknowledged watermark is reported as it moves, not only at the end.
  const watch = setInterval(() => {
    if (runner.watermark) o.onCheckpoint(runner.watermark);
  }, 500);
  watch.unref();
  void done.finally(() => clearInterval(watch)).catch(() => undefined);
  return {
    done,
    stop: async () => {
      abort.abort();
      await done.catch(() => undefined);
    },
  };
}

export interface SinkTaskOptions {
  node: NodeContext;
  spec: IntegrationSpec;
  state: StateWriter;
  dedup: DedupWindow;
  healthy: () => void;
}

export async function startSinkTask(o: SinkTaskOptions): Promise<TaskHandle> {
  const { spec, node } = o;
  const config = validateSinkConfig(spec.sink, { local: node.config.local });
  const logger = node.logger.child({ integrationId: spec.id, role: 'sink', sinkType: config.type });
  const sink = await buildSink(config, {
    integrationId: spec.id,
    appKey: spec.app.key,
    tier: spec.app.size,
    local: node.config.local,
    logger,
    resolveSecret: (ref) => resolveSecret(ref, node.env),
    dataDir: node.dataDir,
  });
  const runner = new SinkRunner({
    integrationId: spec.id,
    kafka: node.kafka,
    producer: node.producer,
    sink,
    dedup: o.dedup,
    state: o.state,
    logger,
    onDelivered: () => o.healthy(),
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
