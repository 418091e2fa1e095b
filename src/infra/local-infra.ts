// Local infrastructure as one unit: the embedded Kafka and DynamoDB Local, or external servers
// named by KAFKA_BROKERS / DYNAMODB_ENDPOINT (then nothing starts). Each running set is an
// *instance* with a state file (pids, addresses) so `infra down`, test teardown and the reaper
// of crashed test runs stop exactly our processes, by pid.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandLine, isAlive, stopPid } from './java-server.js';
import { dynamoAnswers, startDynamo } from './dynamodb.js';
import { kafkaAnswers, startKafka, type StartedServer } from './kafka.js';
import { defaultCacheDir } from './paths.js';
import { requireTool } from './tools.js';

export interface InfraOptions {
  /** Instance name: 'default' for `infra up`, a unique one per test run. */
  instance?: string;
  cacheDir?: string;
  kafkaPort?: number;
  dynamodbPort?: number;
  kafkaHeapMb?: number;
  dynamodbHeapMb?: number;
  /** Tables survive restarts (local mode) or live in memory (tests). */
  persistent?: boolean;
  /** The process whose death makes this instance stale (tests); none for `infra up`. */
  ownerPid?: number;
  env?: NodeJS.ProcessEnv;
  quiet?: boolean;
}

export interface ServerRecord {
  name: 'kafka' | 'dynamodb';
  /** Absent for an external server we did not start. */
  pid?: number;
  address: string;
  dir?: string;
  logFile?: string;
  startedAt: string;
}

export interface InfraState {
  instance: string;
  ownerPid?: number;
  dir: string;
  servers: ServerRecord[];
}

export interface ServerStatus extends ServerRecord {
  running: boolean;
  answering: boolean;
}

function instancesDir(cacheDir: string): string {
  return join(cacheDir, 'instances');
}

function stateFile(dir: string): string {
  return join(dir, 'state.json');
}

export function readInstance(cacheDir: string, instance: string): InfraState | undefined {
  const file = stateFile(join(instancesDir(cacheDir), instance));
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as InfraState;
}

function writeInstance(state: InfraState): void {
  writeFileSync(stateFile(state.dir), `${JSON.stringify(state, null, 2)}\n`);
}

/** KAFKA_BROKERS and DYNAMODB_ENDPOINT name external servers: use them and start nothing. */
function externalServers(env: NodeJS.ProcessEnv): { kafka?: string; dynamodb?: string } {
  return {
    ...(env.KAFKA_BROKERS ? { kafka: env.KAFKA_BROKERS } : {}),
    ...(env.DYNAMODB_ENDPOINT ? { dynamodb: env.DYNAMODB_ENDPOINT } : {}),
  };
}

/**
 * Starts (or reuses, when already up) the instance's servers. Returns the addresses to use.
 * Servers that fail to start are stopped again, so a failed `up` leaves nothing running.
 */
export async function infraUp(o: InfraOptions = {}): Promise<InfraState> {
  const env = o.env ?? process.env;
  const cacheDir = o.cacheDir ?? defaultCacheDir(env);
  const instance = o.instance ?? 'default';
  await reapStaleInstances(cacheDir);
  const dir = join(instancesDir(cacheDir), instance);
  const existing = readInstance(cacheDir, instance);
  if (existing) {
    const statuses = await infraStatus({ ...o, cacheDir, instance });
    if (statuses.length > 0 && statuses.every((s) => s.answering)) return existing;
    await infraDown({ ...o, cacheDir, instance });
  }
  mkdirSync(dir, { recursive: true });
  const state: InfraState = { instance, dir, servers: [], ...(o.ownerPid ? { ownerPid: o.ownerPid } : {}) };
  writeInstance(state);
  const external = externalServers(env);
  const now = () => new Date().toISOString();
  if (!external.kafka || !external.dynamodb) requireTool('java');
  try {
    const record = (name: ServerRecord['name'], s: StartedServer) => {
      state.servers.push({ name, pid: s.pid, address: s.address, dir: s.dir, logFile: s.logFile, startedAt: now() });
      writeInstance(state);
    };
    if (external.kafka) state.servers.push({ name: 'kafka', address: external.kafka, startedAt: now() });
    else {
      record(
        'kafka',
        await startKafka({
          cacheDir,
          dir: join(dir, 'kafka'),
          port: o.kafkaPort ?? 0,
          heapMb: o.kafkaHeapMb ?? 512,
          quiet: o.quiet ?? false,
        }),
      );
    }
    if (external.dynamodb) state.servers.push({ name: 'dynamodb', address: external.dynamodb, startedAt: now() });
    else {
      record(
        'dynamodb',
        await startDynamo({
          cacheDir,
          dir: join(dir, 'dynamodb'),
          port: o.dynamodbPort ?? 0,
          heapMb: o.dynamodbHeapMb ?? 256,
          persistent: o.persistent ?? false,
          quiet: o.quiet ?? false,
        }),
      );
    }
    writeInstance(state);
    return state;
  } catch (err) {
    await infraDown({ ...o, cacheDir, instance });
    throw err;
  }
}

