// An e2e fixture for the control plane: the Connect emulator, HTTP receivers, a control topic and
// node group of the test's own (control.topic / control.group), and `tributary node --control`
// child processes on fixed ports that tests can SIGKILL, SIGSTOP and ask for /status.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { choosePort } from '../../src/infra/ports.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Producer } from 'kafkajs';
import { startConnectEmulator, type AppInput, type ConnectEmulator } from '../../src/connect/emulator/index.js';
import { parseNodeConfig, type NodeConfig } from '../../src/config/node-config.js';
import { createControlProducer, writeControlRecord } from '../../src/control/control-topic.js';
import { IntegrationsClient } from '../../src/control/integrations-client.js';
import { controlNames, type ControlNames } from '../../src/kafka/topics.js';
import { createLogger } from '../../src/observability/logger.js';
import { StateStore, type IntegrationRow } from '../../src/state/state-store.js';
import { runCli, type CliResult } from './cli.js';
import { startHttpReceiver, type HttpReceiver } from './http-receiver.js';
import { brokers, dynamoEndpoint, testDynamo, testKafka, uniq } from './infra.js';

export const SESSION_TIMEOUT_MS = 6_000;

export interface ClusterApp {
  totalEvents: number;
  /** Events per second the emulator makes available (so streams are live while nodes fail). */
  rate?: number | 'max';
}

export interface NodeStatus {
  nodeId: string;
  control?: { partitions: number[]; settled: boolean; generation: number };
  integrations: { integrationId: string; status: string; source: boolean; sink: boolean; epoch?: number; checkpoint?: string; thread?: number }[];
}

export interface ClusterNode {
  name: string;
  child: ChildProcess;
  url: string;
  status(): Promise<NodeStatus | undefined>;
  exited: Promise<number | null>;
}

export interface ControlCluster {
  emulator: ConnectEmulator;
  receiver: HttpReceiver;
  /** Raw spec documents by integration id (webhook to `receiver`, inline tokens: local mode). */
  specs: Map<string, Record<string, unknown>>;
  ids: string[];
  names: ControlNames;
  config: NodeConfig;
  client: IntegrationsClient;
  state: StateStore;
  nodes: ClusterNode[];
  startNode(name: string): Promise<ClusterNode>;
  /**
   * Runs the `tributary` CLI as an operator would (`--config` pointing at this cluster is
   * appended), asynchronously (test/helpers/cli.ts).
   */
  cli(...args: string[]): Promise<CliResult>;
  /** Writes a record to the control topic (or another, e.g. the flags topic) as any producer would (value null: tombstone). */
  write(key: string, value: string | null, topic?: string): Promise<void>;
  appKey(id: string): string;
  row(id: string): Promise<IntegrationRow | undefined>;
  /** Which node runs each integration (source or sink up), from every live node's /status. */
  placement(): Promise<Map<string, string[]>>;
  close(): Promise<void>;
}

export const freePort = (): Promise<number> => choosePort(0, 'a test node');

