// The benchmark suite's short subset (BENCHMARKS.md): `bench/run.ts` runs scenarios 1–4 at small
// sizes against the suite's Kafka and DynamoDB, with the node and emulator as separate processes,
// as `npm run bench` does. It checks that every scenario ran to completion and measured what it
// reports; speed is never asserted here (numbers on shared machines are for BENCHMARKS.md, as
// ratios). Scenario 5 needs the Redpanda Connect binary (`bench/redpanda-connect/build.sh`,
// minutes of Go build) and runs only in the full suite.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface PipelineResult {
  events: number;
  eventsPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  complete: boolean;
}
interface ProcSummary {
  peakRssMiB: number;
  avgCpuPct: number;
}
interface Results {
  failures: string[];
  results: {
    brokerWarmup?: { seconds: number; rounds: { seconds: number; jitPctOfCore: number; produceEventsPerSec: number; consumeEventsPerSec: number }[] };
    s1?: {
      pipeline: PipelineResult;
      procs: Record<string, ProcSummary>;
      legs: Record<string, { events: number; eventsPerSec: number; cpuUsPerEvent: number }>;
      slowestLeg: string;
      fractionOfSlowest: number;
      cpuUsPerEvent: Record<string, number>;
      allCpuUsPerEvent: number;
      machineBoundEventsPerSec: number;
      brokerJitUsPerEvent: number;
    };
    s2?: { pipeline: PipelineResult };
    s3?: { integrations: number; runningAtDeadline: number; allRunningSec: number; busyAlone: PipelineResult & { drainEventsPerSec: number }; busyInCrowd: PipelineResult & { drainEventsPerSec: number }; busyVsAlone: number; bursts: { alone: number[]; crowd: number[] }; extraTopics: number; idle?: { nodeCpuPct: number } };
    s4?: { target: number; inKafka: number; drain: PipelineResult; fillProcs: Record<string, ProcSummary> };
  };
}

const s1Events = 5_000;
const tenants = 20;
const busyEvents = 500;
const backlog = 20_000;

test('bench smoke: scenarios 1–4 run end to end at small sizes and report every measure', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-smoke-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const args = [
    '--import', 'tsx', 'bench/run.ts', '--quick', '--from-source', '--results-dir', dir,
    '--only', 's1,s2,s3,s4', '--events', String(s1Events), '--tenants', String(tenants), '--busy-events', String(busyEvents), '--backlog', String(backlog), '--idle-sec', '5', '--extra-topics', '40',
    // One round of the broker warm-up (the full suite's is 30 s).
    '--broker-warmup', '1',
    // Two bursts a phase in scenario 3 (its phases take their fastest).
    '--s3-bursts', '2',
  ];
  const out: string[] = [];
  // KAFKA_BROKERS and DYNAMODB_ENDPOINT come from test/run.ts: the bench uses this run's servers.
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  child.stdout.on('data', (b: Buffer) => out.push(b.toString()));
  child.stderr.on('data', (b: Buffer) => out.push(b.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  const progress = out.join('').split('\n').filter((l) => l.startsWith('[bench'));
  t.is(code, 0, `bench exited ${code}:\n${out.join('').slice(-3000)}`);

  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  t.is(files.length, 1, 'one results file in --results-dir');
  const r = JSON.parse(readFileSync(join(dir, files[0]!), 'utf8')) as Results;
  t.deepEqual(r.failures, []);

  const { brokerWarmup, s1, s2, s3, s4 } = r.results;
  // The broker warm-up ran the kafka leg before the scenarios, and its JIT was read.
  t.true((brokerWarmup?.rounds.length ?? 0) >= 1, 'broker warm-up rounds');
  for (const round of brokerWarmup?.rounds ?? []) t.true(round.produceEventsPerSec > 0 && round.consumeEventsPerSec > 0 && round.jitPctOfCore >= 0);
  // Scenario 1: every event delivered, the three legs measured on the same bytes, the node sampled.
  t.truthy(s1);
  t.true(s1!.pipeline.complete);
  t.is(s1!.pipeline.events, s1Events);
  for (const leg of ['parse', 'kafkaProduce', 'kafkaConsume', 'http']) t.true((s1!.legs[leg]?.eventsPerSec ?? 0) > 0, `leg ${leg} measured`);
  t.true(s1!.fractionOfSlowest > 0);
  for (const p of ['node', 'emulator', 'receiver', 'kafka']) t.true((s1!.procs[p]?.peakRssMiB ?? 0) > 0, `${p} sampled`);
  // The machine's bound: every process's CPU per event, summed, against the CPUs.
  t.true((s1!.cpuUsPerEvent['node'] ?? 0) > 0, 'the node\'s CPU per event');
  t.true(s1!.allCpuUsPerEvent >= (s1!.cpuUsPerEvent['node'] ?? 0));
  t.true(s1!.machineBoundEventsPerSec > 0);
  t.true(s1!.brokerJitUsPerEvent >= 0, "the broker's JIT in the window");
  for (const leg of ['parse', 'kafkaProduce', 'kafkaConsume', 'http']) t.true((s1!.legs[leg]?.cpuUsPerEvent ?? -1) >= 0, `leg ${leg} CPU`);
  // Scenario 2: a paced stream with its latency percentiles.
  t.truthy(s2);
  t.true(s2!.pipeline.complete);
  t.true(s2!.pipeline.events > 0 && s2!.pipeline.p99Ms !== null);
  // Scenario 3: every integration started; the busy apps' bursts delivered alone and in the crowd.
  t.truthy(s3);
  t.is(s3!.runningAtDeadline, tenants);
  t.is(s3!.extraTopics, 40);
  t.true(s3!.busyAlone.complete && s3!.busyInCrowd.complete);
  t.true(s3!.busyVsAlone > 0);
  t.is(s3!.bursts.alone.length, 2, 'two bursts alone');
  t.is(s3!.bursts.crowd.length, 2, 'two bursts in the crowd');
  t.is(s3!.busyAlone.drainEventsPerSec, Math.max(...s3!.bursts.alone), 'alone: the fastest burst counts');
  t.is(s3!.busyInCrowd.drainEventsPerSec, Math.max(...s3!.bursts.crowd), 'in the crowd: the fastest burst counts');
  // Scenario 4: the backlog waited in Kafka while the receiver was down, then drained completely.
  t.truthy(s4);
  t.is(s4!.inKafka, backlog);
  t.true(s4!.drain.complete);
  t.is(s4!.drain.events, backlog);

  t.log(progress.filter((l) => /events\/s|drained|all running|idle/.test(l)).join('\n'));
});
