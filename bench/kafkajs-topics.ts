// What one send costs a producer that has written to many topics, with kafkajs as released and with
// src/kafka/kafkajs-fixes.ts fix 3 applied, in the same process against the same broker: the node's
// one producer writes every integration's topic, so at 1,000 integrations it knows 1,000 topics.
// Needs a broker: `node bin/tributary.js infra up` and its KAFKA_BROKERS.
// Usage: npm run bench:kafkajs-topics [-- --topics 1000 --sends 300]; prints a markdown table.
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
// kafkajs itself, not src/kafka/kafka.ts (which applies the fixes when it loads): the first pass
// measures kafkajs as released.
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { applyKafkajsFixes } from '../src/kafka/kafkajs-fixes.js';
import { benchCommand, parseIntIn } from './args.js';

const { topics: topicCount, sends } = benchCommand('bench:kafkajs-topics', "a send's cost on a producer that knows many topics")
  .option('--topics <n>', 'topics the producer knows', parseIntIn(1, 100_000), 1_000)
  .option('--sends <n>', 'sends measured', parseIntIn(1, 1_000_000), 300)
  .parse()
  .opts<{ topics: number; sends: number }>();
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
if (brokers.length === 0) throw new Error('KAFKA_BROKERS is not set: start a broker with `node bin/tributary.js infra up` and export what it prints');

const log = (msg: string) => process.stderr.write(`[kafkajs-topics] ${msg}\n`);
const run = randomUUID().slice(0, 8);
const topics = Array.from({ length: topicCount }, (_, i) => `bench-kt-${run}-${i}`);
const kafka = new Kafka({ clientId: 'bench-kafkajs-topics', brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();

/** CPU ms and wall ms per send of one small record to one of the known topics, sends in sequence. */
async function perSend(producer: Producer): Promise<{ cpuMs: number; wallMs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < sends; i++) await producer.send({ topic: topics[i % topics.length]!, acks: -1, messages: [{ value: 'x' }] });
  const cpu = process.cpuUsage(cpu0);
  return { cpuMs: (cpu.user + cpu.system) / 1000 / sends, wallMs: (performance.now() - t0) / sends };
}

async function main(): Promise<void> {
  await admin.connect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  try {
    log(`creating ${topicCount} topics`);
    for (let i = 0; i < topics.length; i += 200) {
      await admin.createTopics({ topics: topics.slice(i, i + 200).map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: false });
    }
    await producer.connect();
    log(`the producer writes to each topic once (it then knows all ${topicCount})`);
    for (let i = 0; i < topics.length; i += 100) {
      await producer.sendBatch({ acks: -1, topicMessages: topics.slice(i, i + 100).map((topic) => ({ topic, messages: [{ value: 'warm' }] })) });
    }
    await perSend(producer); // warm-up: JIT, connections
    log(`${sends} sends with kafkajs as released`);
    const before = await perSend(producer);
    applyKafkajsFixes();
    await perSend(producer);
    log(`${sends} sends with the fixes`);
    const after = await perSend(producer);
    const r = (x: number) => Math.round(x * 1000) / 1000;
    console.log(`Machine: ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; broker ${brokers.join(',')} on this machine; ${topicCount} topics known to the producer, ${sends} sends of one record in sequence (acks=all, idempotent).`);
    console.log('');
    console.log('| kafkajs | CPU per send (ms) | wall per send (ms) |');
    console.log('|---|---:|---:|');
    console.log(`| as released (2.2.4) | ${r(before.cpuMs)} | ${r(before.wallMs)} |`);
    console.log(`| with src/kafka/kafkajs-fixes.ts | ${r(after.cpuMs)} | ${r(after.wallMs)} |`);
    console.log(`| ratio | ${r(before.cpuMs / after.cpuMs)}× | ${r(before.wallMs / after.wallMs)}× |`);
  } finally {
    await producer.disconnect().catch(() => undefined);
    log('deleting the topics');
    for (let i = 0; i < topics.length; i += 200) await admin.deleteTopics({ topics: topics.slice(i, i + 200) }).catch(() => undefined);
    await admin.disconnect();
  }
}

await main();
