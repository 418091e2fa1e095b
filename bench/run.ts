// The pipeline benchmark suite (`npm run bench`, `npm run bench:quick`): Connect emulator →
// `tributary node` (static mode) → Kafka → webhook → a minimal receiver, each in its own
// process, Kafka and DynamoDB from infraUp (or KAFKA_BROKERS / DYNAMODB_ENDPOINT). Peak RSS and
// CPU of every process sampled from /proc every 250 ms. Results: bench/results/*.json, and a
// "Pipeline benchmarks" run appended to BENCHMARKS.md (full runs only).
//
// Usage: npm run bench [-- --only s1,s2,s3,s4,s5 --tenants 1000 --backlog 1000000 --no-append]   (--help: every option)
//        npm run bench:quick      (scenario 1 small + scenario 2 for 10 s; writes JSON only)
//        test/e2e/bench-smoke.test.ts runs scenarios 1–4 at small sizes in `npm test`
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { infraDown, infraEnv, infraUp, type InfraState } from '../src/infra/local-infra.js';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoClient, StateStore } from '../src/state/state-store.js';
import { createEventGenerator } from '../src/connect/emulator/event-generator.js';
import { byArea, hotSpots, type HotSpot } from './pipeline/cpu-profile.js';
import { captureBody, legHttp, legKafka, legParse, linesOf, type LegResult } from './pipeline/legs.js';
import { freePort, freePortOutsideEphemeral, getJson, kafkaPidFromPort, postJson, ProcSampler, readProc, readThreads, round1, sleep, spawnChild, stopChild, threadCpuPct, waitFor, type Child, type ProcSummary } from './pipeline/proc.js';
import { startStatsdListener, type StatsdSample } from '../test/helpers/statsd-listener.js';
import { benchCommand, parseIntIn, parseJsonObject, parseListOf, parseNumberIn } from './args.js';

// ---------------------------------------------------------------------------------------------
// Options

const scenarioNames = ['profile', 's1', 's2', 's3', 's4', 's5'] as const;
const o = benchCommand('npm run bench --', 'the pipeline benchmark suite (BENCHMARKS.md, "Pipeline benchmarks")')
  .option('--quick', 'scenario 1 small and scenario 2 for 10 s; JSON only (npm run bench:quick)')
  .option('--only <list>', `scenarios to run (default: all; with --quick s1,s2)`, parseListOf(scenarioNames))
  .option('--events <n>', 'scenario 1 events (default 150,000; with --quick 20,000)', parseIntIn(1_000, 10_000_000))
  .option('--tenants <n>', 'scenario 3 integrations', parseIntIn(11, 5_000), 1_000)
  // 30,000 since 2026-12-06 07:55: a 10,000-event burst lasted ~5 s alone, mostly the sinks'
  // wake and group join rather than their throughput; 30,000 last ~15 s (BENCHMARKS.md).
  .option('--busy-events <n>', "scenario 3's events per busy app", parseIntIn(100, 1_000_000), 30_000)
  .option('--backlog <n>', 'scenario 4 events waiting with the sink down', parseIntIn(1_000, 10_000_000), 1_000_000)
  .option('--profile-events <n>', "the profile run's events", parseIntIn(1_000, 10_000_000), 60_000)
  // A paced stream (scenario 2's shape) instead of flat out.
  .option('--profile-rate <n>', "the profile run's events/s (default: flat out)", parseIntIn(1, 1_000_000))
  .option('--no-append', 'write JSON only, no "### Run" block in BENCHMARKS.md')
  // The bench smoke test in `npm test` writes to a temporary dir of its own.
  .option('--results-dir <dir>', 'where the JSON and profiles go', join(process.cwd(), 'bench', 'results'))
  // The node and the emulator run compiled (tsc into .bench-dist, gitignored), as a deployment runs them.
  .option('--from-source', 'run the node and the emulator through tsx (more RSS, compile work at start-up)')
  .option('--node-args <flags>', 'V8 flags for the node process only, e.g. "--max-old-space-size=200"', '')
  .option('--node-kafka <json>', "merged into the node config's kafka section, e.g. '{\"fetchMaxWaitMs\":5000}'", parseJsonObject, {})
  .option('--node-connect <json>', "merged into the node config's connect section, e.g. '{\"parseThreads\":0}'", parseJsonObject, {})
  .option('--node-threads <n>', "the node config's integrations.threads: worker threads that run the integrations (0: the main thread)", parseIntIn(0, 32), 0)
  .option('--node-flags <json>', "the node config's feature flags (docs/flags.md), e.g. '{\"sink.parkWhenIdle\":true}'", parseJsonObject, {})
  .option('--cold-emulator', "scenario 1's emulator generates events while the node reads, scenario 3's compresses its bursts as it serves them (the harness's cost in the window)")
  // A fresh JVM compiles Kafka's request paths for its first minute of traffic, on the same two
  // CPUs; a broker in production has long done that (BENCHMARKS.md, the 2026-12-06 17:51–19:00 block).
  .option('--broker-warmup <seconds>', "seconds of the kafka leg's produce + consume against the broker before the scenarios (0: a fresh broker, its JIT compiling inside scenario 1's window)", parseIntIn(0, 600))
  .option('--live-burst', "scenario 3's busy apps generate their events at the burst (the emulator's generator, ~30 µs an event, inside the measured window)")
  .option('--keepalive-ms <n>', "the emulator's keep-alive interval (what the node's idle streams cost scales with it)", parseIntIn(10, 60_000), 1_000)
  // One burst's rate swung 13,566–24,071 events/s alone on one afternoon (BENCHMARKS.md): each
  // phase's best of several, as the legs of scenario 1 take their best of two.
  .option('--s3-bursts <n>', "bursts per phase of scenario 3 (alone, crowd); each phase's fastest counts (default 2; 1 with --quick)", parseIntIn(1, 5))
  .option('--small-rate <r>', "events/s of each of scenario 3's small apps (0: keep-alives and the node's own work only)", parseNumberIn(0, 1_000), 0.02)
  // A 20 s window caught a major GC or not: ±1.5 % of a core between runs.
  .option('--idle-sec <n>', "scenario 3's idle window, seconds", parseIntIn(5, 300), 40)
  // As a cluster shared by other nodes' integrations holds: 1 partition each, named with the run id, removed with the run's data.
  .option('--extra-topics <n>', 'topics added to the cluster before scenario 3', parseIntIn(0, 50_000), 0)
  .option('--node-log <level>', "the nodes' log level (their logs are in the work dir, kept with --keep-work)", 'warn')
  .option('--keep-work', 'keep the work dir (configs, logs) after the run')
  // Off by default: the sampler's own thread and its signals on the main thread cost ~1.5–2.5 % of a core, which the idle figure would count.
  .option('--s3-profile', "run scenario 3's node with --cpu-prof")
  .parse()
  .opts<{
    quick?: true;
    only?: string[];
    events?: number;
    tenants: number;
    busyEvents: number;
    backlog: number;
    profileEvents: number;
    profileRate?: number;
    append: boolean;
    resultsDir: string;
    fromSource?: true;
    nodeArgs: string;
    nodeKafka: Record<string, unknown>;
    nodeConnect: Record<string, unknown>;
    nodeThreads: number;
    nodeFlags: Record<string, unknown>;
    coldEmulator?: true;
    brokerWarmup?: number;
    s3Bursts?: number;
    liveBurst?: true;
    keepaliveMs: number;
    smallRate: number;
    idleSec: number;
    extraTopics: number;
    nodeLog: string;
    keepWork?: true;
    s3Profile?: true;
  }>();
const quick = o.quick === true;
const only = new Set<string>(o.only ?? (quick ? ['s1', 's2'] : scenarioNames));
const cfg = {
  s1Events: o.events ?? (quick ? 20_000 : 150_000),
  legEvents: quick ? 10_000 : 50_000,
  s2Seconds: quick ? 10 : 30,
  tenants: o.tenants,
  busy: 10,
  busyEvents: o.busyEvents,
  backlog: o.backlog,
  backlogFillMs: 120_000,
  profileEvents: o.profileEvents,
  /** Scenario 3's bursts generated at the burst (`--live-burst`), not made ahead and held. */
  s3LiveBurst: o.liveBurst === true,
};
const append = !quick && o.append;
const suiteDeadlineMs = quick ? 240_000 : 15 * 60_000;

const root = process.cwd();
const runId = `b${Date.now().toString(36)}`;
const resultsDir = resolve(o.resultsDir);
const fromSource = o.fromSource === true;
const extraNodeArgs = o.nodeArgs.split(' ').filter(Boolean);
const nodeKafkaOverrides = o.nodeKafka;
const nodeConnectOverrides = o.nodeConnect;
const nodeFlags = o.nodeFlags;
const packed = nodeFlags['source.packRecords'] === true;
const coldEmulator = o.coldEmulator === true;
const brokerWarmupSec = o.brokerWarmup ?? (quick ? 0 : 30);
const s3Bursts = o.s3Bursts ?? (quick ? 1 : 2);
const liveBurst = cfg.s3LiveBurst;
const keepAliveMs = o.keepaliveMs;
const smallRate = o.smallRate;
const idleSec = o.idleSec;
const extraTopics = o.extraTopics;
const nodeLogLevel = o.nodeLog;
const keepWork = o.keepWork === true;
const s3Profile = o.s3Profile === true;
const buildDir = join(root, '.bench-dist');
/** The nodes' state table (DynamoDB Local). */
const stateTable = `tributary-bench-${runId}`;
// Made once the options are checked: a refused option leaves no directory behind.
const work = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
let cli: { entry: string; env: NodeJS.ProcessEnv } = { entry: 'bin/tributary.js', env: { TRIBUTARY_FROM_SOURCE: '1' } };
mkdirSync(resultsDir, { recursive: true });
const t0 = Date.now();
const log = (msg: string) => process.stdout.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
const rpcBin = join(process.env.HOME ?? '/root', '.cache', 'tributary', 'bin', 'redpanda-connect');

// ---------------------------------------------------------------------------------------------
// Processes

interface Infra {
  brokers: string[];
  dynamo: string;
  kafkaPid?: number | undefined;
  state?: InfraState;
}

let infra!: Infra;
const children = new Set<Child>();
const sampler = new ProcSampler(250);

async function startInfra(): Promise<Infra> {
  if (process.env.KAFKA_BROKERS && process.env.DYNAMODB_ENDPOINT) {
    const kafkaPid = kafkaPidFromPort(process.env.KAFKA_BROKERS.split(',')[0]!);
    return { brokers: process.env.KAFKA_BROKERS.split(','), dynamo: process.env.DYNAMODB_ENDPOINT, kafkaPid };
  }
  const state = await infraUp({ instance: `bench-${process.pid}`, ownerPid: process.pid, persistent: false, quiet: true });
  const env = infraEnv(state);
  return {
    brokers: env.KAFKA_BROKERS!.split(','),
    dynamo: env.DYNAMODB_ENDPOINT!,
    kafkaPid: state.servers.find((s) => s.name === 'kafka')?.pid,
    state,
  };
}

