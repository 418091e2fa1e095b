// A Tributary node: builds the shared clients, checks Kafka and DynamoDB at start-up, runs the
// actor hierarchy for its integrations, serves health endpoints, and drains on SIGTERM within
// a deadline (stop sources, flush, commit, leave groups, exit).
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { startGuardian, type NodeGuardian } from '../actors/guardian.js';
import type { NodeContext } from '../actors/node-context.js';
import { resolveNodeId, type NodeConfig } from '../config/node-config.js';
import { controlNames } from '../kafka/topics.js';
import { ControlPlane } from '../control/control-plane.js';
import { ensureControlTopics, ensureFlagsTopic } from '../control/control-topic.js';
import { FlagsWatcher } from '../control/flags-watcher.js';
import type { IntegrationSpec } from '../control/spec.js';
import { validateSinkConfig } from '../sinks/registry.js';
import { errorMessage, ErrorCode, TributaryError } from '../errors.js';
import { RawKafka } from '../kafka/raw-kafka.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { startProcessStats } from '../observability/process-stats.js';
import { createFaultReporter } from '../observability/sentry.js';
import { integrationStatuses } from '../state/state-store.js';
import { AlertingService } from '../supervision/alerting-service.js';
import type { FailureReport } from '../supervision/guardian-types.js';
import { restartPolicySchema, type RestartPolicyConfig } from '../supervision/restart-policy.js';
import { startHealthServer } from './health-server.js';
import { IntegrationThreads } from './integration-threads.js';
import { createNodeClients } from './node-clients.js';
import { NodeWatchdog, nodeProbes } from './node-health.js';

export interface NodeOptions {
  config: NodeConfig;
  logger?: Logger;
  dataDir?: string;
  restartPolicy?: Partial<RestartPolicyConfig>;
  probeIntervalMs?: number;
  onFailure?: (r: FailureReport) => void;
  env?: NodeJS.ProcessEnv;
  metrics?: Metrics;
  /** Run the integrations the control topic assigns to this node (docs/clustering.md). */
  control?: boolean;
  /** A node fault (Kafka/DynamoDB unreachable past `health.graceMs`): the runner should exit non-zero. */
  onFatal?: (reason: string) => void;
}

export interface RunningNode {
  nodeId: string;
  url: string;
  guardian: NodeGuardian;
  context: NodeContext;
  alerting: AlertingService;
  watchdog: NodeWatchdog;
  apply(spec: IntegrationSpec): void;
  /** The control plane, when the node runs with `control`. */
  control: ControlPlane | undefined;
  /** Drains and stops everything; resolves when done or after `timeoutMs` (then false). */
  shutdown(timeoutMs?: number): Promise<boolean>;
}

/**
 * Starts a node. When a start-up step fails, what was already started is stopped again (timers,
 * clients, actors, the health server) before the error is thrown, so an in-process caller (local
 * mode, tests) is not left with a half-started node keeping the process alive.
 */
export async function startNode(o: NodeOptions): Promise<RunningNode> {
  const undo: (() => unknown)[] = [];
  try {
    return await startNodeParts(o, undo);
  } catch (err) {
    for (const step of undo.reverse()) await Promise.resolve().then(step).catch(() => undefined);
    throw err;
  }
}