export async function startControlCluster(
  apps: ClusterApp[],
  o: {
    partitions?: number;
    control?: Record<string, unknown>;
    /** Flag `sink.stableChunks` on every node, and a receiver that drops batch ids it already accepted. */
    stableChunks?: boolean;
    /** The nodes' `integrations.threads`. */
    threads?: number;
  } = {},
): Promise<ControlCluster> {
  const run = uniq('cp');
  const appInputs: AppInput[] = apps.map((a, i) => ({
    key: `${run}-app${i}`.replace(/[^A-Za-z0-9_-]/g, '_'),
    token: `token-${run}-${i}`,
    // The emulator's small apps arrive in rare bursts; medium gives the steady stream tests need.
    // The spec still says small (one events partition).
    size: 'medium',
    totalEvents: a.totalEvents,
    rate: a.rate ?? 'max',
    retainEvents: Math.max(a.totalEvents + 10, 1000),
    seed: 2000 + i,
  }));
  const emulator = await startConnectEmulator({ apps: appInputs, keepAliveMs: 500, servedLimit: 2_000_000 });
  const receiver = await startHttpReceiver({ path: '/ingest', dropRepeatedBatches: o.stableChunks === true });
  const specs = new Map<string, Record<string, unknown>>();
  const appKeys = new Map<string, string>();
  appInputs.forEach((a, i) => {
    const id = `${run}-i${i}`;
    appKeys.set(id, a.key);
    specs.set(id, {
      version: 1,
      id,
      app: { key: a.key, size: 'small' },
      connect: { url: emulator.eventsUrl, token: { value: a.token }, start: 'EARLIEST', idleTimeoutMs: 5_000 },
      sink: { type: 'webhook', url: receiver.url, timeoutMs: 10_000, retry: { initialMs: 100, maxMs: 2_000 } },
      options: { batch: { maxEvents: 200, lingerMs: 50 } },
    });
  });
  const table = uniq('tributary-cp');
  const dir = mkdtempSync(join(tmpdir(), 'tributary-cp-'));
  const control = {
    topic: `tributary.control.${run}`,
    group: `tributary.nodes.${run}`,
    partitions: o.partitions ?? 12,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: 1_000,
    rebuildIdleMs: 2_000,
    handoverTimeoutMs: 15_000,
    auditIntervalMs: 2_000,
    ...o.control,
  };
  const rawConfig: Record<string, unknown> = {
    local: true,
    kafka: { brokers: brokers() },
    dynamodb: { endpoint: dynamoEndpoint(), table },
    http: { host: '127.0.0.1', port: 0 },
    log: { level: process.env.TRIBUTARY_LOG_LEVEL ?? 'warn' },
    control,
    ...(o.stableChunks ? { flags: { 'sink.stableChunks': true } } : {}),
    ...(o.threads !== undefined ? { integrations: { threads: o.threads } } : {}),
  };
  // The sinks' own group session (when this build has the setting): a dead node's sink partitions move as fast.
  if ('sessionTimeoutMs' in parseNodeConfig({}).kafka) (rawConfig.kafka as Record<string, unknown>).sessionTimeoutMs = SESSION_TIMEOUT_MS;
  const config = parseNodeConfig(rawConfig);
  const names = controlNames(config.control);
  const client = IntegrationsClient.create(config, createLogger({ level: 'silent' }));
  const state = new StateStore(testDynamo(), table);
  await state.ensureTable();
  const nodes: ClusterNode[] = [];
  let producer: Producer | undefined;

  const startNode = async (name: string): Promise<ClusterNode> => {
    const port = await freePort();
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ ...rawConfig, nodeId: name, http: { host: '127.0.0.1', port } }));
    const child = spawn(process.execPath, ['bin/tributary.js', 'node', '--control', '--config', file, '--data-dir', join(dir, 'data'), '--drain-timeout', '20s'], {
      // TRIBUTARY_TEST_NODE_LOGS=1 shows the nodes' logs (stdout) while debugging a test.
      stdio: ['ignore', process.env.TRIBUTARY_TEST_NODE_LOGS ? 'inherit' : 'ignore', 'inherit'],
      env: { ...process.env },
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}`;
    const status = async (): Promise<NodeStatus | undefined> => {
      try {
        const res = await fetch(`${url}/status`, { signal: AbortSignal.timeout(3_000) });
        return res.ok ? ((await res.json()) as NodeStatus) : undefined;
      } catch {
        return undefined;
      }
    };
    const node: ClusterNode = { name, child, url, status, exited };
    nodes.push(node);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`node ${name} exited with ${child.exitCode}`);
      const s = await status();
      if (s?.control) return node;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`node ${name} did not start in 30 s`);
  };

  return {
    emulator,
    receiver,
    specs,
    ids: [...specs.keys()],
    names,
    config,
    client,
    state,
    nodes,
    startNode,
    cli: (...args) => {
      const file = join(dir, 'cli-config.json');
      writeFileSync(file, JSON.stringify({ local: true, kafka: { brokers: config.kafka.brokers }, dynamodb: { endpoint: config.dynamodb.endpoint, table: config.dynamodb.table }, control: { topic: names.topic, group: names.group } }));
      return runCli([...args, '--config', file]);
    },
    write: async (key, value, topic = names.topic) => {
      if (!producer) {
        producer = createControlProducer(testKafka());
        await producer.connect();
      }
      await writeControlRecord(producer, topic, key, value);
    },
    appKey: (id) => appKeys.get(id)!,
    row: (id) => state.get(id),
    placement: async () => {
      const out = new Map<string, string[]>();
      for (const n of nodes) {
        if (n.child.exitCode !== null || n.child.signalCode !== null) continue;
        const s = await n.status();
        for (const i of s?.integrations ?? []) {
          if (!i.source && !i.sink) continue;
          out.set(i.integrationId, [...(out.get(i.integrationId) ?? []), n.name]);
        }
      }
      return out;
    },
    close: async () => {
      for (const n of nodes) {
        if (n.child.exitCode === null && n.child.signalCode === null) {
          n.child.kill('SIGCONT');
          n.child.kill('SIGKILL');
        }
      }
      await Promise.all(nodes.map((n) => n.exited));
      await producer?.disconnect().catch(() => undefined);
      await client.close();
      state.client.destroy();
      rmSync(dir, { recursive: true, force: true });
      await receiver.close();
      await emulator.close();
    },
  };
}
