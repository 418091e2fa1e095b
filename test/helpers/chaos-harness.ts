// The chaos suite's harness (chaos/, test/e2e/chaos-smoke.test.ts): a fixture (Connect emulator,
// HTTP receivers, webhook specs in local mode), a supervised node child process (restarted when
// it dies, like ECS would; stdout/stderr captured; peak RSS sampled from /proc), and the oracle:
// the emulator's record of every served event against the receivers' record of every delivered
// one plus the DLQ topics read back from Kafka.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { startConnectEmulator, type AppInput, type ConnectEmulator } from '../../src/connect/emulator/index.js';
import type { FaultInput } from '../../src/connect/emulator/options.js';
import { readTail } from '../../src/kafka/tail-reader.js';
import { headers as H, topics } from '../../src/kafka/topics.js';
import { startHttpReceiver, type HttpReceiver, type HttpReceiverOptions, type ReceivedRequest } from './http-receiver.js';
import { brokers, dynamoEndpoint, uniq } from './infra.js';

export interface ChaosApp {
  size: 'small' | 'medium' | 'large';
  totalEvents: number;
  rate?: number | 'max';
  eventBytes?: number;
  token?: string;
}

export interface ChaosFixtureOptions {
  receivers?: number;
  receiver?: HttpReceiverOptions;
  /** Sink config per integration (default: webhook to its receiver, short retries). */
  sink?: (i: number, rx: HttpReceiver) => Record<string, unknown>;
  /** Extra spec `options` (retention, batch). */
  options?: Record<string, unknown>;
  faults?: Record<string, FaultInput>;
  kafkaBrokers?: string[];
  dynamoEndpoint?: string;
  sessionTimeoutMs?: number;
  logLevel?: string;
  /** Merged into the node config (metrics, alerting, health). */
  nodeConfig?: Record<string, unknown>;
}

export interface ChaosFixture {
  emulator: ConnectEmulator;
  receivers: HttpReceiver[];
  receiver: HttpReceiver;
  /** Raw spec documents (validated by the node when it loads them). */
  specs: Record<string, unknown>[];
  ids: string[];
  appKeys: string[];
  table: string;
  dir: string;
  nodeConfig: Record<string, unknown>;
  brokers: string[];
  close(): Promise<void>;
}

/** Node config merged into every fixture's of this process, under the scenario's own (`npm run chaos -- --node-config`). */
let runNodeConfig: Record<string, unknown> = {};
export function setRunNodeConfig(config: Record<string, unknown>): void {
  runNodeConfig = config;
}

/** Where every supervised node's output goes as well, a file per node (`npm run chaos -- --keep-logs DIR`). */
let keepLogsDir: string | undefined;
export function setKeepLogs(dir: string | undefined): void {
  keepLogsDir = dir;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** `over` merged into `base`, object by object (arrays and other values replace). */
function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeConfig(out[k], v) : v;
  return out;
}