async function startNodeParts(o: NodeOptions, undo: (() => unknown)[]): Promise<RunningNode> {
  const { config } = o;
  const nodeId = resolveNodeId(config, o.env);
  const logger = (o.logger ?? createLogger({ level: config.log.level })).child({ nodeId });
  const threads = config.integrations.threads;
  const clients = createNodeClients(config, logger, { clientId: `${config.kafka.clientId}-${nodeId}`, parseThreads: threads === 0 });
  const { kafka, producer, admin, offsetWatcher, raw, lineParser, dynamo, state } = clients;
  // The health probe has a connection of its own: the broker answers one connection's requests in
  // order, so on the shared admin a start of 1,000 integrations (2,000 topic creations queued on
  // it) kept the probe waiting for a minute and the watchdog took Kafka for gone.
  const probeKafka = new RawKafka(kafka);
  const checks: Record<string, string> = { kafka: 'pending', dynamodb: 'pending' };
  const metrics = o.metrics ?? createMetrics(config.metrics, (err) => logger.warn({ err: err.message }, 'statsd send failed'));
  undo.push(() => Promise.allSettled([clients.close(), probeKafka.reset(), metrics.close()]));

  // Start-up checks: a node that cannot reach Kafka or DynamoDB exits, and the orchestrator replaces it.
  try {
    await Promise.all([producer.connect(), admin.connect(), probeKafka.brokersOnly()]);
    checks.kafka = 'ok';
  } catch (err) {
    throw new TributaryError(ErrorCode.kafkaUnavailable, `start-up check failed: Kafka ${config.kafka.brokers.join(',')} unreachable: ${errorMessage(err)}`, { cause: err });
  }
  try {
    await state.ensureTable();
    checks.dynamodb = 'ok';
  } catch (err) {
    throw new TributaryError(ErrorCode.stateUnavailable, `start-up check failed: DynamoDB table ${config.dynamodb.table} unavailable: ${errorMessage(err)}`, { cause: err });
  }

  // Fleet-wide and per-app flags from the flags topic, read before any integration starts.
  const names = controlNames(config.control);
  let guardianRef: NodeGuardian | undefined;
  const flagsWatcher = new FlagsWatcher({ kafka, admin, topic: names.flags, pollMs: config.control.flagsPollMs, logger, metrics, onChange: () => guardianRef?.flagsChanged() });
  undo.push(() => flagsWatcher.stop());
  try {
    await ensureFlagsTopic(admin, names);
    await flagsWatcher.start();
  } catch (err) {
    throw new TributaryError(ErrorCode.kafkaUnavailable, `start-up check failed: flags topic ${names.flags} unreadable: ${errorMessage(err)}`, { cause: err });
  }

  const dataDir = o.dataDir ?? join(process.cwd(), '.tributary', 'data');
  mkdirSync(dataDir, { recursive: true });
  const base = {
    nodeId,
    config,
    logger,
    kafka,
    producer,
    admin,
    offsetWatcher,
    lineParser,
    raw,
    state,
    dataDir,
    restartPolicy: restartPolicySchema.parse(o.restartPolicy ?? {}),
    metrics,
    probeIntervalMs: o.probeIntervalMs ?? 60_000,
    env: o.env ?? process.env,
    flagOverrides: () => flagsWatcher.overrides,
  };
  const faults = await createFaultReporter(config.sentry, { logger, env: base.env, serverName: nodeId });
  undo.push(() => faults.close(2_000));
  const alerting = await AlertingService.create({ config: config.alerting, nodeId, logger, metrics, state, producer: base.producer, admin, faults, env: base.env });
  undo.push(() => alerting.stop(1_000));
  await alerting.start();
  const watchdog = new NodeWatchdog({
    config: config.health,
    probes: nodeProbes({ kafka: probeKafka, brokers: config.kafka.brokers, dynamo, table: config.dynamodb.table }),
    logger,
    metrics,
    onFatal: (reason) => o.onFatal?.(reason),
  });
  watchdog.start();
  undo.push(() => watchdog.stop());
  const onReport = (r: FailureReport) => {
    alerting.report(r);
    o.onFailure?.(r);
  };
  const reported = (r: FailureReport) => {
    logger.info({ report: r }, r.kind === 'failure' ? 'failure reported' : 'recovery reported');
    onReport(r);
  };
  let guardian: NodeGuardian;
  if (threads > 0) {
    // The integrations on worker threads of their own (docs/operations.md, "Integration threads").
    const onThreads = new IntegrationThreads({
      threads,
      data: { nodeId, config, dataDir, restartPolicy: base.restartPolicy, probeIntervalMs: base.probeIntervalMs, env: { ...base.env } },
      flags: () => flagsWatcher.overrides,
      logger,
      metrics,
      onReport: reported,
      onFatal: (reason) => o.onFatal?.(reason),
    });
    try {
      await onThreads.start();
    } catch (err) {
      // A thread's clients could not connect where the main thread's just did: a node fault like the checks above.
      throw new TributaryError(ErrorCode.kafkaUnavailable, `start-up check failed: ${errorMessage(err)}`, { cause: err });
    }
    guardian = onThreads;
  } else {
    guardian = startGuardian(base, reported);
  }
  guardianRef = guardian;
  // As on a shutdown: stop taking partitions, drain the integrations, then leave the group.
  let plane: ControlPlane | undefined;
  undo.push(async () => {
    plane?.quiesce();
    await guardian.shutdown();
    await plane?.stop();
  });
  const context: NodeContext = { ...base, reportFailure: onReport };
  // node.integrations{status}: this node's integrations by status, every status sent (zeros too)
  // so a status that empties drops to 0 on the dashboard instead of keeping its last value.
  let counting = false;
  const statusGauges = setInterval(() => {
    // One query at a time: a slow round (actors busy draining) must not pile up behind itself.
    if (counting) return;
    counting = true;
    void guardian
      .status()
      .then((all) => {
        for (const status of integrationStatuses) metrics.gauge('node.integrations', all.filter((i) => i.status === status).length, { status });
      })
      .catch(() => undefined)
      .finally(() => (counting = false));
  }, 10_000);
  statusGauges.unref();
  undo.push(() => clearInterval(statusGauges));
  const stopProcessStats = startProcessStats(metrics, 10_000, lineParser);
  undo.push(stopProcessStats);

  let control: ControlPlane | undefined;
  if (o.control) {
    await ensureControlTopics(admin, names, config.control.partitions);
    control = new ControlPlane({
      kafka,
      admin,
      producer: base.producer,
      state,
      logger,
      nodeId,
      clientIdPrefix: config.kafka.clientId,
      config: config.control,
      validation: { local: config.local, validateSink: validateSinkConfig },
      runner: {
        apply: (spec, position) => guardian.apply(spec, position),
        remove: (ids) => guardian.removeMany(ids),
        replay: (id, from) => guardian.replay(id, from),
        status: () => guardian.status(),
      },
      // Without its group consumer the node cannot know what it owns: exit and be replaced.
      onFatal: (err) => o.onFatal?.(`control-group consumer failed: ${errorMessage(err)}`),
    });
    plane = control;
    await control.start();
  }

  // Start-up checks before /readyz turns green, once: Kafka and DynamoDB (else no server at all),
  // the control partitions read, and each sink's first healthcheck on this node (passed, failed
  // transiently, or halted as misconfigured). Capped by health.startupChecksMs so one slow
  // third party cannot keep the node out of service.
  const startedAt = Date.now();
  let startupDone = false;
  const startupChecks = async (): Promise<string> => {
    if (startupDone) return 'ok';
    const late = Date.now() - startedAt >= config.health.startupChecksMs;
    const plane = control?.describe();
    if (plane && (plane.generation === 0 || !plane.settled) && !late) return 'control partitions not read yet';
    const integrations = await guardian.status();
    const unchecked = integrations.filter((i) => !i.sinkChecked).map((i) => i.integrationId);
    // An integration too busy to answer counts as unchecked: every applied one must report.
    const unanswered = Math.max(0, (plane?.integrations ?? 0) - integrations.length);
    if (unchecked.length + unanswered > 0 && !late) return `${unchecked.length + unanswered} sink start-up check(s) running`;
    if (unchecked.length > 0) logger.warn({ unchecked: unchecked.length, sample: unchecked.slice(0, 20), afterMs: config.health.startupChecksMs }, 'sink start-up checks still running; ready anyway');
    startupDone = true;
    return 'ok';
  };
  let server: Server | undefined;
  const health = await startHealthServer(config.http.host, config.http.port, {
    // The start-up checks above and the watchdog's last probe of each dependency.
    ready: async () => {
      const dependencies = watchdog.ready();
      const sinks = dependencies ? await startupChecks() : 'waiting for Kafka and DynamoDB';
      return { ready: dependencies && sinks === 'ok', checks: { ...checks, ...watchdog.checks(), sinks } };
    },
    status: async () => ({ nodeId, ...(control ? { control: control.describe() } : {}), integrations: await guardian.status(), alerting: alerting.status() }),
  });
  server = health.server;
  logger.info({ url: health.url }, 'node started');

  let shuttingDown: Promise<boolean> | undefined;
  return {
    nodeId,
    url: health.url,
    guardian,
    context,
    alerting,
    watchdog,
    apply: (spec) => guardian.apply(spec),
    control,
    shutdown: (timeoutMs = 25_000) => {
      shuttingDown ??= (async () => {
        // Drain while still a group member (nobody takes the integrations over meanwhile), then
        // leave the group so their partitions move at once rather than after the session timeout.
        control?.quiesce();
        watchdog.stop();
        clearInterval(statusGauges);
        stopProcessStats();
        // Not awaited here: a read in progress must not delay the drain; awaited before the clients go.
        const flagsStopped = flagsWatcher.stop();
        const drained = await Promise.race([
          guardian.shutdown().then(() => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref()),
        ]);
        if (!drained) logger.warn({ timeoutMs }, 'drain did not finish in time; exiting anyway (the uncommitted tail is re-delivered)');
        await control?.stop();
        // Pending page actions (resolves above all) get a last chance before the producer goes.
        await alerting.stop(Math.min(5_000, timeoutMs));
        await Promise.allSettled([flagsStopped, clients.close(), probeKafka.reset(), metrics.close(), faults.close(2_000)]);
        await new Promise<void>((r) => server?.close(() => r()) ?? r());
        logger.info({ drained }, 'node stopped');
        return drained;
      })();
      return shuttingDown;
    },
  };
}
