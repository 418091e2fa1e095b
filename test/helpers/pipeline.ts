// An e2e fixture: the Connect emulator, a real HTTP receiver and a Tributary node (in this
// process, or as a child process that can be SIGKILLed), wired with webhook specs in local mode.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startConnectEmulator, type AppInput, type ConnectEmulator } from '../../src/connect/emulator/index.js';
import { parseNodeConfig } from '../../src/config/node-config.js';
import { parseSpec, type IntegrationSpec } from '../../src/control/spec.js';
import { validateSinkConfig } from '../../src/sinks/registry.js';
import { startNode, type NodeOptions, type RunningNode } from '../../src/node/node.js';
import { createLogger } from '../../src/observability/logger.js';
import { startHttpReceiver, type HttpReceiver } from './http-receiver.js';
import { brokers, dynamoEndpoint, uniq } from './infra.js';

export interface AppPlan {
  size: 'small' | 'medium' | 'large';
  totalEvents: number;
  rate?: number | 'max';
  eventBytes?: number;
}

export interface Fixture {
  emulator: ConnectEmulator;
  /** receivers[0]; integration i delivers to receivers[i % receivers.length]. */
  receiver: HttpReceiver;
  receivers: HttpReceiver[];
  specs: IntegrationSpec[];
  table: string;
  dir: string;
  /** Node config as plain JSON (for child processes). */
  nodeConfig: Record<string, unknown>;
  close(): Promise<void>;
}

export async function startFixture(
  apps: AppPlan[],
  o: {
    receiverPath?: string;
    batchLingerMs?: number;
    sessionTimeoutMs?: number;
    receivers?: number;
    /** A sink config per integration instead of the webhook to a receiver. */
    sinkFor?: (i: number) => Record<string, unknown>;
    /** The node config's fleet-wide feature flags. */
    flags?: Record<string, boolean>;
    /** The node config's `integrations.threads`. */
    threads?: number;
  } = {},
): Promise<Fixture> {
  const run = uniq('e2e');
  const appInputs: AppInput[] = apps.map((a, i) => ({
    key: `${run}-app${i}`.replace(/[^A-Za-z0-9_-]/g, '_'),
    token: `token-${run}-${i}`,
    size: a.size,
    totalEvents: a.totalEvents,
    rate: a.rate ?? 'max',
    retainEvents: Math.max(a.totalEvents + 10, 1000),
    ...(a.eventBytes ? { eventBytes: a.eventBytes } : {}),
    seed: 1000 + i,
  }));
  const emulator = await startConnectEmulator({ apps: appInputs, keepAliveMs: 500, servedLimit: 2_000_000 });
  const receivers: HttpReceiver[] = [];
  for (let i = 0; i < (o.receivers ?? 1); i++) receivers.push(await startHttpReceiver({ path: o.receiverPath ?? '/ingest' }));
  const receiver = receivers[0]!;
  const specs = appInputs.map((a, i) =>
    parseSpec(
      {
        version: 1,
        id: `${run}-i${i}`,
        app: { key: a.key, size: a.size },
        connect: { url: emulator.eventsUrl, token: { value: a.token }, start: 'EARLIEST', idleTimeoutMs: 5_000 },
        sink: o.sinkFor?.(i) ?? { type: 'webhook', url: receivers[i % receivers.length]!.url, timeoutMs: 10_000, retry: { initialMs: 100, maxMs: 2_000 } },
        options: { batch: { maxEvents: 500, maxBytes: 512 * 1024, lingerMs: o.batchLingerMs ?? 50 } },
      },
      { local: true, validateSink: validateSinkConfig },
    ),
  );
  const table = uniq('tributary-state');
  const dir = mkdtempSync(join(tmpdir(), 'tributary-e2e-'));
  const nodeConfig = {
    local: true,
    kafka: { brokers: brokers(), sessionTimeoutMs: o.sessionTimeoutMs ?? 6_000 },
    dynamodb: { endpoint: dynamoEndpoint(), table },
    http: { host: '127.0.0.1', port: 0 },
    log: { level: process.env.TRIBUTARY_LOG_LEVEL ?? 'warn' },
    ...(o.flags ? { flags: o.flags } : {}),
    ...(o.threads !== undefined ? { integrations: { threads: o.threads } } : {}),
  };
  return {
    emulator,
    receiver,
    receivers,
    specs,
    table,
    dir,
    nodeConfig,
    close: async () => {
      for (const r of receivers) await r.close();
      await emulator.close();
      // The node's config, specs and file-sink data: nothing stays in /tmp after the test.
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startInProcessNode(f: Fixture, extra: Partial<NodeOptions> = {}): Promise<RunningNode> {
  const config = parseNodeConfig(f.nodeConfig);
  const node = await startNode({
    config,
    logger: createLogger({ level: config.log.level, name: 'e2e-node' }),
    dataDir: join(f.dir, 'data'),
    restartPolicy: { initialDelayMs: 200, maxDelayMs: 2_000 },
    probeIntervalMs: 2_000,
    ...extra,
  });
  for (const s of f.specs) node.apply(s);
  return node;
}

/** A node in its own process (`tributary node`), so tests can SIGKILL or SIGSTOP it. */
export function spawnNodeProcess(f: Fixture, name: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const configFile = join(f.dir, `${name}.json`);
  writeFileSync(configFile, JSON.stringify({ ...f.nodeConfig, nodeId: name }));
  const specsFile = join(f.dir, 'specs.json');
  writeFileSync(specsFile, JSON.stringify(f.specs));
  const child = spawn(process.execPath, ['bin/tributary.js', 'node', '--config', configFile, '--specs', specsFile, '--data-dir', join(f.dir, 'data')], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...env },
  });
  return child;
}

/** Every id the emulator served for an app. */
export function servedIds(f: Fixture, appIndex: number): string[] {
  return f.emulator.served(f.specs[appIndex]!.app.key).map((e) => e.id);
}

/**
 * Alerting for an e2e node: fast scans and ticks, a 2 s resolve window and pages to a loopback
 * PagerDuty at `pagerUrl`; `policy` and `extra` add the test's own thresholds and detectors.
 */
export function e2eAlerting(source: string, pagerUrl: string, policy: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    policy: { source, resolveAfterMs: 2_000, ...policy },
    pager: { type: 'pagerduty', routingKey: { value: 'E2EROUTINGKEYE2EROUTINGKEYE2E123' }, url: pagerUrl, retry: { initialDelayMs: 100, maxDelayMs: 500 } },
    scanIntervalMs: 500,
    tickMs: 250,
    ...extra,
  };
}
