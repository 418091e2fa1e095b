// What a state flush costs the node in CPU (the AWS SDK's share, not DynamoDB's), against
// DynamoDB Local: a flush with a checkpoint and its counters as two calls (the state writer before
// 2026-12-05) and as one (now), and a counters-only flush (a sink's).
// Needs DynamoDB: `node bin/tributary.js infra up` and its DYNAMODB_ENDPOINT.
// Usage: npm run bench:state-writes [-- --writes 2000]; prints a markdown table.
import { cpus, loadavg } from 'node:os';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StateStore } from '../src/state/state-store.js';
import { benchCommand, parseIntIn } from './args.js';

const { writes } = benchCommand('bench:state-writes', 'state-table writes per flush, old and new')
  .option('--writes <n>', 'writes', parseIntIn(1, 1_000_000), 2_000)
  .parse()
  .opts<{ writes: number }>();
const endpoint = process.env.DYNAMODB_ENDPOINT;
if (!endpoint) throw new Error('DYNAMODB_ENDPOINT is not set: start DynamoDB Local with `node bin/tributary.js infra up` and export what it prints');

const log = (msg: string) => process.stderr.write(`[state-writes] ${msg}\n`);
const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const store = new StateStore(client, `bench-state-writes-${Date.now().toString(36)}`);

/** CPU ms per flush over `writes` flushes in sequence (`flush(i)` does one flush's calls). */
async function perFlush(flush: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 200; i++) await flush(i); // JIT and connections
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < writes; i++) await flush(i);
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000 / writes;
}

async function main(): Promise<void> {
  await store.ensureTable();
  try {
    const { epoch } = await store.claim('bench', 'bench-node', { appKey: 'bench', tier: 'small', sinkType: 'webhook' });
    let offset = 0;
    const progress = { counters: { read: 1, produced: 1 }, sourceLagMs: 5 };
    const twoCalls = async () => {
      await store.advanceCheckpoint('bench', epoch, String(++offset));
      await store.update('bench', { epoch, ...progress });
    };
    const oneCall = () => store.advanceCheckpoint('bench', epoch, String(++offset), progress);
    const sinkFlush = () => store.update('bench', { epoch, counters: { delivered: 1 }, consumerLag: 0 });
    // Each kind twice, interleaved; the second round is reported (the first one warms the JIT for all).
    log(`${writes} flushes of each kind, two rounds`);
    for (const f of [twoCalls, oneCall, sinkFlush]) await perFlush(f);
    const two = await perFlush(twoCalls);
    const one = await perFlush(oneCall);
    const countersOnly = await perFlush(sinkFlush);
    const r = (x: number) => Math.round(x * 1000) / 1000;
    console.log(`Machine: ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; DynamoDB Local on this machine (its CPU is not counted); ${writes} flushes of each kind in sequence, the second of two interleaved rounds.`);
    console.log('');
    console.log('| flush | DynamoDB calls | node CPU per flush (ms) |');
    console.log('|---|---:|---:|');
    console.log(`| checkpoint, then counters and lag (before) | 2 | ${r(two)} |`);
    console.log(`| checkpoint with counters and lag (now) | 1 | ${r(one)} |`);
    console.log(`| counters and lag only (a sink's flush) | 1 | ${r(countersOnly)} |`);
  } finally {
    await client.send(new DeleteTableCommand({ TableName: store.table })).catch(() => undefined);
    client.destroy();
  }
}

await main();