/**
 * Stops the instance's servers by pid (never a process that is not ours) and removes its state. With `purge`, deletes the instance's data too
 * (Kafka's log directories, DynamoDB Local's tables), running or not; the jar cache stays.
 */
export async function infraDown(o: InfraOptions & { purge?: boolean } = {}): Promise<ServerRecord[]> {
  const cacheDir = o.cacheDir ?? defaultCacheDir(o.env ?? process.env);
  const instance = o.instance ?? 'default';
  const state = readInstance(cacheDir, instance);
  if (state) await stopServers(state);
  if (o.purge) rmSync(join(instancesDir(cacheDir), instance), { recursive: true, force: true });
  // Test instances are throwaway; the default instance keeps its data for the next `up`.
  else if (state?.ownerPid !== undefined) rmSync(state.dir, { recursive: true, force: true });
  else if (state) rmSync(stateFile(state.dir), { force: true });
  return state?.servers ?? [];
}

async function stopServers(state: InfraState): Promise<void> {
  await Promise.all(
    state.servers.map(async (s) => {
      if (s.pid === undefined || !isOurs(s)) return;
      await stopPid(s.pid);
    }),
  );
}

function isOurs(s: ServerRecord): boolean {
  if (s.pid === undefined || !isAlive(s.pid)) return false;
  const cmd = commandLine(s.pid);
  // A recycled pid belongs to someone else: only signal a java process started in our dir.
  return cmd === undefined || (s.dir !== undefined && cmd.includes(`-Dtributary.dir=${s.dir}`));
}

export async function infraStatus(o: InfraOptions = {}): Promise<ServerStatus[]> {
  const cacheDir = o.cacheDir ?? defaultCacheDir(o.env ?? process.env);
  const state = readInstance(cacheDir, o.instance ?? 'default');
  if (!state) return [];
  return Promise.all(
    state.servers.map(async (s) => {
      const running = s.pid === undefined ? true : isOurs(s);
      let answering = false;
      try {
        answering = s.name === 'kafka' ? await kafkaAnswers(s.address.split(',')[0]!) : await dynamoAnswers(s.address);
      } catch {
        answering = false;
      }
      return { ...s, running, answering };
    }),
  );
}

/** Stops servers of test instances whose owning process died (a killed test run). */
export async function reapStaleInstances(cacheDir: string): Promise<number> {
  const root = instancesDir(cacheDir);
  if (!existsSync(root)) return 0;
  let reaped = 0;
  for (const name of readdirSync(root)) {
    const state = readInstance(cacheDir, name);
    if (!state?.ownerPid || isAlive(state.ownerPid)) continue;
    await stopServers(state);
    rmSync(state.dir, { recursive: true, force: true });
    reaped += 1;
  }
  return reaped;
}

/** Environment for clients of this instance (what tests and child processes read). */
export function infraEnv(state: InfraState): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of state.servers) {
    if (s.name === 'kafka') env.KAFKA_BROKERS = s.address;
    else env.DYNAMODB_ENDPOINT = s.address;
  }
  return env;
}