interface EmuApp {
  key: string;
  token: string;
  size: 'small' | 'medium' | 'large';
  rate?: number | 'max';
  totalEvents?: number;
  retainEvents?: number;
  initialEvents?: number;
  eventBytes?: number;
  eventTypes?: string[];
  /** The emulator keeps each batch it compressed and sends it again (read once before the measured run: no deflate in the window). */
  cacheBatches?: boolean;
}

async function startEmulator(name: string, apps: EmuApp[]): Promise<{ child: Child; eventsUrl: string; url: string }> {
  const file = join(work, `${name}-apps.json`);
  writeFileSync(file, JSON.stringify({ gzipLevel: 1, keepAliveMs, servedLimit: 1000, apps }));
  const { child, line } = await spawnChild(name, [cli.entry, 'emulate', 'connect', '--apps', file, '--port', '0', '--json'], {
    env: cli.env,
    logFile: join(work, `${name}.log`),
    firstLine: true,
    onSpawn: (c) => children.add(c),
  });
  children.add(child);
  const j = JSON.parse(line!) as { url: string; eventsUrl: string };
  return { child, eventsUrl: j.eventsUrl, url: j.url };
}

async function startReceiver(name: string, port = 0): Promise<{ child: Child; url: string; base: string; port: number }> {
  const { child, line } = await spawnChild(name, ['--import', 'tsx', 'bench/pipeline/receiver.ts', '--port', String(port)], {
    logFile: join(work, `${name}.log`),
    firstLine: true,
    onSpawn: (c) => children.add(c),
  });
  children.add(child);
  const j = JSON.parse(line!) as { url: string; port: number };
  return { child, url: j.url, base: `http://127.0.0.1:${j.port}`, port: j.port };
}

interface RxStats {
  events: number;
  bytes: number;
  requests: number;
  firstAt: number;
  lastAt: number;
  latency: { samples: number; p50: number | null; p99: number | null; max: number | null };
}
const rxStats = (base: string) => getJson<RxStats>(`${base}/_stats`);

function spec(id: string, app: EmuApp, eventsUrl: string, sinkUrl: string, start: 'EARLIEST' | 'LATEST' = 'EARLIEST'): Record<string, unknown> {
  return {
    version: 1,
    id,
    app: { key: app.key, size: app.size },
    connect: { url: eventsUrl, token: { value: app.token }, start },
    sink: { type: 'webhook', url: sinkUrl, timeoutMs: 10_000, retry: { initialMs: 100, maxMs: 1_000 } },
  };
}

async function startNodeProc(name: string, specs: Record<string, unknown>[], nodeArgs: string[] = [], statsdPort?: number): Promise<{ child: Child; base: string }> {
  const port = await freePort();
  const configFile = join(work, `${name}-config.json`);
  writeFileSync(
    configFile,
    JSON.stringify({
      nodeId: `${runId}-${name}`,
      local: true,
      kafka: { brokers: infra.brokers, sessionTimeoutMs: 10_000, ...nodeKafkaOverrides },
      connect: nodeConnectOverrides,
      integrations: { threads: o.nodeThreads },
      flags: nodeFlags,
      dynamodb: { endpoint: infra.dynamo, table: stateTable },
      http: { host: '127.0.0.1', port },
      log: { level: nodeLogLevel },
      ...(statsdPort ? { metrics: { enabled: true, port: statsdPort } } : {}),
    }),
  );
  const specsFile = join(work, `${name}-specs.json`);
  writeFileSync(specsFile, JSON.stringify(specs));
  const { child } = await spawnChild(name, [...extraNodeArgs, ...nodeArgs, cli.entry, 'node', '--config', configFile, '--specs', specsFile, '--data-dir', join(work, 'data')], {
    env: cli.env,
    logFile: join(work, `${name}.log`),
    onSpawn: (c) => children.add(c),
  });
  const base = `http://127.0.0.1:${port}`;
  const up = await waitFor(async () => ((await getJson<unknown>(`${base}/healthz`)) ? true : undefined), 60_000, 250);
  if (!up) throw new Error(`${name} did not answer /healthz within 60 s (see ${join(work, `${name}.log`)})`);
  return { child, base };
}

interface NodeStatus {
  integrations: { integrationId: string; status: string; statusReason: string }[];
}

async function stop(c: Child | undefined, graceMs = 20_000): Promise<void> {
  if (!c) return;
  sampler.untrack(c.name);
  await stopChild(c, graceMs);
  children.delete(c);
}

function trackCommon(extra: Record<string, Child | undefined>): void {
  for (const [name, c] of Object.entries(extra)) if (c) sampler.track(name, c.pid);
  sampler.track('kafka', infra.kafkaPid);
}

/**
 * `steadyFrom` (performance.now()) and `steadyEvents`: where the steady window starts, and the
 * events delivered in it. `sustained`: the delivery rate from that start until the source had read
 * every event from Connect (both ends running), when that lasted over a second.
 */
type Delivered = RxStats & { steady?: number; steadyFrom?: number; steadyEvents?: number; sustained?: number };

/**
 * Waits until the receiver has `target` events or `timeoutMs` passed, printing progress.
 * `sourceDone`: whether the source has read every event (polled with the receiver).
 */
async function waitDelivered(base: string, target: number, timeoutMs: number, label: string, progress?: () => Promise<string>, sourceDone?: () => Promise<boolean>): Promise<Delivered> {
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  let mark: { t: number; perf: number; events: number } | undefined;
  let readAll: { t: number; events: number } | undefined;
  for (;;) {
    const s = await rxStats(base);
    // Steady state: from the moment 10 % had arrived (start-up, group join and JIT left out).
    if (!mark && s.events >= target * 0.1) mark = { t: Date.now(), perf: performance.now(), events: s.events };
    // Once the source has read everything, what is left is the sink draining Kafka alone.
    if (sourceDone && !readAll && (await sourceDone().catch(() => false))) readAll = { t: Date.now(), events: s.events };
    if (s.events >= target || Date.now() > deadline) {
      const steady = mark && s.lastAt - mark.t > 1_000 ? Math.round(((s.events - mark.events) / (s.lastAt - mark.t)) * 1000) : undefined;
      const sustained = mark && readAll && readAll.t - mark.t > 1_000 ? Math.round(((readAll.events - mark.events) / (readAll.t - mark.t)) * 1000) : undefined;
      return {
        ...s,
        ...(steady !== undefined && mark ? { steady, steadyFrom: mark.perf, steadyEvents: s.events - mark.events } : {}),
        ...(sustained !== undefined ? { sustained } : {}),
      };
    }
    if (Date.now() - last > 5_000) {
      log(`  ${label}: ${s.events.toLocaleString('en')} / ${target.toLocaleString('en')} delivered${progress ? `; ${await progress().catch(() => '?')}` : ''}`);
      last = Date.now();
    }
    await sleep(250);
  }
}

// ---------------------------------------------------------------------------------------------
// Results

interface PipelineResult {
  events: number;
  /** Events/s after the first 10 % arrived (start-up excluded); the headline figure. */
  steadyEventsPerSec: number | null;
  /** Events/s from that point until the source had read every event (source and sink both running); null when the source finished first. */
  sustainedEventsPerSec: number | null;
  seconds: number;
  eventsPerSec: number;
  mbPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  complete: boolean;
}

function pipelineResult(s: Delivered, target: number): PipelineResult {
  const ms = Math.max(1, s.lastAt - s.firstAt);
  return {
    events: s.events,
    steadyEventsPerSec: s.steady ?? null,
    sustainedEventsPerSec: s.sustained ?? null,
    seconds: round1(ms / 1000),
    eventsPerSec: Math.round((s.events / ms) * 1000),
    mbPerSec: round1((s.bytes / 1048576 / ms) * 1000),
    p50Ms: s.latency.p50,
    p99Ms: s.latency.p99,
    maxMs: s.latency.max,
    complete: s.events >= target,
  };
}

const results: Record<string, unknown> = {};
const failures: string[] = [];
const started = new Date();
let machine: { nproc: number; cpu: string; ramGiB: number; node: string; loadAverageAtStart: number[] } | undefined;
let command = '';
/** Milliseconds left before the suite's deadline. */
const remaining = () => suiteDeadlineMs - (Date.now() - t0);
const md: string[] = [];
const fmt = (n: number | null | undefined) => (n === null || n === undefined ? '—' : Math.round(n).toLocaleString('en'));
const procTable = (procs: Record<string, ProcSummary>) => [
  '| process | peak RSS MiB | avg CPU % of a core | peak CPU % (1 s) |',
  '|---|---:|---:|---:|',
  ...Object.entries(procs).map(([k, v]) => `| ${k} | ${v.peakRssMiB} | ${v.avgCpuPct} | ${v.peakCpuPct} |`),
];
/** A table's rows with their last column only when `keep` (its last cells hold no `|`). */
const lastColumnIf = (keep: boolean, rows: string[]) => (keep ? rows : rows.map((r) => r.replace(/\|[^|]*\|$/, '|')));
const cpuPerEvent = (cpuSec: number, events: number) => round1((cpuSec * 1e6) / Math.max(1, events));
const ctxLine = (from: number, to: number) => `machine CPU busy (all processes, all cores) ${sampler.machineBusyPct(from, to)} % (of which steal ${sampler.machineStealPct(from, to)} %: the hypervisor's other guests), load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`;

function emuApp(key: string, o: Partial<EmuApp>): EmuApp {
  return { key, token: `tok-${key}`, size: 'large', eventBytes: 1024, eventTypes: ['CUSTOM'], ...o };
}

// ---------------------------------------------------------------------------------------------
// Profile: the node under scenario 1's load, with --cpu-prof.

async function profileRun(): Promise<void> {
  log(`profile: node --cpu-prof, ${cfg.profileEvents.toLocaleString('en')} events flat out`);
  // --profile-rate N profiles scenario 2's shape (a paced stream) instead of flat out.
  const app = emuApp(`${runId}-prof`, { rate: o.profileRate ?? 'max', totalEvents: cfg.profileEvents, retainEvents: cfg.profileEvents, cacheBatches: true });
  const emu = await startEmulator('emulator-profile', [app]);
  if (!coldEmulator) await captureBody(emu.eventsUrl, app.key, app.token, cfg.profileEvents);
  const rx = await startReceiver('receiver-profile');
  const profDir = join(work, 'prof');
  const node = await startNodeProc('node-profile', [spec(`${runId}-prof`, app, emu.eventsUrl, rx.url)], ['--cpu-prof', '--cpu-prof-dir', profDir]);
  try {
    const s = await waitDelivered(rx.base, cfg.profileEvents, 120_000, 'profile');
    const r = pipelineResult(s, cfg.profileEvents);
    await stop(node.child);
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no .cpuprofile written');
    const dest = join(resultsDir, `${runId}-node-s1.cpuprofile`);
    writeFileSync(dest, readFileSync(join(profDir, file)));
    const hs = hotSpots(dest, 20);
    const areas = byArea(dest).slice(0, 12);
    results.profile = { pipeline: r, file: dest, ...hs, areas };
    log(`profile: ${fmt(r.eventsPerSec)} events/s under the profiler; top: ${hs.spots.slice(0, 5).map((h) => `${h.fn} ${h.selfPct}%`).join(', ')}`);
    md.push(
      `#### Hot spots of the node (scenario 1 load, \`--cpu-prof\`, ${fmt(r.events)} events at ${fmt(r.eventsPerSec)} events/s under the profiler)`,
      '',
      `Profile \`bench/results/${runId}-node-s1.cpuprofile\` (${fmt(hs.totalMs)} ms sampled; idle ${hs.idlePct} %, GC ${hs.gcPct} %). Self time by area: ${areas.map((a) => `${a.area} ${a.pct} %`).join(', ')}.`,
      '',
      '| function | where | self % |',
      '|---|---|---:|',
      ...hs.spots.map((h: HotSpot) => `| \`${h.fn}\` | ${h.where} | ${h.selfPct} |`),
      '',
    );
  } finally {
    await stop(node.child);
    await stop(rx.child);
    await stop(emu.child);
  }
}