export async function startChaosFixture(apps: ChaosApp[], o: ChaosFixtureOptions = {}): Promise<ChaosFixture> {
  const run = uniq('chaos');
  const appInputs: AppInput[] = apps.map((a, i) => ({
    key: `${run}-app${i}`.replace(/[^A-Za-z0-9_-]/g, '_'),
    token: a.token ?? `token-${run}-${i}`,
    size: a.size,
    totalEvents: a.totalEvents,
    rate: a.rate ?? 'max',
    // Retention is counted in entries; a paced app must keep them until a slow-starting node reads them.
    retainEvents: Math.max(a.totalEvents + 10, typeof a.rate === 'number' ? a.rate * 600 : 0, 1000),
    ...(a.eventBytes ? { eventBytes: a.eventBytes } : {}),
    seed: 2000 + i,
  }));
  const emulator = await startConnectEmulator({ apps: appInputs, keepAliveMs: 500, servedLimit: 2_000_000, faults: o.faults ?? {} } as never);
  const receivers: HttpReceiver[] = [];
  for (let i = 0; i < (o.receivers ?? 1); i++) receivers.push(await startHttpReceiver({ path: '/ingest', ...(o.receiver ?? {}) }));
  const ids = appInputs.map((_, i) => `${run}-i${i}`);
  const specs = appInputs.map((a, i) => ({
    version: 1,
    id: ids[i],
    app: { key: a.key, size: a.size },
    connect: { url: emulator.eventsUrl, token: { value: a.token }, start: 'EARLIEST', idleTimeoutMs: 5_000 },
    sink: o.sink?.(i, receivers[i % receivers.length]!) ?? {
      type: 'webhook',
      url: receivers[i % receivers.length]!.url,
      timeoutMs: 5_000,
      retry: { initialMs: 100, maxMs: 2_000 },
    },
    options: { batch: { maxEvents: 500, maxBytes: 512 * 1024, lingerMs: 50 }, ...(o.options ?? {}) },
  }));
  const table = uniq('tributary-chaos');
  const dir = mkdtempSync(join(tmpdir(), 'tributary-chaos-'));
  const kafkaBrokers = o.kafkaBrokers ?? brokers();
  const base: Record<string, unknown> = {
    local: true,
    kafka: { brokers: kafkaBrokers, sessionTimeoutMs: o.sessionTimeoutMs ?? 6_000 },
    dynamodb: { endpoint: o.dynamoEndpoint ?? dynamoEndpoint(), table },
    http: { host: '127.0.0.1', port: 0 },
    log: { level: o.logLevel ?? process.env.TRIBUTARY_LOG_LEVEL ?? 'warn' },
  };
  const nodeConfig = mergeConfig(mergeConfig(base, runNodeConfig), o.nodeConfig ?? {});
  return {
    emulator,
    receivers,
    receiver: receivers[0]!,
    specs,
    ids: ids as string[],
    appKeys: appInputs.map((a) => a.key),
    table,
    dir,
    nodeConfig,
    brokers: kafkaBrokers,
    close: async () => {
      for (const r of receivers) await r.close();
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The supervised node child.

export interface NodeDeath {
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The crash point that fired, when one did. */
  crashpoint?: string;
}

export interface SupervisedNode {
  readonly child: ChildProcess | undefined;
  readonly deaths: NodeDeath[];
  readonly starts: number[];
  /** Every stdout/stderr line of every incarnation. */
  readonly lines: string[];
  readonly peakRssBytes: number;
  /** Restart on death (default on); off before a deliberate stop. */
  autoRestart: boolean;
  /** Environment of the next (re)start. */
  env: NodeJS.ProcessEnv;
  signal(sig: NodeJS.Signals): void;
  /** Resolves on the current child's exit. */
  exited(): Promise<NodeDeath | undefined>;
  /** SIGTERM, wait; SIGKILL after `killAfterMs`. Returns how long the exit took. */
  stop(killAfterMs?: number): Promise<{ ms: number; death: NodeDeath | undefined }>;
  /** Starts a child if none is running. */
  start(): void;
}

/** RSS and its peak (VmHWM) of a live process from /proc, in bytes; undefined once it is gone. */
export function readRss(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** The names of a live process's threads (`/proc/<pid>/task/<tid>/comm`); empty once it is gone. */
export function threadNames(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
      try {
        return [readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()];
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

export function superviseNode(f: ChaosFixture, name: string, o: { env?: NodeJS.ProcessEnv; restartDelayMs?: number; envFor?: (incarnation: number) => NodeJS.ProcessEnv } = {}): SupervisedNode {
  const configFile = join(f.dir, `${name}.json`);
  writeFileSync(configFile, JSON.stringify({ ...f.nodeConfig, nodeId: name }));
  const specsFile = join(f.dir, 'specs.json');
  writeFileSync(specsFile, JSON.stringify(f.specs));
  let child: ChildProcess | undefined;
  let exit: Promise<NodeDeath | undefined> = Promise.resolve(undefined);
  let peak = 0;
  let incarnation = 0;
  const deaths: NodeDeath[] = [];
  const starts: number[] = [];
  const lines: string[] = [];
  /** Lines already written to the kept log. */
  let kept = 0;
  let sampler: NodeJS.Timeout | undefined;

  const sample = () => {
    if (child?.pid) {
      const r = readRss(child.pid);
      if (r) peak = Math.max(peak, r.rss, r.hwm);
    }
  };

  const node: SupervisedNode = {
    get child() {
      return child;
    },
    deaths,
    starts,
    lines,
    get peakRssBytes() {
      return peak;
    },
    autoRestart: true,
    env: o.env ?? {},
    signal(sig) {
      if (child && child.exitCode === null && child.signalCode === null) child.kill(sig);
    },
    exited: () => exit,
    async stop(killAfterMs = 30_000) {
      node.autoRestart = false;
      const started = Date.now();
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return { ms: 0, death: undefined };
      const timer = setTimeout(() => c.kill('SIGKILL'), killAfterMs);
      c.kill('SIGTERM');
      const death = await exit;
      clearTimeout(timer);
      clearInterval(sampler);
      return { ms: Date.now() - started, death };
    },
    start() {
      if (child && child.exitCode === null && child.signalCode === null) return;
      // The config file names the servers; KAFKA_BROKERS / DYNAMODB_ENDPOINT inherited from the
      // runner would override it (a scenario may run its own broker or a proxy).
      const servers = { KAFKA_BROKERS: f.brokers.join(','), DYNAMODB_ENDPOINT: String((f.nodeConfig.dynamodb as { endpoint: string }).endpoint) };
      // Likewise the runner's TRIBUTARY_LOG_LEVEL would override the scenario's level (the canary
      // scenario needs debug lines to search).
      const level = String((f.nodeConfig.log as { level?: string } | undefined)?.level ?? 'warn');
      const env = { ...process.env, ...servers, TRIBUTARY_LOG_LEVEL: level, ...node.env, ...(o.envFor?.(incarnation) ?? {}) };
      incarnation += 1;
      const c = spawn(process.execPath, ['bin/tributary.js', 'node', '--config', configFile, '--specs', specsFile, '--data-dir', join(f.dir, 'data')], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env,
      });
      child = c;
      starts.push(Date.now());
      let fired: string | undefined;
      const collect = (stream: NodeJS.ReadableStream) => {
        let rest = '';
        stream.on('data', (b: Buffer) => {
          const parts = (rest + b.toString('utf8')).split('\n');
          rest = parts.pop() ?? '';
          for (const l of parts) {
            lines.push(l);
            const m = /^TRIBUTARY_CRASHPOINT fired (\S+)/.exec(l);
            if (m) fired = m[1];
          }
        });
        stream.on('end', () => rest && lines.push(rest));
      };
      collect(c.stdout!);
      collect(c.stderr!);
      exit = new Promise((resolve) => {
        c.once('exit', (code, signal) => {
          const death: NodeDeath = { at: Date.now(), code, signal, ...(fired ? { crashpoint: fired } : {}) };
          deaths.push(death);
          if (keepLogsDir) {
            appendFileSync(join(keepLogsDir, `${basename(f.dir)}-${name}.log`), `${lines.slice(kept).join('\n')}\n--- exit ${code ?? signal}${fired ? ` at crash point ${fired}` : ''} ---\n`);
            kept = lines.length;
          }
          resolve(death);
          if (node.autoRestart) setTimeout(() => node.autoRestart && node.start(), o.restartDelayMs ?? 200);
        });
      });
      clearInterval(sampler);
      sampler = setInterval(sample, 250);
      sampler.unref();
    },
  };
  node.start();
  return node;
}

// ---------------------------------------------------------------------------------------------
// The oracle.

export function chaosKafka(f: Pick<ChaosFixture, 'brokers'>): Kafka {
  return new Kafka({ clientId: uniq('chaos-oracle'), brokers: f.brokers, logLevel: logLevel.NOTHING });
}

/** Every record of a topic (low → high watermark at the time of the call). */
export async function readTopic(kafka: Kafka, topic: string, timeoutMs = 30_000): Promise<KafkaMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const out: KafkaMessage[] = [];
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) return out;
    await readTail({ kafka, admin, topic, range: ({ low, high }) => ({ from: low, to: high }), onMessage: (_p, m) => out.push(m), timeoutMs });
  } finally {
    await admin.disconnect();
  }
  return out;
}

export interface OracleReport {
  served: number;
  delivered: number;
  dlq: number;
  /** Served ids in neither the receivers nor the DLQ. */
  lost: number;
  lostSample: string[];
  /** Deliveries beyond the first of each id. */
  duplicates: number;
  /** Delivered ids the emulator never served (must be 0: duplicates are re-sends of served ids). */
  foreign: number;
  /** Poison lines (no event id) dead-lettered at the source. */
  dlqPoison: number;
}

/** What the oracle reads: a chaos fixture, or any emulator and receivers (a control cluster's). */
export type OracleSubject = Pick<ChaosFixture, 'emulator' | 'receivers' | 'appKeys' | 'ids' | 'brokers'>;

/** Served − (delivered ∪ DLQ), over every integration of the fixture. */
export async function oracle(f: OracleSubject, o: { readDlq?: boolean } = {}): Promise<OracleReport> {
  const served = new Set<string>();
  for (const k of f.appKeys) for (const e of f.emulator.served(k)) served.add(e.id);
  const deliveredAll = f.receivers.flatMap((r) => r.delivered());
  const delivered = new Set(deliveredAll);
  const dlq = new Set<string>();
  let dlqPoison = 0;
  if (o.readDlq !== false) {
    const kafka = chaosKafka(f);
    for (const id of f.ids) {
      for (const m of await readTopic(kafka, topics.dlq(id))) {
        const eid = m.headers?.[H.eventId]?.toString();
        if (eid) dlq.add(eid);
        else dlqPoison += 1;
      }
    }
  }
  const lost = [...served].filter((id) => !delivered.has(id) && !dlq.has(id));
  return {
    served: served.size,
    delivered: delivered.size,
    dlq: dlq.size,
    lost: lost.length,
    lostSample: lost.slice(0, 5),
    duplicates: deliveredAll.length - delivered.size,
    foreign: [...delivered].filter((id) => !served.has(id)).length,
    dlqPoison,
  };
}

/** True once every app served its total and each served id reached a receiver (or `extra` holds). */
export function allDelivered(f: ChaosFixture, totals: number[], exclude?: (id: string) => boolean): boolean {
  const delivered = new Set(f.receivers.flatMap((r) => r.delivered()));
  for (let i = 0; i < f.appKeys.length; i++) {
    const ids = new Set(f.emulator.served(f.appKeys[i]!).map((e) => e.id));
    if (ids.size < totals[i]!) return false;
    for (const id of ids) if (!delivered.has(id) && !exclude?.(id)) return false;
  }
  return true;
}

export async function waitUntil(pred: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const start = Date.now();
  while (!(await pred())) {
    if (Date.now() - start > timeoutMs) throw new Error(`chaos: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - start;
}

/**
 * Time from `since` to the first 2xx request carrying an id not delivered before it; `counts`
 * narrows which requests may be that one (e.g. one integration's), every request still counting as delivered.
 */
export function firstNewDeliveryAfter(rxs: HttpReceiver[], since: number, counts: (q: ReceivedRequest) => boolean = () => true): number | undefined {
  const seen = new Set<string>();
  const reqs = rxs.flatMap((r) => r.requests).filter((q) => q.status >= 200 && q.status < 300).sort((a, b) => a.at - b.at);
  for (const q of reqs) {
    const fresh = q.eventIds.some((id) => !seen.has(id));
    if (q.at >= since && fresh && counts(q)) return q.at - since;
    for (const id of q.eventIds) seen.add(id);
  }
  return undefined;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Where undelivered events are stuck, per integration: served vs expected, how many of the
 * missing ids are in the events topic, the sink group's committed offsets against the topic's
 * end, and the state row (status, checkpoint).
 */
export async function diagnose(f: ChaosFixture, totals: number[]): Promise<Record<string, unknown>[]> {
  const { StateStore } = await import('../../src/state/state-store.js');
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { groups } = await import('../../src/kafka/topics.js');
  const kafka = chaosKafka(f);
  const admin = kafka.admin();
  await admin.connect();
  const delivered = new Set(f.receivers.flatMap((r) => r.delivered()));
  const ddb = new DynamoDBClient({ endpoint: String((f.nodeConfig.dynamodb as { endpoint: string }).endpoint), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const store = new StateStore(ddb, f.table);
  const out: Record<string, unknown>[] = [];
  try {
    for (let i = 0; i < f.ids.length; i++) {
      const id = f.ids[i]!;
      const served = f.emulator.served(f.appKeys[i]!);
      const missing = new Set(served.map((e) => e.id).filter((x) => !delivered.has(x)));
      const inKafka = new Map<string, string>();
      for (const m of await readTopic(kafka, topics.events(id), 60_000)) {
        const eid = m.headers?.[H.eventId]?.toString();
        if (eid && missing.has(eid)) inKafka.set(eid, m.offset);
      }
      const ends = await admin.fetchTopicOffsets(topics.events(id)).catch(() => []);
      const committed = await admin.fetchOffsets({ groupId: groups.sink(id), topics: [topics.events(id)] }).catch(() => []);
      const row = await store.get(id).catch(() => undefined);
      out.push({
        integrationId: id,
        served: new Set(served.map((e) => e.id)).size,
        expected: totals[i],
        lastServedOffset: served[served.length - 1]?.offset,
        emulatorLastOffset: f.emulator.lastOffset(f.appKeys[i]!),
        missing: missing.size,
        missingInEventsTopic: inKafka.size,
        missingOffsets: [...inKafka.values()].slice(0, 10),
        topicEnds: ends.map((p) => `${p.partition}:${p.low}-${p.high}`),
        committed: committed[0]?.partitions.map((p) => `${p.partition}:${p.offset}`),
        row: row ? { status: row.status, checkpoint: row.checkpoint, owner: (row as unknown as Record<string, unknown>).owner, epoch: (row as unknown as Record<string, unknown>).epoch } : undefined,
      });
    }
  } finally {
    await admin.disconnect();
    ddb.destroy();
  }
  return out;
}
