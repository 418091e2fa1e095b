// `tributary local` (what `npm start` runs): the whole system on one machine. Embedded Kafka and
// DynamoDB Local (or KAFKA_BROKERS / DYNAMODB_ENDPOINT), the Connect emulator with three demo
// apps, a local webhook receiver and a file sink directory, three demo integrations written to
// the control topic through the customers' code path (IntegrationsClient, as `tributary
// integrations create|update`), and a node in control mode — with a live view, demo faults,
// and a final summary whose exit code says whether every served event was delivered.
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadNodeConfig, type NodeConfig } from '../config/node-config.js';
import { startConnectEmulator, type ConnectEmulator } from '../connect/emulator/index.js';
import { IntegrationsClient } from '../control/integrations-client.js';
import { errorMessage, TributaryError } from '../errors.js';
import { infraDown, infraUp, type InfraState } from '../infra/local-infra.js';
import { startNode, type RunningNode } from '../node/node.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { progress } from '../observability/progress.js';
import type { IntegrationRow } from '../state/state-store.js';
import { buildSummary, exitCodeOf, summaryLines, type IntegrationEvidence, type LocalSummary } from './local-summary.js';
import { ratePerSec, renderView, type CounterSample, type IntegrationView, type LocalSnapshot } from './local-view.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

export const demoFaults = ['none', 'sink-down', 'connect-errors'] as const;
export type DemoFault = (typeof demoFaults)[number];