// ---------------------------------------------------------------------------------------------
// Broker warm-up: a JVM compiles Kafka's hot paths during its first minute or so of traffic.

/** CPU seconds of the broker's JIT compiler threads (HotSpot names them "C1/C2 CompilerThre…"). */
function brokerJitSec(): number {
  if (infra.kafkaPid === undefined) return 0;
  let sec = 0;
  for (const [name, s] of readThreads(infra.kafkaPid)) if (name.includes('CompilerThre')) sec += s;
  return sec;
}

/**
 * Runs the kafka leg (b)'s produce + consume, packed as the node writes, for `brokerWarmupSec`,
 * so the broker's JIT compiles its request paths before the scenarios rather than inside their
 * windows on the same two CPUs. A broker in production has run for days.
 */
async function warmBroker(): Promise<void> {
  if (brokerWarmupSec === 0) return;
  log(`broker warm-up: the kafka leg's produce + consume for ${brokerWarmupSec} s, so the broker's JIT compiles before the scenarios (--broker-warmup 0: none)`);
  const gen = createEventGenerator({ seed: 7, size: 'large', eventBytes: 1024, eventTypes: ['CUSTOM'] });
  const lines: Buffer[] = [];
  for (let i = 0; i < cfg.legEvents; i++) lines.push(Buffer.from(JSON.stringify(gen.next({ offset: String(i + 1), processedMs: Date.now() }))));
  const rounds: { seconds: number; jitPctOfCore: number; produceEventsPerSec: number; consumeEventsPerSec: number }[] = [];
  const started = performance.now();
  while (performance.now() - started < brokerWarmupSec * 1000) {
    const jit0 = brokerJitSec();
    const r0 = performance.now();
    const r = await legKafka(infra.brokers, lines, `bench.warmup.${runId}.${rounds.length}`, packed);
    const seconds = (performance.now() - r0) / 1000;
    const round = { seconds: round1(seconds), jitPctOfCore: round1(((brokerJitSec() - jit0) * 100) / seconds), produceEventsPerSec: Math.round(r.produce.eventsPerSec), consumeEventsPerSec: Math.round(r.consume.eventsPerSec) };
    rounds.push(round);
    log(`  broker warm-up round ${rounds.length}: ${round.seconds} s, its JIT ${round.jitPctOfCore} % of a core; produce ${fmt(round.produceEventsPerSec)}, consume ${fmt(round.consumeEventsPerSec)} events/s`);
  }
  const first = rounds[0]!;
  const last = rounds[rounds.length - 1]!;
  results.brokerWarmup = { seconds: round1((performance.now() - started) / 1000), rounds };
  md.push(
    `Broker warm-up (\`--broker-warmup ${brokerWarmupSec}\`): ${rounds.length} rounds of the kafka leg (b), ${fmt(cfg.legEvents)} events each${packed ? ', packed' : ''}, before the scenarios. The broker's JIT compiler threads took ${first.jitPctOfCore} % of a core in the first round and ${last.jitPctOfCore} % in the last (produce ${fmt(first.produceEventsPerSec)} → ${fmt(last.produceEventsPerSec)} events/s).`,
    '',
  );
}

// ---------------------------------------------------------------------------------------------
// Scenario 1: one large integration flat out, and the limits of each leg.

