// What one poll of the parked sinks' offset watcher costs the node and the broker, with the
// topics' leaders kept between polls (the default) and asked every poll (`metadataMaxAgeMs: 0`,
// what the watcher did before 2026-12-05). Rounds of the two alternate, so a change in the
// machine's load falls on both. Needs a broker on this machine: `node bin/tributary.js infra up`
// and its KAFKA_BROKERS (the broker's CPU is read from /proc through the pid listening on its port).
// Usage: npm run bench:offset-watcher [-- --topics 1000 --polls 200 --rounds 2]; prints a markdown table.
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { Kafka, logLevel } from 'kafkajs';
import { ensureTopic } from '../src/kafka/kafka.js';
import { OffsetWatcher } from '../src/kafka/offset-watcher.js';
import { createLogger } from '../src/observability/logger.js';
import { benchCommand, parseIntIn } from './args.js';
import { kafkaPidFromPort, readProc } from './pipeline/proc.js';

const o = benchCommand('bench:offset-watcher', "one offset-watcher poll's CPU, node and broker, with and without cached leaders")
  .option('--topics <n>', 'parked topics watched', parseIntIn(1, 20_000), 1_000)
  .option('--polls <n>', 'polls measured per round', parseIntIn(1, 100_000), 200)
  .option('--rounds <n>', 'rounds of each mode, alternating', parseIntIn(1, 20), 2)
  .parse()
  .opts<{ topics: number; polls: number; rounds: number }>();
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
if (brokers.length === 0) throw new Error('KAFKA_BROKERS is not set: start a broker with `node bin/tributary.js infra up` and export what it prints');
const brokerPid = kafkaPidFromPort(brokers[0]!);

const log = (msg: string) => process.stderr.write(`[offset-watcher] ${msg}\n`);
const run = randomUUID().slice(0, 8);
const topics = Array.from({ length: o.topics }, (_, i) => `bench-ow-${run}-${i}`);
const kafka = new Kafka({ clientId: 'bench-offset-watcher', brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
const logger = createLogger({ level: 'warn' });

interface Cost {
  nodeMs: number;
  brokerMs: number | undefined;
  wallMs: number;
}

/** CPU and wall time per poll of a watcher watching every topic, after 20 warm-up polls. */
async function perPoll(metadataMaxAgeMs: number): Promise<Cost> {
  const watcher = new OffsetWatcher({ kafka, logger, pollMs: 3_600_000, metadataMaxAgeMs });
  const woken: string[] = [];
  const watch = (topic: string) => watcher.watch(topic, new Map([[0, 0n]]), { wake: (reason) => woken.push(`${topic}: ${reason}`) });
  for (const topic of topics) watch(topic);
  try {
    // Warm-up until a poll wakes nobody: a topic created moments ago can still answer without a
    // leader for a while (its sink would be woken); it is watched again until it answers.
    for (let i = 0; i < 20 || woken.length > 0; i++) {
      if (i >= 200) throw new Error(`topics still not readable after ${i} polls: ${woken.slice(0, 3).join('; ')}`);
      for (const w of woken.splice(0)) watch(w.slice(0, w.indexOf(':')));
      await watcher.poll();
    }
    const cpu0 = process.cpuUsage();
    const broker0 = brokerPid === undefined ? undefined : readProc(brokerPid)?.cpuSec;
    const t0 = performance.now();
    for (let i = 0; i < o.polls; i++) await watcher.poll();
    const wallMs = (performance.now() - t0) / o.polls;
    const cpu = process.cpuUsage(cpu0);
    const broker1 = brokerPid === undefined ? undefined : readProc(brokerPid)?.cpuSec;
    if (woken.length > 0) throw new Error(`${woken.length} watches woke while measured (${woken[0]}): the topics should not change during the bench`);
    return { nodeMs: (cpu.user + cpu.system) / 1000 / o.polls, brokerMs: broker0 === undefined || broker1 === undefined ? undefined : ((broker1 - broker0) * 1000) / o.polls, wallMs };
  } finally {
    await watcher.stop();
  }
}

async function main(): Promise<void> {
  await admin.connect();
  try {
    log(`creating ${o.topics} topics`);
    // As a node creates them: shared CreateTopics requests, then each topic's leader awaited.
    await Promise.all(topics.map((topic) => ensureTopic(admin, { topic, partitions: 1 })));
    const rows: string[] = [];
    const f = (x: number | undefined) => (x === undefined ? '?' : x.toFixed(2));
    for (let r = 1; r <= o.rounds; r++) {
      for (const [mode, age] of [['leaders asked every poll (before)', 0], ['leaders kept 30 s (default)', 30_000]] as const) {
        log(`round ${r}: ${mode}, ${o.polls} polls`);
        const c = await perPoll(age);
        rows.push(`| ${r} | ${mode} | ${f(c.nodeMs)} | ${f(c.brokerMs)} | ${f(c.wallMs)} |`);
      }
    }
    console.log(`Machine: ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; broker ${brokers.join(',')} (pid ${brokerPid ?? '?'}) on this machine; ${o.topics} watched topics of 1 partition, ${o.polls} polls per round.`);
    console.log('');
    console.log('| round | watcher | node CPU per poll (ms) | broker CPU per poll (ms) | wall per poll (ms) |');
    console.log('|---|---|---:|---:|---:|');
    for (const row of rows) console.log(row);
  } finally {
    log('deleting the topics');
    for (let i = 0; i < topics.length; i += 200) await admin.deleteTopics({ topics: topics.slice(i, i + 200) }).catch(() => undefined);
    await admin.disconnect();
  }
}

await main();