export interface LocalModeOptions {
  configFile?: string | undefined;
  /** Stop by itself after this long (then drain and summarise). */
  durationMs?: number | undefined;
  json?: boolean;
  demoFault?: DemoFault;
  /** When the demo fault starts and how long it lasts. */
  faultAfterMs?: number;
  faultForMs?: number;
  /** Control topic (and `<topic>.nodes` group), to keep several runs on one Kafka apart. */
  controlTopic?: string | undefined;
  /** Where data and logs go (default .tributary/local). */
  dir?: string;
  /** How long the end of a run waits for every served event to be delivered. */
  drainTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

interface DemoApp {
  id: string;
  key: string;
  size: 'small' | 'medium' | 'large';
  rate: number;
  sink: 'file' | 'webhook';
}

/** Modest rates, so a 2-core laptop copes with Kafka, DynamoDB Local and the node besides. */
export const demoApps: readonly DemoApp[] = [
  { id: 'demo-small', key: 'demo-small', size: 'small', rate: 5, sink: 'file' },
  { id: 'demo-medium', key: 'demo-medium', size: 'medium', rate: 50, sink: 'webhook' },
  { id: 'demo-large', key: 'demo-large', size: 'large', rate: 500, sink: 'webhook' },
];

const signingSecret = 'local-demo-signing-secret';
/** Connect sessions end this often (like the real service), so a Connect fault shows within seconds. */
const sessionMaxMs = 10_000;

/**
 * Local-mode alerting: short thresholds so a demo fault pages within a minute (docs/local-mode.md).
 * Applied only when no --config file is given.
 */
const localAlerting = [
  { path: ['alerting', 'policy', 'source'], value: 'tributary-local' },
  { path: ['alerting', 'policy', 'resolveAfterMs'], value: 10_000 },
  { path: ['alerting', 'policy', 'tiers', 'large', 'failingForMs'], value: 30_000 },
  { path: ['alerting', 'policy', 'tiers', 'medium', 'failingForMs'], value: 120_000 },
  { path: ['alerting', 'scanIntervalMs'], value: 2_000 },
  { path: ['alerting', 'tickMs'], value: 1_000 },
  { path: ['alerting', 'stall', 'afterMs'], value: 5_000 },
  { path: ['control', 'rebuildIdleMs'], value: 1_000 },
  { path: ['control', 'handoverTimeoutMs'], value: 0 },
];

class Steps {
  private n = 0;
  constructor(private readonly total: number) {}
  start(text: string): ReturnType<typeof progress> {
    this.n += 1;
    const p = progress(`${this.n}/${this.total}`);
    p.update(text);
    return p;
  }
}

/** Runs local mode until --duration, `q`, SIGINT or SIGTERM; resolves to the process exit code. */
export async function runLocalMode(o: LocalModeOptions): Promise<number> {
  const env = o.env ?? process.env;
  const started = Date.now();
  const dir = resolve(o.dir ?? join('.tributary', 'local'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'node.log');
  const interactive = process.stdout.isTTY === true && !o.json;
  const demoFault = o.demoFault ?? 'none';
  const steps = new Steps(4);

  // Each run starts afresh: the file sink's directory holds this run's events only.
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const logStream: WriteStream = createWriteStream(logFile, { flags: 'w' });
  const logLevel = env.TRIBUTARY_LOG_LEVEL ?? 'info';
  const logger: Logger = createLogger({ level: logLevel, destination: logStream });

  let stopReason: string | undefined;
  let wake: () => void = () => {};
  const stopped = new Promise<void>((r) => (wake = r));
  let skipDrain = false;
  const requestStop = (reason: string): void => {
    if (stopReason !== undefined) {
      skipDrain = true; // a second Ctrl-C: stop now
      return;
    }
    stopReason = reason;
    wake();
  };
  const onSigint = () => requestStop('SIGINT');
  const onSigterm = () => requestStop('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);

  let infra: InfraState | undefined;
  let infraStarted = false;
  let cacheDir: string | undefined;
  let emulator: ConnectEmulator | undefined;
  let emulatorClosed = false;
  let receiver: WebhookReceiver | undefined;
  let client: IntegrationsClient | undefined;
  let node: RunningNode | undefined;
  let fatal: string | undefined;
  let summary: LocalSummary | undefined;
  let drained: boolean | undefined;
  /** Each integration's status when Connect was stopped for the drain (the summary's). */
  let statusesAtStop: Map<string, string> | undefined;
  const timers: NodeJS.Timeout[] = [];
  let restoreKeys: (() => void) | undefined;
  let cleanedUp = false;

  try {
    // 1. Kafka and DynamoDB.
    const external = Boolean(env.KAFKA_BROKERS && env.DYNAMODB_ENDPOINT);
    const base = loadNodeConfig({ file: o.configFile, env });
    cacheDir = base.infra.cacheDir;
    let p = steps.start(external ? 'using KAFKA_BROKERS and DYNAMODB_ENDPOINT' : 'starting the embedded Kafka and DynamoDB Local');
    if (external) {
      infra = {
        instance: 'external',
        dir,
        servers: [
          { name: 'kafka', address: env.KAFKA_BROKERS!, startedAt: new Date().toISOString() },
          { name: 'dynamodb', address: env.DYNAMODB_ENDPOINT!, startedAt: new Date().toISOString() },
        ],
      };
    } else {
      infraStarted = true;
      infra = await infraUp({
        ...(cacheDir ? { cacheDir } : {}),
        instance: 'local',
        ownerPid: process.pid,
        kafkaPort: base.infra.kafkaPort,
        dynamodbPort: base.infra.dynamodbPort,
        kafkaHeapMb: base.infra.kafkaHeapMb,
        dynamodbHeapMb: base.infra.dynamodbHeapMb,
        env,
      });
    }
    p.done(`Kafka ${addressOf(infra, 'kafka')}, DynamoDB ${addressOf(infra, 'dynamodb')}${external ? ' (external)' : ''}`);
    if (stopReason) return await finish();

    const config = localConfig(o, env, infra);

    // 2. Connect emulator, webhook receiver, file sink directory.
    p = steps.start('starting the Connect emulator and the local receivers');
    // A fresh seed and first offset per run: a rerun against the same Kafka never looks like a
    // replay of the last run's events (sinks deduplicate by id; sources resume by offset).
    const seed = Math.floor(Math.random() * 0xffffffff);
    emulator = await startConnectEmulator({
      seed,
      keepAliveMs: 1_000,
      servedLimit: 1_000_000,
      apps: demoApps.map((a) => ({
        key: a.key,
        token: `${a.key}-token`,
        size: a.size,
        rate: a.rate,
        retainEvents: 200_000,
        firstOffset: Date.now() * 1_000,
        sessionMaxMs,
      })),
    });
    receiver = await startWebhookReceiver({ signingSecret });
    p.done(`Connect emulator ${emulator.url} (apps ${demoApps.map((a) => `${a.key} ${a.rate}/s`).join(', ')}); webhook receiver ${receiver.url}; file sink ${dataDir}`);
    if (stopReason) return await finish();

    // 3. The demo integrations, through the customers' code path.
    p = steps.start(`writing ${demoApps.length} demo integrations to the control topic (as \`tributary integrations create\`)`);
    client = IntegrationsClient.create(config, logger);
    for (const a of demoApps) {
      const spec = demoSpec(a, emulator.eventsUrl, receiver);
      const written = await client.create(spec).catch(async (err: unknown) => {
        // A rerun against the same Kafka: the id exists, so replace its spec (integrations update).
        if (err instanceof TributaryError && /already exists/.test(err.message)) return client!.update(spec);
        throw err;
      });
      p.update(`${written.action} ${written.id}`);
    }
    p.done(`wrote ${demoApps.map((a) => a.id).join(', ')} to ${client.names.topic}`);
    if (stopReason) return await finish();

    // 4. The node, in control mode, and the view.
    p = steps.start('starting a node in control mode');
    node = await startNode({
      config,
      logger,
      dataDir,
      control: true,
      restartPolicy: { initialDelayMs: 500, maxDelayMs: 10_000 },
      probeIntervalMs: 10_000,
      env,
      onFatal: (reason) => {
        fatal = reason;
        requestStop(`node fault: ${reason}`);
      },
    });
    p.done(`node ${node.nodeId} (status ${node.url}/status); logs in ${logFile}`);

    const faults = new DemoFaults(emulator, receiver);
    const view = new ViewSampler(node, started, faults);
    const hint = interactive
      ? `keys: f = sink down (demo-large's receiver) on/off, c = Connect 503s on/off, q = quit${demoFault !== 'none' ? `; --demo-fault ${demoFault} at ${fmtS(o.faultAfterMs ?? 20_000)}` : ''}`
      : undefined;
    if (interactive) {
      restoreKeys = listenForKeys((key) => {
        if (key === 'f') faults.toggle('sink-down');
        else if (key === 'c') faults.toggle('connect-errors');
        else if (key === 'q' || key === '\u0003') requestStop(key === 'q' ? 'q' : 'SIGINT');
      });
      process.stdout.write('\x1b[2J\x1b[?25l');
    } else {
      process.stderr.write(`running${o.durationMs ? ` for ${fmtS(o.durationMs)}` : ''}; ${demoFault !== 'none' ? `demo fault ${demoFault} at ${fmtS(o.faultAfterMs ?? 20_000)} for ${fmtS(o.faultForMs ?? 50_000)}; ` : ''}Ctrl-C stops\n`);
    }
    if (demoFault !== 'none') {
      const after = o.faultAfterMs ?? 20_000;
      timers.push(setTimeout(() => faults.set(demoFault, true), after));
      timers.push(setTimeout(() => faults.set(demoFault, false), after + (o.faultForMs ?? 50_000)));
    }
    if (o.durationMs !== undefined) timers.push(setTimeout(() => requestStop('duration'), o.durationMs));
    let lastPlain = 0;
    const tick = async () => {
      const snap = await view.sample(hint).catch((err: unknown) => {
        logger.warn({ err: errorMessage(err) }, 'local view: sample failed');
        return undefined;
      });
      if (!snap || stopReason) return;
      if (interactive) {
        const lines = renderView(snap, { width: process.stdout.columns ?? 120, color: true });
        process.stdout.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\n')}\n\x1b[J`);
      } else if (Date.now() - lastPlain >= 10_000) {
        lastPlain = Date.now();
        process.stderr.write(`${plainLine(snap)}\n`);
      }
    };
    let ticking = false;
    const interval = setInterval(() => {
      if (ticking) return;
      ticking = true;
      void tick().finally(() => (ticking = false));
    }, 1_000);
    timers.push(interval);
    await stopped;
    return await finish();
  } catch (err) {
    if (interactive) process.stdout.write('\x1b[?25h');
    process.stderr.write(`tributary local: ${errorMessage(err)}\n`);
    await cleanup().catch(() => undefined);
    process.stderr.write(`Logs: ${logFile}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }

  async function finish(): Promise<number> {
    for (const t of timers) clearTimeout(t);
    restoreKeys?.();
    if (interactive) process.stdout.write('\x1b[?25h\n');
    process.stderr.write(`stopping (${stopReason ?? 'done'})…\n`);
    if (node && emulator && receiver && !fatal) {
      drained = skipDrain ? false : await drain(o.durationMs !== undefined || o.json ? (o.drainTimeoutMs ?? 45_000) : 15_000);
      summary = await summarise();
    }
    await cleanup();
    if (summary) {
      if (o.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else process.stderr.write(`${summaryLines(summary).join('\n')}\n`);
    }
    if (fatal) process.stderr.write(`the node stopped after a node fault: ${fatal}\n`);
    process.stderr.write(
      `Stopped. Data: ${dataDir} (file sink: ${join(dataDir, 'demo-small')}). Node log: ${logFile}.` +
        `${infraStarted && infra ? ` Kafka/DynamoDB logs were in ${infra.dir} (removed with the servers).` : ''}\n`,
    );
    if (fatal) return 69;
    return summary ? exitCodeOf(summary) : 1;
  }

  /**
   * Stops Connect from serving (closes the emulator: every stream ends), then waits until every
   * served event is delivered. The integrations' statuses are kept from just before: once Connect
   * is gone every source retries a refused connection and reads `failing`, which says nothing of
   * the run.
   */
  async function drain(timeoutMs: number): Promise<boolean> {
    const p = progress('drain');
    receiver!.setDown('*', false);
    emulator!.clearFaults();
    statusesAtStop = await liveStatuses();
    await emulator!.close();
    emulatorClosed = true;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const evidence = await collectEvidence();
      const missing = evidence.reduce((n, e) => n + [...new Set(e.servedIds)].filter((id) => !e.deliveredIds.has(id)).length, 0);
      if (missing === 0) {
        p.done('every served event was delivered');
        return true;
      }
      if (Date.now() >= deadline) {
        p.done(`gave up after ${fmtS(timeoutMs)}: ${missing} served events not delivered`);
        return false;
      }
      p.update(`Connect stopped; waiting for ${missing} served events to reach their sinks`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async function liveStatuses(): Promise<Map<string, string>> {
    return new Map((await node!.guardian.status().catch(() => [])).map((s) => [s.integrationId, s.status]));
  }

  async function collectEvidence(): Promise<IntegrationEvidence[]> {
    const rows = new Map((await node!.context.state.list().catch(() => [] as IntegrationRow[])).map((r) => [r.integrationId, r]));
    const statuses = statusesAtStop ?? (await liveStatuses());
    return demoApps.map((a) => {
      const delivered = a.sink === 'file' ? fileSinkIds(join(dataDir, a.id)) : { ids: receiver!.ids(a.id), duplicates: receiver!.tally(a.id).duplicates };
      return {
        id: a.id,
        app: a.key,
        tier: a.size,
        sink: a.sink,
        status: statuses.get(a.id) ?? rows.get(a.id)?.status ?? 'unknown',
        servedIds: emulator!.served(a.key).map((e) => e.id),
        deliveredIds: delivered.ids,
        duplicates: delivered.duplicates,
        dlq: Number(rows.get(a.id)?.counters?.dlq ?? 0),
      };
    });
  }

  async function summarise(): Promise<LocalSummary> {
    const alerting = node!.alerting.status();
    return buildSummary({
      ranMs: Date.now() - started,
      integrations: await collectEvidence(),
      node: { id: node!.nodeId, health: node!.watchdog.checks(), drained },
      pages: { opened: alerting.counters.triggers, resolved: alerting.counters.resolves, open: alerting.openPages.length },
      dataDir,
      logFile,
    });
  }

  async function cleanup(): Promise<void> {
    if (cleanedUp) return;
    cleanedUp = true;
    for (const t of timers) clearTimeout(t);
    restoreKeys?.();
    if (node) {
      const p = progress('stop');
      p.update('draining the node (stop sources, flush, commit, leave the groups)');
      await node.shutdown(20_000).catch(() => false);
      p.done('node stopped');
    }
    await client?.close().catch(() => undefined);
    if (emulator && !emulatorClosed) await emulator.close().catch(() => undefined);
    await receiver?.close().catch(() => undefined);
    if (infraStarted) {
      const p = progress('stop');
      p.update('stopping the embedded Kafka and DynamoDB Local');
      await infraDown({ ...(cacheDir ? { cacheDir } : {}), instance: 'local', env }).catch((err: unknown) => process.stderr.write(`infra down: ${errorMessage(err)}\n`));
      p.done('Kafka and DynamoDB Local stopped');
    }
    logger.flush();
    await new Promise<void>((r) => logStream.end(() => r()));
  }
}

function addressOf(infra: InfraState, name: 'kafka' | 'dynamodb'): string {
  return infra.servers.find((s) => s.name === name)?.address ?? '?';
}

function fmtS(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

/** The node config of local mode: the file and environment, the servers in use, loopback HTTP, local alerting thresholds. */
function localConfig(o: LocalModeOptions, env: NodeJS.ProcessEnv, infra: InfraState): NodeConfig {
  const overrides: { path: readonly string[]; value: unknown }[] = [
    { path: ['local'], value: true },
    { path: ['kafka', 'brokers'], value: addressOf(infra, 'kafka').split(',') },
    { path: ['dynamodb', 'endpoint'], value: addressOf(infra, 'dynamodb') },
  ];
  if (!env.TRIBUTARY_HTTP_HOST) overrides.push({ path: ['http', 'host'], value: '127.0.0.1' });
  if (!env.TRIBUTARY_HTTP_PORT) overrides.push({ path: ['http', 'port'], value: 0 });
  if (o.controlTopic) {
    overrides.push({ path: ['control', 'topic'], value: o.controlTopic }, { path: ['control', 'group'], value: `${o.controlTopic}.nodes` });
  }
  if (!o.configFile) overrides.push(...localAlerting);
  return loadNodeConfig({ file: o.configFile, env, overrides });
}

function demoSpec(a: DemoApp, connectUrl: string, receiver: WebhookReceiver): Record<string, unknown> {
  const sink =
    a.sink === 'file'
      ? { type: 'file', rotateMs: 60_000 }
      : {
          type: 'webhook',
          url: receiver.urlFor(a.id),
          gzip: true,
          signing: { secret: { value: signingSecret } },
          timeoutMs: 10_000,
          retry: { initialMs: 250, maxMs: 3_000 },
        };
  return {
    version: 1,
    id: a.id,
    app: { key: a.key, size: a.size },
    connect: { url: connectUrl, token: { value: `${a.key}-token` }, start: 'EARLIEST', idleTimeoutMs: 5_000 },
    sink,
    options: { batch: { maxEvents: 500, lingerMs: 200 } },
  };
}

/** Distinct event ids in the file sink's NDJSON files of one integration, and repeats. */
export function fileSinkIds(dir: string): { ids: Set<string>; duplicates: number } {
  const ids = new Set<string>();
  let duplicates = 0;
  if (!existsSync(dir)) return { ids, duplicates };
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.ndjson')).sort()) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const id = String((JSON.parse(line) as { id?: unknown }).id ?? '');
        if (ids.has(id)) duplicates += 1;
        else ids.add(id);
      } catch {
        // a torn last line (the sink cuts failed writes back): ignored
      }
    }
  }
  return { ids, duplicates };
}

/** The demo faults: the large app's receiver answering 503, and Connect answering 503. */
class DemoFaults {
  private readonly on = new Set<DemoFault>();
  constructor(
    private readonly emulator: ConnectEmulator,
    private readonly receiver: WebhookReceiver,
  ) {}

  toggle(f: DemoFault): void {
    this.set(f, !this.on.has(f));
  }

  set(f: DemoFault, on: boolean): void {
    if (f === 'none') return;
    if (on) this.on.add(f);
    else this.on.delete(f);
    if (f === 'sink-down') this.receiver.setDown('demo-large', on);
    if (f === 'connect-errors') {
      // New requests get 503 (open streams end within the emulator's session limit, then reconnect into it).
      if (on) this.emulator.setFault('*', { status: { code: 503, count: 1_000_000, message: 'local demo fault' } });
      else this.emulator.clearFaults('*');
    }
  }

  describe(): string[] {
    return [...this.on].map((f) => (f === 'sink-down' ? "sink down: demo-large's webhook receiver answers 503" : 'Connect errors: every new Connect request answered 503'));
  }
}

/** Samples the node once a second: status from the actors, counters from the state rows, health, pages. */
class ViewSampler {
  private prev = new Map<string, CounterSample>();
  private baseline: Map<string, IntegrationRow['counters']> | undefined;

  constructor(
    private readonly node: RunningNode,
    private readonly started: number,
    private readonly faults: DemoFaults,
  ) {}

  async sample(hint: string | undefined): Promise<LocalSnapshot> {
    const now = Date.now();
    const [rows, statuses] = await Promise.all([this.node.context.state.list(), this.node.guardian.status().catch(() => [])]);
    const byId = new Map(rows.map((r) => [r.integrationId, r]));
    // Counters in the table outlive a run (an external DynamoDB): show this run's only.
    this.baseline ??= new Map(demoApps.map((a) => [a.id, byId.get(a.id)?.counters ?? {}]));
    const integrations: IntegrationView[] = demoApps.map((a) => {
      const row = byId.get(a.id);
      const st = statuses.find((s) => s.integrationId === a.id);
      const c = row?.counters ?? {};
      const b = this.baseline!.get(a.id) ?? {};
      const n = (k: keyof NonNullable<IntegrationRow['counters']>) => Math.max(0, Number(c[k] ?? 0) - Number(b[k] ?? 0));
      const cur: CounterSample = { atMs: now, read: n('read'), delivered: n('delivered') };
      const prev = this.prev.get(a.id);
      this.prev.set(a.id, cur);
      const last = row?.lastErrors?.[row.lastErrors.length - 1];
      return {
        id: a.id,
        app: a.key,
        tier: a.size,
        sink: a.sink,
        status: st?.status ?? row?.status ?? 'pending',
        statusReason: st?.statusReason ?? row?.statusReason,
        inPerSec: ratePerSec(prev, cur, 'read'),
        outPerSec: ratePerSec(prev, cur, 'delivered'),
        read: cur.read,
        delivered: cur.delivered,
        backlog: Math.max(0, n('produced') - n('delivered') - n('dlq') - n('deduplicated')),
        consumerLag: row?.consumerLag,
        dlq: n('dlq'),
        lastError: last ? `${last.class}/${last.code}: ${last.message}` : undefined,
        lastErrorAt: last?.at,
      };
    });
    const alerting = this.node.alerting.status();
    return {
      at: new Date(now).toISOString(),
      uptimeMs: now - this.started,
      nodeId: this.node.nodeId,
      health: this.node.watchdog.checks(),
      integrations,
      openPages: alerting.openPages.map((p) => ({ dedupKey: p.dedupKey, severity: p.severity, since: p.since })),
      pagesOpened: alerting.counters.triggers,
      pagesResolved: alerting.counters.resolves,
      faults: this.faults.describe(),
      hint,
    };
  }
}

function plainLine(s: LocalSnapshot): string {
  const parts = s.integrations.map((i) => `${i.id} ${i.status} in ${i.inPerSec.toFixed(0)}/s out ${i.outPerSec.toFixed(0)}/s delivered ${i.delivered} backlog ${i.backlog} dlq ${i.dlq}`);
  return `[local ${Math.round(s.uptimeMs / 1000)}s] ${parts.join(' | ')} | pages open ${s.openPages.length}${s.faults.length ? ` | faults: ${s.faults.join('; ')}` : ''}`;
}

/** Raw-mode keys on a TTY; returns the function that restores the terminal. */
function listenForKeys(onKey: (key: string) => void): () => void {
  const stdin = process.stdin;
  if (!stdin.isTTY) return () => {};
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  const handler = (data: string) => {
    for (const ch of data) onKey(ch.toLowerCase());
  };
  stdin.on('data', handler);
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    stdin.off('data', handler);
    stdin.setRawMode(false);
    stdin.pause();
  };
}