async function scenario1(): Promise<void> {
  const n = cfg.s1Events;
  log(`s1: one large integration flat out, ${n.toLocaleString('en')} events of ~1 KB`);
  const app = emuApp(`${runId}-s1`, { rate: 'max', totalEvents: n, retainEvents: n, cacheBatches: true });
  const rawApp = emuApp(`${runId}-s1raw`, { rate: 'max', totalEvents: cfg.legEvents, retainEvents: cfg.legEvents });
  const emu = await startEmulator('emulator-s1', [app, rawApp]);
  const rx = await startReceiver('receiver-s1');
  let node: { child: Child; base: string } | undefined;
  try {
    if (!coldEmulator) {
      // The emulator generates an app's events on first read (≈ 30 µs each: test-harness cost,
      // Airship's in production); read them all once so the node is served from its log. That
      // read also compresses them (≈ 7 µs each at level 1 here, Airship's CPU too): the emulator
      // keeps those batches (`cacheBatches`) and sends them again to the node.
      log(`s1: the emulator generates and compresses the ${n.toLocaleString('en')} events before the node starts (--cold-emulator: while it reads)`);
      await captureBody(emu.eventsUrl, app.key, app.token, n);
    }
    sampler.track('kafka', infra.kafkaPid);
    const from = performance.now();
    const jitFrom = brokerJitSec();
    const servedBefore = await served(emu.url, app);
    node = await startNodeProc('node-s1', [spec(`${runId}-s1`, app, emu.eventsUrl, rx.url)]);
    trackCommon({ emulator: emu.child, node: node.child, receiver: rx.child });
    const s = await waitDelivered(rx.base, n, quick ? 60_000 : 150_000, 's1', undefined, async () => (await served(emu.url, app)) >= servedBefore + n);
    const to = performance.now();
    // The broker's JIT in the window: what a fresh broker adds to "kafka" (--broker-warmup).
    const brokerJitUs = cpuPerEvent(brokerJitSec() - jitFrom, n);
    const pipe = pipelineResult(s, n);
    const procs = sampler.summary(from, to);
    const context = ctxLine(from, to);
    log(`s1: pipeline ${fmt(pipe.sustainedEventsPerSec)} events/s while Connect was read, ${fmt(pipe.steadyEventsPerSec)} steady (${fmt(pipe.eventsPerSec)} first→last), ${pipe.mbPerSec} MB/s, p50 ${fmt(pipe.p50Ms)} ms, p99 ${fmt(pipe.p99Ms)} ms`);
    await stop(node.child);

    // The legs, same machine, same run, same bytes.
    log(`s1 legs: capturing ${cfg.legEvents.toLocaleString('en')} events of the emulator's gzip stream`);
    const parts = await captureBody(emu.eventsUrl, rawApp.key, rawApp.token, cfg.legEvents);
    const lines = linesOf(parts, cfg.legEvents);
    const p1 = await legParse(parts, cfg.legEvents);
    const p2 = await legParse(parts, cfg.legEvents);
    const parse = p1.eventsPerSec >= p2.eventsPerSec ? p1 : p2;
    log(`s1 legs: (a) gunzip+split+parse ${fmt(parse.eventsPerSec)} events/s`);
    // Each leg's best of two, as for (a): a shared machine's slow moment is not the leg's limit,
    // and the ratio against a leg measured at half its speed would read as met (BENCHMARKS.md).
    const k1 = await legKafka(infra.brokers, lines, `bench.raw.${runId}`, packed);
    const k2 = await legKafka(infra.brokers, lines, `bench.raw2.${runId}`, packed);
    const faster = (x: LegResult, y: LegResult) => (x.eventsPerSec >= y.eventsPerSec ? x : y);
    const kafka = { produce: faster(k1.produce, k2.produce), consume: faster(k1.consume, k2.consume) };
    log(`s1 legs: (b) kafkajs produce ${fmt(kafka.produce.eventsPerSec)} events/s (runs: ${fmt(k1.produce.eventsPerSec)}, ${fmt(k2.produce.eventsPerSec)}), consume ${fmt(kafka.consume.eventsPerSec)} events/s`);
    await postJson(`${rx.base}/_reset`);
    const h1 = await legHttp(rx.url, lines);
    const h2 = await legHttp(rx.url, lines);
    const http = faster(h1, h2);
    const got = await rxStats(rx.base);
    log(`s1 legs: (c) undici POST ${fmt(http.eventsPerSec)} events/s (runs: ${fmt(h1.eventsPerSec)}, ${fmt(h2.eventsPerSec)}; receiver counted ${fmt(got.events)})`);
    const legs: Record<string, LegResult> = { parse, kafkaProduce: kafka.produce, kafkaConsume: kafka.consume, http };
    const slowest = Object.entries(legs).sort((a, b) => a[1].eventsPerSec - b[1].eventsPerSec)[0]!;
    // Judged on the rate while both ends ran: once the source has read everything, the sink drains
    // Kafka with the whole machine to itself, and a "steady" rate taken mostly then (a short run,
    // a sink that started late) measures the sink, not the pipeline. Without that window (the
    // source done before 10 % arrived), the first-to-last rate, start-up included.
    const e2e = pipe.sustainedEventsPerSec ?? pipe.eventsPerSec;
    const e2eName = pipe.sustainedEventsPerSec !== null ? 'while Connect was still being read' : 'first to last';
    const fraction = e2e / slowest[1].eventsPerSec;
    // What the machine can carry of this pipeline: every process's CPU per event, against the
    // CPUs there are. A bound no code in one process can pass.
    // Over the steady window when there is one (what the steady rate is measured over): start-up
    // CPU (module loading, group join, JIT) would otherwise count against the events.
    const window = s.steadyFrom !== undefined && s.steadyEvents ? { procs: sampler.summary(s.steadyFrom, to), events: s.steadyEvents, name: 'the steady window (after the first 10 %)' } : { procs, events: n, name: "the pipeline's window" };
    const cpuUs = Object.fromEntries(Object.entries(window.procs).map(([k, v]) => [k, cpuPerEvent(v.cpuSec, window.events)]));
    const allCpuUs = round1(Object.values(cpuUs).reduce((a, b) => a + b, 0));
    const machineBound = Math.round((cpus().length * 1e6) / Math.max(1, allCpuUs));
    const legsCpuUs = round1(Object.values(legs).reduce((a, l) => a + l.cpuUsPerEvent, 0));
    log(`s1: CPU per event ${allCpuUs} µs in all (${Object.entries(cpuUs).map(([k, v]) => `${k} ${v}`).join(', ')}): ${cpus().length} CPUs carry at most ${fmt(machineBound)} events/s; the legs' client sides ${legsCpuUs} µs; the broker's JIT ${brokerJitUs} µs (whole window)`);
    results.s1 = { pipeline: pipe, procs, cpuUsPerEvent: cpuUs, allCpuUsPerEvent: allCpuUs, machineBoundEventsPerSec: machineBound, legs, legsCpuUsPerEvent: legsCpuUs, brokerJitUsPerEvent: brokerJitUs, slowestLeg: slowest[0], fractionOfSlowest: round1(fraction * 100), context };
    const meets50k = e2e >= 50_000;
    const meets60 = fraction >= 0.6;
    md.push(
      `#### 1. One large integration, flat out (${fmt(n)} events of ~${Math.round(lines.reduce((a, l) => a + l.length + 1, 0) / lines.length)} B, tier large: 6 partitions)`,
      '',
      `${context}.${packed ? ' Flag `source.packRecords` on: the legs (b) write and read packed records too.' : ''}${coldEmulator ? ' The emulator generated its events while the node read them (`--cold-emulator`).' : ' The emulator generated and compressed its events before the node started, and sent the node the batches it had kept (`cacheBatches`).'}`,
      '',
      '| path | events/s | MB/s | p50 ms | p99 ms | vs slowest leg | client CPU µs/event |',
      '|---|---:|---:|---:|---:|---:|---:|',
      `| **pipeline**: emulator → node → Kafka → webhook → receiver, from the first 10 % delivered until the node had read every event from Connect (source and sink both running; the judged rate) | **${fmt(pipe.sustainedEventsPerSec)}** | | ${fmt(pipe.p50Ms)} | ${fmt(pipe.p99Ms)} | **${pipe.sustainedEventsPerSec === null ? '—' : `${round1((pipe.sustainedEventsPerSec / slowest[1].eventsPerSec) * 100)} %`}** | node ${cpuUs['node'] ?? '—'} |`,
      `| pipeline, steady state (after the first 10 %, to the last event: the sink's drain of Kafka included) | ${fmt(pipe.steadyEventsPerSec)} | | | | ${pipe.steadyEventsPerSec === null ? '—' : `${round1((pipe.steadyEventsPerSec / slowest[1].eventsPerSec) * 100)} %`} | |`,
      `| pipeline, first to last event delivered (start-up of the sink included) | ${fmt(pipe.eventsPerSec)} | ${pipe.mbPerSec} | | | ${round1((pipe.eventsPerSec / slowest[1].eventsPerSec) * 100)} % | |`,
      `| (a) gunzip + split + JSON.parse, in-process | ${fmt(parse.eventsPerSec)} | ${parse.mbPerSec} | | | ${round1((e2e / parse.eventsPerSec) * 100)} % | ${parse.cpuUsPerEvent} |`,
      `| (b) kafkajs produce with the node's kafkajs fixes (idempotent, acks=-1, 500 events/request, 1 in flight${packed ? ', packed records as the node writes them' : ''}) | ${fmt(kafka.produce.eventsPerSec)} | ${kafka.produce.mbPerSec} | | | ${round1((e2e / kafka.produce.eventsPerSec) * 100)} % | ${kafka.produce.cpuUsPerEvent} |`,
      `| (b) kafkajs consume (consumer group, from the beginning) | ${fmt(kafka.consume.eventsPerSec)} | ${kafka.consume.mbPerSec} | | | ${round1((e2e / kafka.consume.eventsPerSec) * 100)} % | ${kafka.consume.cpuUsPerEvent} |`,
      `| (c) undici POST of 500-event NDJSON batches, 4 connections | ${fmt(http.eventsPerSec)} | ${http.mbPerSec} | | | ${round1((e2e / http.eventsPerSec) * 100)} % | ${http.cpuUsPerEvent} |`,
      '',
      `CPU per event over ${window.name}, all processes: **${allCpuUs} µs** (${Object.entries(cpuUs).map(([k, v]) => `${k} ${v}`).join(', ')}). ` +
        `${cpus().length} CPUs fully busy carry at most **${fmt(machineBound)} events/s** of this pipeline: the machine's bound, whatever the node does with its share. ` +
        `The legs' client sides add up to ${legsCpuUs} µs per event (one process doing each leg once, nothing else), against the node's ${cpuUs['node'] ?? '—'}. ` +
        `The broker's JIT compiler threads took ${brokerJitUs} µs per event over the whole window (${brokerWarmupSec > 0 ? `after a ${brokerWarmupSec} s warm-up` : 'a fresh broker: no warm-up'}).`,
      '',
      `Targets, judged on the rate ${e2eName}: ≥ 50,000 events/s end-to-end — **${meets50k ? 'met' : 'not met'}** (${fmt(e2e)}); ≥ 60 % of the slowest leg (${slowest[0]}) — **${meets60 ? 'met' : 'not met'}** (${round1(fraction * 100)} %).${pipe.complete ? '' : ` Incomplete: ${fmt(pipe.events)} of ${fmt(n)} delivered before the deadline.`}`,
      '',
      ...procTable(procs),
      '',
    );
  } finally {
    await stop(node?.child);
    await stop(rx.child);
    await stop(emu.child);
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario 2: latency at 5 000 events/s.

async function scenario2(): Promise<void> {
  log(`s2: 5,000 events/s for ${cfg.s2Seconds} s (after a 5 s warm-up)`);
  const app = emuApp(`${runId}-s2`, { rate: 5000, retainEvents: 200_000 });
  const emu = await startEmulator('emulator-s2', [app]);
  const rx = await startReceiver('receiver-s2');
  let node: { child: Child; base: string } | undefined;
  try {
    node = await startNodeProc('node-s2', [spec(`${runId}-s2`, app, emu.eventsUrl, rx.url, 'LATEST')]);
    trackCommon({ emulator: emu.child, node: node.child, receiver: rx.child });
    await waitFor(async () => ((await rxStats(rx.base)).events > 0 ? true : undefined), 60_000);
    await sleep(5_000);
    await postJson(`${rx.base}/_reset`);
    const from = performance.now();
    await sleep(cfg.s2Seconds * 1000);
    const s = await rxStats(rx.base);
    const to = performance.now();
    const r = pipelineResult(s, 0);
    const procs = sampler.summary(from, to);
    const context = ctxLine(from, to);
    results.s2 = { pipeline: r, procs, context, seconds: cfg.s2Seconds };
    log(`s2: ${fmt(r.eventsPerSec)} events/s, p50 ${fmt(r.p50Ms)} ms, p99 ${fmt(r.p99Ms)} ms, max ${fmt(r.maxMs)} ms`);
    md.push(
      `#### 2. Latency at 5,000 events/s (${cfg.s2Seconds} s window after a 5 s warm-up; batch linger 100 ms, the default)`,
      '',
      `${context}.`,
      '',
      '| delivered events/s | MB/s | p50 ms | p99 ms | max ms | target p99 ≤ 500 ms |',
      '|---:|---:|---:|---:|---:|---|',
      `| ${fmt(r.eventsPerSec)} | ${r.mbPerSec} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.maxMs)} | **${r.p99Ms !== null && r.p99Ms <= 500 ? 'met' : 'not met'}** |`,
      '',
      ...procTable(procs),
      '',
    );
  } finally {
    await stop(node?.child);
    await stop(rx.child);
    await stop(emu.child);
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario 3: many tenants on one node.

function sinkConnections(pid: number, brokerPort: string): number {
  try {
    const out = execFileSync('ss', ['-tnpH', 'state', 'established', `dport = :${brokerPort}`], { encoding: 'utf8' });
    return out.split('\n').filter((l) => l.includes(`pid=${pid},`)).length;
  } catch {
    return -1;
  }
}

interface BurstDrain {
  /** Seconds from the burst to the last event delivered. */
  drainSec: number;
  drainEventsPerSec: number;
}

/** How long a burst took to reach the receiver, from the moment the apps were asked to generate it. */
function burstDrain(s: RxStats, burstAt: number): BurstDrain {
  const ms = Math.max(1, s.lastAt - burstAt);
  return { drainSec: round1(ms / 1000), drainEventsPerSec: Math.round((s.events / ms) * 1000) };
}

/**
 * Has the emulator make each app's burst ahead and hold it (`generate` with `hold`): generating
 * costs the emulator ~30 µs an event on the CPUs the node shares, which is Connect's work, not
 * Tributary's. Nothing is made here with `--live-burst`.
 */
async function prepareBurst(emuUrl: string, keys: readonly string[], count: number): Promise<void> {
  if (liveBurst) return;
  const began = Date.now();
  for (const key of keys) {
    const r = (await postJson(`${emuUrl}/_admin/apps/${encodeURIComponent(key)}/generate`, { count, hold: true })) as { ok?: boolean; error?: string } | undefined;
    if (!r?.ok) throw new Error(`emulator refused to hold ${count} events for ${key}: ${r?.error ?? 'no answer'}`);
  }
  log(`s3: the emulator made the ${keys.length} busy apps' ${fmt(keys.length * count)} events ahead in ${round1((Date.now() - began) / 1000)} s (held until the burst)`);
}

/** How the busy apps' events reach the node in scenario 3 (--live-burst, --cold-emulator, or neither). */
const burstMode: 'live' | 'cold' | 'ahead' = liveBurst ? 'live' : coldEmulator ? 'cold' : 'ahead';

/**
 * Quiet apps turn busy at once. By default the apps' held events (`prepareBurst`) are released
 * together at least `leadMs` from now (`/_admin/release` with `at`): the emulator stamps them and
 * compresses their batches before that moment (its serialising and deflate, ~30 µs an event, are
 * Connect's work, done on Airship's machines, not on the CPUs the node shares), as scenario 1's
 * emulator does before its node starts. With `--cold-emulator`, they are released after `leadMs`
 * and compressed as they are served; with `--live-burst`, generated then. Resolves at the burst,
 * with its time (epoch ms).
 */
async function burst(emuUrl: string, keys: readonly string[], count: number, leadMs: number): Promise<number> {
  type Answer = { ok?: boolean; error?: string; count?: number; apps?: Record<string, { count: number }>; releaseAt?: number; prepareMs?: number } | undefined;
  if (burstMode === 'live') {
    await sleep(leadMs);
    const at = Date.now();
    for (const key of keys) {
      const r = (await postJson(`${emuUrl}/_admin/apps/${encodeURIComponent(key)}/generate`, { count })) as Answer;
      if (!r?.ok || r.count !== count) throw new Error(`emulator did not generate ${count} events for ${key}: ${r?.error ?? JSON.stringify(r)}`);
    }
    return at;
  }
  const release = async (at?: number) => {
    const r = (await postJson(`${emuUrl}/_admin/release`, { apps: keys, at })) as Answer;
    const short = keys.filter((k) => r?.apps?.[k]?.count !== count);
    if (!r?.ok || short.length > 0) throw new Error(`emulator did not release ${count} events for ${short.join(', ') || keys.join(', ')}: ${r?.error ?? JSON.stringify(r)}`);
    return r;
  };
  if (burstMode === 'cold') {
    await sleep(leadMs);
    const at = Date.now();
    await release();
    return at;
  }
  // Preparing costs the emulator 30–45 µs an event (more while the node's crowd runs): the lead
  // covers that. When it runs over, every app still goes out at one moment, then.
  const at = Date.now() + Math.max(leadMs, Math.ceil(keys.length * count * 0.05) + 1_000);
  const r = await release(at);
  const releaseAt = r.releaseAt ?? at;
  log(`  the emulator compressed the ${keys.length} bursts ahead in ${round1((r.prepareMs ?? 0) / 1000)} s${releaseAt > at ? `, ${releaseAt - at} ms past the release time set: they went out together then, stamped ${releaseAt - at} ms earlier (the drain is timed from when they went out)` : ''}`);
  await sleep(Math.max(0, releaseAt - Date.now()));
  return releaseAt;
}

interface BurstRound extends PipelineResult, BurstDrain {
  /** The sampler's window of this burst (performance.now()): release to last delivery. */
  fromPerf: number;
  toPerf: number;
}

/**
 * One phase of scenario 3 (the busy apps alone, or in the crowd): `s3Bursts` bursts, the first
 * prepared before the node started, each next one prepared once the last is delivered (the
 * receiver's count restarts). The phase's rate is its fastest complete burst's: a shared machine's
 * slow moment is not the phase's throughput (as scenario 1's legs take their best of two).
 */
async function burstRounds(phase: string, emuUrl: string, apps: readonly EmuApp[], rxBase: string, leadMs: number, timeoutMs: () => number): Promise<{ best: BurstRound; rounds: BurstRound[] }> {
  const keys = apps.map((a) => a.key);
  const target = keys.length * cfg.busyEvents;
  const rounds: BurstRound[] = [];
  for (let i = 0; i < s3Bursts; i++) {
    if (i > 0) {
      await prepareBurst(emuUrl, keys, cfg.busyEvents);
      await postJson(`${rxBase}/_reset`);
    }
    const burstAt = await burst(emuUrl, keys, cfg.busyEvents, leadMs);
    const fromPerf = performance.now();
    const s = await waitDelivered(rxBase, target, timeoutMs(), `s3 ${phase}`, () => servedBy(emuUrl, apps));
    const round: BurstRound = { ...pipelineResult(s, target), ...burstDrain(s, burstAt), fromPerf, toPerf: performance.now() };
    rounds.push(round);
    log(`s3: ${phase}, burst ${i + 1} of ${s3Bursts}: ${fmt(target)} events delivered ${round1(round.drainSec)} s after the burst (${fmt(round.drainEventsPerSec)} events/s)${round.complete ? '' : ' (**incomplete**)'}`);
    if (!round.complete) break;
  }
  const complete = rounds.filter((r) => r.complete);
  const best = (complete.length ? complete : rounds).reduce((a, b) => (b.drainEventsPerSec > a.drainEventsPerSec ? b : a));
  return { best, rounds };
}

/** A node's CPU profile (`--s3-profile`) over one burst: kept in the results dir, read for that window. */
interface BurstProfile {
  file: string;
  window: { fromEndUs: number; toEndUs: number };
  idlePct: number;
  gcPct: number;
  spots: HotSpot[];
  areas: { area: string; pct: number }[];
}

/** `exitPerf`: when the profiled node exited (the profile ends then); the window is located from it. */
function burstProfile(profDir: string, name: string, exitPerf: number, round: BurstRound): BurstProfile | undefined {
  const file = existsSync(profDir) ? readdirSync(profDir).find((f) => f.endsWith('.cpuprofile')) : undefined;
  if (!file) return undefined;
  const dest = join(resultsDir, `${runId}-${name}.cpuprofile`);
  if (!existsSync(dest)) writeFileSync(dest, readFileSync(join(profDir, file)));
  const window = { fromEndUs: Math.round((exitPerf - round.fromPerf) * 1000), toEndUs: Math.round((exitPerf - round.toPerf) * 1000) };
  const hot = hotSpots(dest, 15, window);
  return { file: dest, window, idlePct: hot.idlePct, gcPct: hot.gcPct, spots: hot.spots, areas: byArea(dest, window).slice(0, 12) };
}

/** How many events the emulator has served `app` (every stream, the bench's own reads included). */
async function served(emuUrl: string, app: EmuApp): Promise<number> {
  return (await getJson<{ served: number }>(`${emuUrl}/_admin/apps/${encodeURIComponent(app.key)}`)).served;
}

/** How many events the emulator served these apps (read by the node's sources), for progress lines. */
async function servedBy(emuUrl: string, apps: readonly EmuApp[]): Promise<string> {
  let served = 0;
  let active = 0;
  let total = 0;
  const ends = new Map<string, number>();
  for (const a of apps) {
    const st = await getJson<{ served: number; connections: { active: number; total: number }; streamEnds: Record<string, number> }>(`${emuUrl}/_admin/apps/${encodeURIComponent(a.key)}`);
    served += st.served;
    active += st.connections.active;
    total += st.connections.total;
    for (const [k, v] of Object.entries(st.streamEnds)) ends.set(k, (ends.get(k) ?? 0) + v);
  }
  return `${served.toLocaleString('en')} read from Connect (streams ${active} open, ${total} opened${ends.size ? `; ended: ${[...ends].map(([k, v]) => `${v} ${k}`).join(', ')}` : ''})`;
}

/** Waits until `want` integrations are `running` on the node's /status, or the deadline; returns how many are. */
async function waitRunning(base: string, want: number, deadline: number, label: string): Promise<number> {
  let running = 0;
  let lastLog = 0;
  while (Date.now() < deadline) {
    const st = await getJson<NodeStatus>(`${base}/status`).catch(() => undefined);
    running = st?.integrations.filter((x) => x.status === 'running').length ?? running;
    if (running >= want) return running;
    if (Date.now() - lastLog > 5_000) {
      log(`  ${label}: ${running}/${want} running, node RSS ${round1(sampler.summary()['node']?.lastRssMiB ?? 0)} MiB`);
      lastLog = Date.now();
    }
    await sleep(500);
  }
  return running;
}

/** `--extra-topics`: N topics more in the cluster, created 200 per request, waited for until listed. */
async function createExtraTopics(n: number): Promise<void> {
  const kafka = new Kafka({ clientId: `${runId}-extra`, brokers: infra.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const names = Array.from({ length: n }, (_, i) => `tributary.events.${runId}-extra-${i}`);
    for (let i = 0; i < n; i += 200) {
      await admin.createTopics({ waitForLeaders: false, topics: names.slice(i, i + 200).map((topic) => ({ topic, numPartitions: 1, replicationFactor: -1 })) });
      if ((i / 200) % 10 === 9 || i + 200 >= n) log(`s3: ${fmt(Math.min(n, i + 200))}/${fmt(n)} extra topics created`);
    }
    // The broker lists new topics seconds after it acknowledged them: start once they all show.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const listed = (await admin.listTopics()).filter((t) => t.includes(`${runId}-extra-`)).length;
      if (listed >= n) break;
      if (Date.now() > deadline) throw new Error(`s3: only ${listed} of ${n} extra topics listed after 120 s`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    log(`s3: the cluster holds ${fmt(n)} extra topics`);
  } finally {
    await admin.disconnect();
  }
}

async function scenario3(): Promise<void> {
  const total = cfg.tenants;
  const busy = cfg.busy;
  log(`s3: ${total} integrations on one node (${total - busy} small, mostly idle; ${busy} busy with ${fmt(cfg.busyEvents)} events each), after the same ${busy} busy apps alone`);
  // The busy apps are quiet until the harness makes each generate its events at once (`burst`):
  // in the crowd, that happens once every integration runs, so the start-up storm stays out of
  // the busy measurement. The same shape runs first alone on a node: the single-tenant baseline.
  const quietBusy = (key: string) => emuApp(key, { rate: 'max', totalEvents: 0, retainEvents: cfg.busyEvents, cacheBatches: burstMode === 'ahead' });
  const small: EmuApp[] = [];
  for (let i = 0; i < total - busy; i++) small.push({ key: `${runId}-t${i}`, token: `tok-t${i}`, size: 'small', ...(smallRate > 0 ? { rate: smallRate } : { rate: 'max' as const, totalEvents: 0 }) });
  const crowdBusy = Array.from({ length: busy }, (_, i) => quietBusy(`${runId}-busy${i}`));
  const aloneBusy = Array.from({ length: busy }, (_, i) => quietBusy(`${runId}-alone${i}`));
  const emu = await startEmulator('emulator-s3', [...small, ...crowdBusy, ...aloneBusy]);
  const busyTarget = busy * cfg.busyEvents;
  if (extraTopics > 0) await createExtraTopics(extraTopics);

  // Phase 1: the busy apps alone on a node.
  let alone: BurstRound | undefined;
  let aloneRounds: BurstRound[] = [];
  /** With --s3-profile: the alone node's profile over its judged burst. */
  let aloneProfile: BurstProfile | undefined;
  const profDirAlone = join(work, 'prof-s3-alone');
  let aloneExit = 0;
  /** The processes over the judged alone burst. */
  let procsAlone: Record<string, ProcSummary> = {};
  let machineAlonePct: number | undefined;
  {
    const rxAlone = await startReceiver('receiver-s3-alone');
    let nodeAlone: { child: Child; base: string } | undefined;
    try {
      await prepareBurst(emu.url, aloneBusy.map((a) => a.key), cfg.busyEvents);
      nodeAlone = await startNodeProc('node-s3-alone', aloneBusy.map((a, i) => spec(`${runId}-s3a-${i}`, a, emu.eventsUrl, rxAlone.url)), s3Profile ? ['--cpu-prof', '--cpu-prof-dir', profDirAlone, '--cpu-prof-interval', '2000'] : []);
      trackCommon({ emulator: emu.child, node: nodeAlone.child, receiver: rxAlone.child });
      const running = await waitRunning(nodeAlone.base, busy, Date.now() + 60_000, 's3 alone');
      if (running < busy) throw new Error(`s3: only ${running} of the ${busy} busy integrations ran alone within 60 s`);
      const phase = await burstRounds('alone', emu.url, aloneBusy, rxAlone.base, 2_000, () => 120_000);
      alone = phase.best;
      aloneRounds = phase.rounds;
      procsAlone = sampler.summary(alone.fromPerf, alone.toPerf);
      machineAlonePct = sampler.machineBusyPct(alone.fromPerf, alone.toPerf);
      log(`s3: the ${busy} busy apps alone: their ${fmt(busyTarget)} events delivered ${round1(alone.drainSec)} s after the burst (${fmt(alone.drainEventsPerSec)} events/s${s3Bursts > 1 ? `, the fastest of ${aloneRounds.length}` : ''})`);
    } finally {
      await stop(nodeAlone?.child, 60_000);
      aloneExit = performance.now();
      await stop(rxAlone.child);
    }
    if (alone) aloneProfile = burstProfile(profDirAlone, 'node-s3-alone', aloneExit, alone);
  }

  // Phase 2: the crowd. Small apps deliver to one receiver, busy ones to another (so each counts only its own).
  const rx = await startReceiver('receiver-s3');
  const rxBusy = await startReceiver('receiver-s3-busy');
  const specs = [
    ...small.map((a, i) => spec(`${runId}-s3-${i}`, a, emu.eventsUrl, rx.url)),
    ...crowdBusy.map((a, i) => spec(`${runId}-s3-${total - busy + i}`, a, emu.eventsUrl, rxBusy.url)),
  ];
  const profDir = join(work, 'prof-s3');
  let node: { child: Child; base: string } | undefined;
  await prepareBurst(emu.url, crowdBusy.map((a) => a.key), cfg.busyEvents);
  try {
    const from = performance.now();
    node = await startNodeProc('node-s3', specs, s3Profile ? ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', '2000'] : []);
    trackCommon({ emulator: emu.child, node: node.child, receiver: rx.child, 'receiver-busy': rxBusy.child });
    // Started: every integration `running` on the node's /status. Leave the busy run, the idle
    // window, the profile and the shutdown time inside the suite's deadline.
    const deadline = Date.now() + Math.max(60_000, Math.min(180_000, remaining() - 120_000));
    const running = await waitRunning(node.base, total, deadline, 's3');
    const allRunningMs = running >= total ? performance.now() - from : undefined;
    if (allRunningMs === undefined) {
      // Which ones did not start, and why (their status reason on /status).
      const st = await getJson<NodeStatus>(`${node.base}/status`).catch(() => undefined);
      const stuck = (st?.integrations ?? []).filter((x) => x.status !== 'running');
      const reasons = new Map<string, number>();
      for (const x of stuck) {
        const reason = `${x.status}: ${x.statusReason}`.slice(0, 200);
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
      log(`s3: ${stuck.length} not running at the deadline: ${[...reasons].map(([r, n]) => `${n} × ${r}`).join('; ')}`);
    }
    // `running` is the actors' view; a source reads Connect only once its start-up (the watermark
    // in Kafka, the stream request) is done: the emulator counts an open stream per app.
    const crowdKeys = new Set([...small, ...crowdBusy].map((a) => a.key));
    let streaming = 0;
    while (Date.now() < deadline) {
      const apps = (await getJson<{ apps: { key: string; connections: { active: number } }[] }>(`${emu.url}/_admin/apps`).catch(() => undefined))?.apps ?? [];
      streaming = apps.filter((a) => crowdKeys.has(a.key) && a.connections.active > 0).length;
      if (streaming >= total) break;
      await sleep(1_000);
    }
    const allStreamingMs = streaming >= total ? performance.now() - from : undefined;
    const startedAt = performance.now();
    const procsStart = sampler.summary(from, startedAt);
    log(`s3: all running after ${allRunningMs === undefined ? 'never (deadline)' : `${round1(allRunningMs / 1000)} s`}, all reading Connect after ${allStreamingMs === undefined ? `never (${streaming} by the deadline)` : `${round1(allStreamingMs / 1000)} s`}; the busy apps turn busy in 5 s or more (the emulator prepares their bursts)`);
    // The crowd settles (first fetches, parks, the start-up's state writes), then the busy apps turn busy.
    const crowdPhase = await burstRounds('busy in the crowd', emu.url, crowdBusy, rxBusy.base, 5_000, () => Math.max(30_000, Math.min(120_000, remaining() - 60_000)));
    const busyRate = crowdPhase.best;
    // The processes over the fastest burst (the one judged).
    const procsBusy = sampler.summary(busyRate.fromPerf, busyRate.toPerf);
    const machineBusyPct = sampler.machineBusyPct(busyRate.fromPerf, busyRate.toPerf);
    const cpuLine = (procs: Record<string, ProcSummary>) => Object.entries(procs).map(([k, v]) => `${k} ${v.avgCpuPct}`).join(', ');
    // Throughput: the burst's events over the time from the burst to the last delivery, the same
    // way in both phases (a "steady" rate from 10 % on spans too few seconds to compare).
    const crowdRate = busyRate.drainEventsPerSec;
    const aloneRate = alone?.drainEventsPerSec;
    const ratio = aloneRate ? crowdRate / aloneRate : undefined;
    log(`s3: busy in the crowd: delivered ${round1(busyRate.drainSec)} s after the burst, ${fmt(crowdRate)} events/s${s3Bursts > 1 ? ` (the fastest of ${crowdPhase.rounds.length})` : ''} (${ratio === undefined ? '—' : `${round1(ratio * 100)} %`} of alone); measuring idle for ${idleSec} s`);
    // Idle: busy apps finished, small ones trickle.
    const idleClean = crowdPhase.rounds.every((r) => r.complete);
    await sleep(3_000);
    // The small apps' events delivered in the window: their arrivals are bursty, and the idle CPU
    // follows them (node and emulator rise and fall together between runs), so it is reported beside it.
    const idleEventsBefore = (await rxStats(rx.base)).events;
    const idleFrom = performance.now();
    const threadsBefore = readThreads(node.child.pid);
    const procBefore = readProc(node.child.pid);
    await sleep(idleSec * 1000);
    const idleTo = performance.now();
    const idleEvents = (await rxStats(rx.base)).events - idleEventsBefore;
    const idleEventsPerSec = round1((idleEvents * 1000) / (idleTo - idleFrom));
    const threads = threadCpuPct(threadsBefore, readThreads(node.child.pid), idleTo - idleFrom);
    const procAfter = readProc(node.child.pid);
    // The kernel's share of the node's idle CPU: socket reads and writes, epoll, timers.
    const idleSysPct = procBefore && procAfter ? round1(((procAfter.sysSec - procBefore.sysSec) * 100_000) / (idleTo - idleFrom)) : undefined;
    const idle = sampler.summary(idleFrom, idleTo);
    log(`s3: idle: node ${idle['node']?.avgCpuPct ?? '—'} % of a core, emulator ${idle['emulator']?.avgCpuPct ?? '—'} %, while the small apps delivered ${idleEventsPerSec} events/s`);
    const brokerPort = infra.brokers[0]!.split(':')[1]!;
    const conns = sinkConnections(node.child.pid, brokerPort);
    const kafka = new Kafka({ clientId: 'bench-s3', brokers: infra.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const groups = (await admin.listGroups()).groups.filter((g) => g.groupId.includes(`${runId}-s3-`)).length;
    const topicsN = (await admin.listTopics()).filter((t) => t.includes(`${runId}-s3-`)).length;
    await admin.disconnect();
    const stoppedAt = performance.now();
    await stop(node.child, 60_000);
    const exitMs = performance.now();
    let idleProfile: ReturnType<typeof hotSpots> | undefined;
    /** The idle window in the profile, µs before its end (for reading the profile again). */
    let idleWindow: { fromEndUs: number; toEndUs: number } | undefined;
    let areas: { area: string; pct: number }[] = [];
    const file = existsSync(profDir) ? readdirSync(profDir).find((f) => f.endsWith('.cpuprofile')) : undefined;
    if (file) {
      const dest = join(resultsDir, `${runId}-node-s3.cpuprofile`);
      writeFileSync(dest, readFileSync(join(profDir, file)));
      // The idle window, located from the profile's end (the node exited shortly after `exitMs`).
      idleWindow = { fromEndUs: Math.round((exitMs - idleFrom) * 1000), toEndUs: Math.round((exitMs - idleTo) * 1000) };
      idleProfile = hotSpots(dest, 15, idleWindow);
      areas = byArea(dest).slice(0, 10);
    }
    const crowdProfile = burstProfile(profDir, 'node-s3', exitMs, busyRate);
    const procsAll = sampler.summary(from, idleTo);
    results.s3 = {
      integrations: total,
      busy,
      extraTopics,
      allRunningSec: allRunningMs === undefined ? null : round1(allRunningMs / 1000),
      allStreamingSec: allStreamingMs === undefined ? null : round1(allStreamingMs / 1000),
      runningAtDeadline: running,
      busyAlone: alone ?? null,
      busyInCrowd: busyRate,
      busyVsAlone: ratio === undefined ? null : round1(ratio * 100),
      bursts: { alone: aloneRounds.map((r) => r.drainEventsPerSec), crowd: crowdPhase.rounds.map((r) => r.drainEventsPerSec) },
      procsStart,
      procsBusy,
      procsAlone,
      machineBusyPct: { alone: machineAlonePct ?? null, crowd: machineBusyPct },
      procs: procsAll,
      idle,
      idleClean,
      idleThreads: threads,
      idleSysPct: idleSysPct ?? null,
      idleEvents,
      idleEventsPerSec,
      nodeKafkaConnections: conns,
      consumerGroups: groups,
      topics: topicsN,
      idleProfile,
      idleWindow,
      areas,
      // With --s3-profile: both nodes' profiles over their judged bursts, to compare what the crowd adds.
      burstProfiles: aloneProfile || crowdProfile ? { alone: aloneProfile ?? null, crowd: crowdProfile ?? null } : undefined,
      shutdownSec: round1((exitMs - stoppedAt) / 1000),
      context: ctxLine(from, idleTo),
    };
    const nodeIdle = idle['node'];
    const nodeAll = procsAll['node'];
    const ext = (x: number) => Math.round((x * 1000) / total);
    // RSS: the node's RSS before its integrations started, plus the per-integration slope × 1,000.
    const base = nodeAll?.firstRssMiB ?? 0;
    const extRss = (x: number) => Math.round(base + ((x - base) * 1000) / total);
    const threadLine = threads.length ? `Node CPU by thread in the idle window (% of a core): ${threads.slice(0, 6).map((x) => `${x.thread} ${x.pct}`).join(', ')}.` : '';
    md.push(
      `#### 3. Many tenants: ${total} integrations on one node (${total - busy} small apps at ${smallRate} events/s, ${busy} busy with ${fmt(cfg.busyEvents)} events each)${extraTopics ? `, on a cluster holding ${fmt(extraTopics)} other topics (\`--extra-topics\`)` : ''}`,
      '',
      `${ctxLine(from, idleTo)}. ${s3Profile ? 'The node ran with \`--cpu-prof --cpu-prof-interval 2000\` (\`--s3-profile\`; the sampler adds ~1.5–2.5 % of a core to the idle figure).' : 'The node ran without a profiler (\`--s3-profile\` adds one).'} ${
        {
          live: "The busy apps' events are generated at once (emulator \`generate\`, \`--live-burst\`) 5 s after every integration runs",
          cold: "The busy apps' events are made before the node starts and held by the emulator, then released at once 5 s after every integration runs and compressed as they are served (\`--cold-emulator\`)",
          ahead:
            "The busy apps' events are made before the node starts and held by the emulator, then released at once at least 5 s after every integration runs, stamped and compressed by the emulator before that moment (release \`at\`; as in scenario 1, the emulator sends batches it compressed ahead; \`--cold-emulator\` compresses them as they are served)",
        }[burstMode]
      }; the baseline is the same ${busy} busy apps alone on a node, before the crowd.`,
      '',
      ...lastColumnIf(
        total < 1000,
        [
          `| measure | ${total} integrations | target (1,000) | extrapolated to 1,000 (linear, labelled) |`,
          '|---|---:|---|---:|',
          `| all \`running\` on /status | ${allRunningMs === undefined ? `not by the deadline (${running} running)` : `${round1(allRunningMs / 1000)} s`} | ≤ 60 s | ${allRunningMs === undefined ? '—' : `~${round1(ext(allRunningMs) / 1000)} s`} |`,
          `| every source reading Connect (a stream open per app, emulator) | ${allStreamingMs === undefined ? `not by the deadline (${streaming})` : `${round1(allStreamingMs / 1000)} s`} | ≤ 60 s | |`,
          `| node peak RSS | ${nodeAll?.peakRssMiB ?? '—'} MiB | ≤ 1,024 MiB | ~${nodeAll ? extRss(nodeAll.peakRssMiB) : '—'} MiB (${base} MiB at start + slope) |`,
          `| node RSS when idle | ${nodeIdle?.lastRssMiB ?? '—'} MiB | | ~${nodeIdle ? extRss(nodeIdle.lastRssMiB) : '—'} MiB |`,
          `| node idle CPU (${idleSec} s${idleClean ? ', busy apps done' : ', **busy apps NOT done: not an idle figure**'}) | ${nodeIdle?.avgCpuPct ?? '—'} % of a core${idleSysPct === undefined ? '' : ` (kernel ${idleSysPct} %)`}, while the small apps delivered ${idleEventsPerSec} events/s | ≤ 10 % | ~${nodeIdle ? ext(nodeIdle.avgCpuPct) : '—'} % |`,
          `| Kafka broker idle CPU | ${idle['kafka']?.avgCpuPct ?? '—'} % of a core | | ~${idle['kafka'] ? ext(idle['kafka'].avgCpuPct) : '—'} % |`,
          `| the ${busy} busy apps alone on a node: burst delivered in | ${alone ? `${round1(alone.drainSec)} s, ${fmt(aloneRate)} events/s` : '—'} | | |`,
          `| the same ${busy} in the crowd: burst delivered in | ${round1(busyRate.drainSec)} s, ${fmt(crowdRate)} events/s${busyRate.complete ? '' : ' (**incomplete**)'} | | |`,
          `| … in the crowd vs alone${s3Bursts > 1 ? ' (each phase its fastest burst)' : ''} | ${ratio === undefined ? '—' : `${round1(ratio * 100)} %`} | ≥ 80 % | |`,
          `| CPU over the judged bursts, % of a core | alone: ${cpuLine(procsAlone)} (machine ${machineAlonePct ?? '—'} % busy); in the crowd: ${cpuLine(procsBusy)} (machine ${machineBusyPct} % busy) | | |`,
          ...(s3Bursts > 1 ? [`| every burst, events/s (\`--s3-bursts ${s3Bursts}\`) | alone ${aloneRounds.map((r) => fmt(r.drainEventsPerSec)).join(', ')}; in the crowd ${crowdPhase.rounds.map((r) => fmt(r.drainEventsPerSec)).join(', ')} | | |`] : []),
          `| node's TCP connections to the broker | ${conns} | | ~${ext(conns)} |`,
          `| consumer groups / topics of these integrations | ${groups} / ${topicsN} | | ${ext(groups)} / ${ext(topicsN)} |`,
          `| node shutdown (SIGTERM → exit) | ${round1((exitMs - stoppedAt) / 1000)} s | | |`,
        ],
      ),
      '',
      ...procTable(procsAll),
      '',
      ...(threadLine ? [threadLine, ''] : []),
      ...(idleProfile
        ? [
            `Node CPU profile of the ${idleSec} s idle window (\`bench/results/${runId}-node-s3.cpuprofile\`; idle ${idleProfile.idlePct} %, GC ${idleProfile.gcPct} %); whole run by area: ${areas.map((a) => `${a.area} ${a.pct} %`).join(', ')}.`,
            '',
            '| function (idle window) | where | self % |',
            '|---|---|---:|',
            ...idleProfile.spots.slice(0, 12).map((h) => `| \`${h.fn}\` | ${h.where} | ${h.selfPct} |`),
            '',
          ]
        : []),
      ...(aloneProfile && crowdProfile
        ? [
            `Node CPU profiles over the judged bursts (\`${runId}-node-s3-alone.cpuprofile\`, \`${runId}-node-s3.cpuprofile\`), % of the main thread's time:`,
            '',
            '| area | alone | in the crowd |',
            '|---|---:|---:|',
            ...[...new Set([...aloneProfile.areas, ...crowdProfile.areas].map((a) => a.area))].map(
              (area) => `| ${area} | ${aloneProfile.areas.find((a) => a.area === area)?.pct ?? '—'} | ${crowdProfile.areas.find((a) => a.area === area)?.pct ?? '—'} |`,
            ),
            '',
          ]
        : []),
    );
  } finally {
    await stop(node?.child, 60_000);
    await stop(rx.child);
    await stop(rxBusy.child);
    await stop(emu.child);
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario 4: backlog with the sink down, then the drain.

async function topicEnd(admin: ReturnType<Kafka['admin']>, topic: string): Promise<number> {
  const offs = await admin.fetchTopicOffsets(topic);
  return offs.reduce((n, o) => n + Number(o.high), 0);
}

/** Peak of each `node.memory_bytes` kind among the samples, in MiB. */
function peakMemoryByKind(samples: readonly StatsdSample[]): Record<string, number> {
  const peaks: Record<string, number> = {};
  for (const s of samples) {
    if (!s.name.endsWith('node.memory_bytes') || !s.tags.kind) continue;
    peaks[s.tags.kind] = Math.max(peaks[s.tags.kind] ?? 0, round1(s.value / 2 ** 20));
  }
  return peaks;
}

async function scenario4(): Promise<void> {
  const n = cfg.backlog;
  log(`s4: backlog: receiver down while up to ${fmt(n)} events arrive (at most ${cfg.backlogFillMs / 1000} s), then the drain`);
  const app = emuApp(`${runId}-s4`, { rate: 'max', totalEvents: n, retainEvents: n });
  const emu = await startEmulator('emulator-s4', [app]);
  // The receiver starts only after the fill, at a port the node dials all along.
  const port = await freePortOutsideEphemeral();
  const id = `${runId}-s4`;
  const topic = `tributary.events.${id}`;
  let node: { child: Child; base: string } | undefined;
  let rx: Awaited<ReturnType<typeof startReceiver>> | undefined;
  const kafka = new Kafka({ clientId: 'bench-s4', brokers: infra.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  // The node's own gauges (node.memory_bytes, every 10 s) split its RSS into live heap, V8's
  // reservation and buffers outside the heap.
  const statsd = await startStatsdListener();
  try {
    const from = performance.now();
    node = await startNodeProc('node-s4', [spec(id, app, emu.eventsUrl, `http://127.0.0.1:${port}/ingest`)], [], statsd.port);
    trackCommon({ emulator: emu.child, node: node.child });
    // Packed records hold many events each: count the events the source reports produced (its
    // state row's counter, flushed every few seconds) rather than the topic's records.
    const store = new StateStore(createDynamoClient({ endpoint: infra.dynamo, region: 'us-east-1' }), stateTable);
    const eventsInKafka = async () => (packed ? ((await store.get(id))?.counters?.produced ?? 0) : topicEnd(admin, topic));
    let inKafka = 0;
    let lastLog = 0;
    let firstRecordAt: number | undefined;
    const fillDeadline = performance.now() + cfg.backlogFillMs;
    while (performance.now() < fillDeadline) {
      inKafka = await eventsInKafka().catch(() => inKafka);
      if (inKafka > 0 && firstRecordAt === undefined) firstRecordAt = performance.now();
      if (inKafka >= n) break;
      if (Date.now() - lastLog > 10_000) {
        log(`  s4: ${fmt(inKafka)} events in Kafka, node RSS ${sampler.summary()['node']?.lastRssMiB ?? '—'} MiB`);
        lastLog = Date.now();
      }
      await sleep(500);
    }
    const filled = performance.now();
    const fill = sampler.summary(from, filled);
    const fillMemory = peakMemoryByKind(statsd.samples);
    const fillRate = firstRecordAt ? Math.round((inKafka / (filled - firstRecordAt)) * 1000) : 0;
    log(`s4: ${fmt(inKafka)} events waiting in Kafka (${fmt(fillRate)} events/s in), node peak RSS ${fill['node']?.peakRssMiB} MiB; starting the receiver`);
    // Let the source finish its last batch (and, packed, its counter reach the state row) so the backlog is fixed.
    for (let settled = 0, i = 0; settled < 2 && i < 15; i++) {
      await sleep(packed ? 1_500 : 2_000);
      const now = await eventsInKafka();
      settled = now === inKafka ? settled + 1 : 0;
      inKafka = now;
      if (!packed) break;
    }
    rx = await startReceiver('receiver-s4', port);
    sampler.track('receiver', rx.child.pid);
    const d0 = performance.now();
    const s = await waitDelivered(rx.base, inKafka, 150_000, 's4 drain');
    const d1 = performance.now();
    const drain = pipelineResult(s, inKafka);
    const drainProcs = sampler.summary(d0, d1);
    results.s4 = { target: n, inKafka, fillSeconds: round1((filled - (firstRecordAt ?? from)) / 1000), fillEventsPerSec: fillRate, fillProcs: fill, fillNodeMemoryMiB: fillMemory, drain, drainProcs, untilFirstDeliveryMs: Math.round(s.firstAt ? s.firstAt - (Date.now() - (performance.now() - d0)) : 0), context: ctxLine(from, d1) };
    log(`s4: drained ${fmt(drain.events)} at ${fmt(drain.eventsPerSec)} events/s; node peak RSS while down ${fill['node']?.peakRssMiB} MiB, while draining ${drainProcs['node']?.peakRssMiB} MiB`);
    md.push(
      `#### 4. Backlog: receiver down while ${fmt(inKafka)} events arrive${inKafka < n ? ` (target ${fmt(n)}; what fit in ${cfg.backlogFillMs / 1000} s of this run)` : ''}, then the drain`,
      '',
      `${ctxLine(from, d1)}.`,
      '',
      '| phase | events | events/s | node peak RSS MiB | node avg CPU % | target |',
      '|---|---:|---:|---:|---:|---|',
      `| receiver down: source → Kafka (sink retrying) | ${fmt(inKafka)} | ${fmt(fillRate)} | ${fill['node']?.peakRssMiB ?? '—'} | ${fill['node']?.avgCpuPct ?? '—'} | RSS ≤ 300 MiB: **${(fill['node']?.peakRssMiB ?? 1e9) <= 300 ? 'met' : 'not met'}** |`,
      `| receiver back: drain Kafka → receiver | ${fmt(drain.events)}${drain.complete ? '' : ' (incomplete at deadline)'} | ${fmt(drain.eventsPerSec)} | ${drainProcs['node']?.peakRssMiB ?? '—'} | ${drainProcs['node']?.avgCpuPct ?? '—'} | |`,
      '',
      ...procTable({ ...fill }),
      '',
      `The node's own memory gauges while the receiver was down (peak of each, 10 s samples, MiB): ${Object.entries(fillMemory).map(([k, v]) => `${k} ${v}`).join(', ') || 'none received'}.`,
      '',
    );
  } finally {
    await statsd.close();
    await admin.disconnect().catch(() => undefined);
    await stop(node?.child);
    await stop(rx?.child);
    await stop(emu.child);
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario 5: Redpanda Connect doing the same job.

async function scenario5(): Promise<void> {
  if (!existsSync(rpcBin)) {
    const why = 'binary not present: build with bench/redpanda-connect/build.sh (see its header for the exact error on this machine)';
    log(`s5: skipped, ${why}`);
    results.s5 = { skipped: why };
    md.push('#### 5. Redpanda Connect, side by side', '', `Not run: ${why}.`, '');
    return;
  }
  const n = cfg.s1Events;
  log(`s5: Redpanda Connect, the same job, ${fmt(n)} events`);
  const app = emuApp(`${runId}-s5`, { rate: 'max', totalEvents: n, retainEvents: n, cacheBatches: true });
  const emu = await startEmulator('emulator-s5', [app]);
  // As in scenario 1: the emulator's event generation and compression stay out of the measured window.
  if (!coldEmulator) await captureBody(emu.eventsUrl, app.key, app.token, n);
  const rx = await startReceiver('receiver-s5');
  const topic = `bench.rpc.${runId}`;
  const kafka = new Kafka({ clientId: 'bench-s5', brokers: infra.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 6, replicationFactor: 1 }] });
  await admin.disconnect();
  const env = {
    RPC_EVENTS_URL: emu.eventsUrl,
    RPC_APP_KEY: app.key,
    RPC_TOKEN: app.token,
    RPC_BROKERS: infra.brokers.join(','),
    RPC_TOPIC: topic,
    RPC_GROUP: `${topic}.sink`,
    RPC_SINK_URL: rx.url,
  };
  let src: Child | undefined;
  let snk: Child | undefined;
  try {
    const from = performance.now();
    src = (await spawnChild('rpc-source', ['run', '--log.level', 'warn', 'bench/redpanda-connect/source.yaml'], { cmd: rpcBin, env, logFile: join(work, 'rpc-source.log') })).child;
    snk = (await spawnChild('rpc-sink', ['run', '--log.level', 'warn', 'bench/redpanda-connect/sink.yaml'], { cmd: rpcBin, env, logFile: join(work, 'rpc-sink.log') })).child;
    children.add(src);
    children.add(snk);
    trackCommon({ emulator: emu.child, 'rpc-source': src, 'rpc-sink': snk, receiver: rx.child });
    const s = await waitDelivered(rx.base, n, 150_000, 's5');
    const to = performance.now();
    const r = pipelineResult(s, n);
    const procs = sampler.summary(from, to);
    const ours = (results.s1 as { pipeline: PipelineResult; procs: Record<string, ProcSummary> } | undefined);
    results.s5 = { pipeline: r, procs, tributary: ours?.pipeline ?? null, context: ctxLine(from, to) };
    log(`s5: Redpanda Connect ${fmt(r.steadyEventsPerSec)} events/s steady (${fmt(r.eventsPerSec)} first→last), p50 ${fmt(r.p50Ms)} ms, p99 ${fmt(r.p99Ms)} ms`);
    const rpcRss = (procs['rpc-source']?.peakRssMiB ?? 0) + (procs['rpc-sink']?.peakRssMiB ?? 0);
    const rpcCpu = (procs['rpc-source']?.avgCpuPct ?? 0) + (procs['rpc-sink']?.avgCpuPct ?? 0);
    md.push(
      `#### 5. Redpanda Connect side by side (${fmt(n)} events; \`bench/redpanda-connect/*.yaml\`, two pipelines: http_client stream → kafka_franz, kafka_franz → http_client)`,
      '',
      `${ctxLine(from, to)}.`,
      '',
      '| | events/s steady (first→last) | MB/s | p50 ms | p99 ms | peak RSS MiB | avg CPU % of a core |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...(ours
        ? [`| Tributary (scenario 1) | ${fmt(ours.pipeline.steadyEventsPerSec)} (${fmt(ours.pipeline.eventsPerSec)}) | ${ours.pipeline.mbPerSec} | ${fmt(ours.pipeline.p50Ms)} | ${fmt(ours.pipeline.p99Ms)} | ${ours.procs['node']?.peakRssMiB ?? '—'} | ${ours.procs['node']?.avgCpuPct ?? '—'} |`]
        : []),
      `| Redpanda Connect (source + sink processes) | ${fmt(r.steadyEventsPerSec)} (${fmt(r.eventsPerSec)}) | ${r.mbPerSec} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${round1(rpcRss)} | ${round1(rpcCpu)} |`,
      '',
      ...procTable(procs),
      '',
    );
  } finally {
    await stop(src);
    await stop(snk);
    await stop(rx.child);
    await stop(emu.child);
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    log(`suite exceeded ${suiteDeadlineMs / 60_000} minutes: stopping, writing what was measured`);
    failures.push(`suite deadline (${suiteDeadlineMs / 60_000} min) reached`);
    md.push(`_Suite deadline of ${suiteDeadlineMs / 60_000} min reached: later scenarios did not run or did not finish._`, '');
    void cleanup().then(() => {
      sampler.stop();
      finish();
      process.exit(2);
    });
  }, suiteDeadlineMs);
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  machine = { nproc: cpus().length, cpu, ramGiB: round1(totalmem() / 1024 ** 3), node: process.version, loadAverageAtStart: loadavg().map((l) => round1(l)) };
  const args = process.argv.slice(2);
  command = quick ? 'npm run bench:quick' : `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
  log(`${command}: ${machine.nproc} CPUs (${cpu}), ${machine.ramGiB} GiB, load ${machine.loadAverageAtStart.join(' ')}; work dir ${work}`);
  sampler.start();
  try {
    if (!fromSource) {
      log('compiling src/ into .bench-dist (tsc; the node and emulator run compiled; --from-source skips this)');
      rmSync(buildDir, { recursive: true, force: true });
      execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', buildDir], { stdio: 'inherit' });
      cli = {
        entry: join(buildDir, 'cli', 'main.js'),
        env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', KAFKAJS_NO_PARTITIONER_WARNING: '1' },
      };
    }
    log('starting Kafka + DynamoDB (infraUp)');
    infra = await startInfra();
    log(`infra: Kafka ${infra.brokers.join(',')} (pid ${infra.kafkaPid ?? '?'}), DynamoDB ${infra.dynamo}`);
    await warmBroker();
    const scenarios: [string, () => Promise<void>][] = [
      ['profile', profileRun],
      ['s1', scenario1],
      ['s2', scenario2],
      ['s4', scenario4],
      ['s3', scenario3],
      ['s5', scenario5],
    ];
    for (const [name, fn] of scenarios) {
      if (!only.has(name)) continue;
      const s0 = Date.now();
      try {
        await fn();
      } catch (err) {
        const msg = `${name} failed: ${(err as Error).stack ?? String(err)}`;
        log(msg);
        failures.push(`${name}: ${(err as Error).message}`);
        results[name] = { error: (err as Error).message };
        md.push(`#### ${name}: failed`, '', `\`${(err as Error).message}\``, '');
      }
      log(`${name} took ${Math.round((Date.now() - s0) / 1000)} s`);
    }
  } finally {
    sampler.stop();
    clearTimeout(deadline);
    await cleanup();
  }
  finish();
  if (failures.length) process.exitCode = 1;
}

let finished = false;
function finish(): void {
  if (finished) return;
  finished = true;
  const took = Math.round((Date.now() - t0) / 1000);
  const m = machine ?? { nproc: cpus().length, cpu: 'unknown', ramGiB: 0, node: process.version, loadAverageAtStart: [] };
  const out = { command, date: started.toISOString(), tookSeconds: took, machine: { ...m, loadAverageAtEnd: loadavg().map((l) => round1(l)) }, config: cfg, results, failures };
  const file = join(resultsDir, `pipeline-${started.toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  const header = [
    `### Run ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC${quick ? ' (quick)' : ''}`,
    '',
    '```sh',
    command,
    '```',
    '',
    `Machine: ${m.nproc} CPUs (\`nproc\`), ${m.cpu}, ${m.ramGiB} GiB RAM, Node ${m.node}; load average ${m.loadAverageAtStart.join(' ')} at the start, ${out.machine.loadAverageAtEnd.join(' ')} at the end (other engineers' test suites share these 2 CPUs). ${fromSource ? 'Node and emulator run from source (tsx)' : 'Node and emulator run compiled (tsc, .bench-dist)'}; Kafka (single broker JVM) and DynamoDB Local co-located. Suite took ${took} s. JSON: \`bench/results/${file.split('/').pop()}\`.`,
    '',
  ];
  const text = [...header, ...md].join('\n');
  process.stdout.write(`\n${text}\n`);
  if (append) {
    const bm = join(root, 'BENCHMARKS.md');
    const existing = readFileSync(bm, 'utf8');
    if (!existing.includes('\n## Pipeline benchmarks')) appendFileSync(bm, '\n## Pipeline benchmarks\n\nRuns of `npm run bench` (bench/run.ts), newest last.\n');
    appendFileSync(bm, `\n${text}`);
    log('appended to BENCHMARKS.md');
  }
  log(`results: ${file}`);
  if (keepWork) log(`work dir kept: ${work}`);
  else rmSync(work, { recursive: true, force: true });
}


let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  for (const c of [...children]) await stopChild(c, 10_000).catch(() => undefined);
  if (infra?.state) {
    log('stopping Kafka + DynamoDB (infraDown)');
    await infraDown({ instance: infra.state.instance }).catch((err: unknown) => log(`infraDown: ${(err as Error).message}`));
  } else if (infra) {
    await dropRunData().catch((err: unknown) => log(`removing this run's topics, groups and table: ${(err as Error).message}`));
  }
}

/**
 * On servers the bench did not start (KAFKA_BROKERS and DYNAMODB_ENDPOINT), removes what this
 * run made: its topics, consumer groups and state table (every name carries the run id), so the
 * next run starts on the cluster this one found. (`--extra-topics` measures a fuller cluster on
 * purpose.)
 */
async function dropRunData(): Promise<void> {
  const kafka = new Kafka({ clientId: `${runId}-cleanup`, brokers: infra.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const mine = (await admin.listTopics()).filter((t) => t.includes(runId));
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.includes(runId));
    log(`removing this run's ${mine.length} topics and ${groups.length} consumer groups from the reused Kafka, and its state table`);
    if (groups.length) await admin.deleteGroups(groups).catch((err: unknown) => log(`deleting ${groups.length} consumer groups: ${(err as Error).message}`));
    for (let i = 0; i < mine.length; i += 250) await admin.deleteTopics({ topics: mine.slice(i, i + 250), timeout: 60_000 });
  } finally {
    await admin.disconnect();
  }
  const dynamo = createDynamoClient({ endpoint: infra.dynamo, region: 'us-east-1' });
  try {
    await dynamo.send(new DeleteTableCommand({ TableName: stateTable })).catch((err: unknown) => {
      if ((err as Error).name !== 'ResourceNotFoundException') throw err;
    });
  } finally {
    dynamo.destroy();
  }
}

process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
process.once('SIGTERM', () => void cleanup().then(() => process.exit(143)));
await main();
// Nothing of the run may linger (a client's retry timer, a keep-alive socket).
process.exit();
