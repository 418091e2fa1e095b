// What encoding a produce request of packed records costs, before and after the encoder fixes of
// src/kafka/kafkajs-encoder.ts (arenas, adopting, presized arrays, no first buffer). "Before" is
// kafkajs's own writes and arrays with the earlier growth fix (allocUnsafe to the next power of
// two); "after" is what applyKafkajsFixes installs; "after, 512" is that with kafkajs's own first
// buffer (512 zeroed bytes per encoder). The requests are scenario 1's by default: 500 ~1 KB
// events each, packed per partition over 6 partitions, as the source writes them (`--request-events`
// makes them smaller: a source at a few thousand events a second flushes its batch at its linger,
// ~100–250 events); encoded by kafkajs's own produce v3 and request modules, as a broker
// connection would send them. No broker needed. Rounds rotate, so a change in the machine's load
// falls on each.
// Usage: npm run bench:kafkajs-encode [-- --events 60000 --rounds 4 --request-events 500]; prints a markdown table.
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Message } from 'kafkajs';
import { envelopeOf, type ConnectEvent } from '../src/connect/event.js';
import { createEventGenerator } from '../src/connect/emulator/event-generator.js';
import type { EncoderLike } from '../src/kafka/kafkajs-encoder.js';
import { applyKafkajsFixes, kafkajsEncoder } from '../src/kafka/kafkajs-fixes.js';
import { toPackMessages } from '../src/pipeline/event-record.js';
import { benchCommand, parseIntIn } from './args.js';

const o = benchCommand('bench:kafkajs-encode', 'the CPU of encoding produce requests of packed records, before and after the encoder fixes')
  .option('--events <n>', 'events per round (~1 KB each), 500 per request', parseIntIn(1_000, 10_000_000), 60_000)
  .option('--rounds <n>', 'rounds of each way, alternating', parseIntIn(1, 20), 4)
  .option('--request-events <n>', 'events per produce request, packed over 6 partitions', parseIntIn(6, 10_000), 500)
  .parse()
  .opts<{ events: number; rounds: number; requestEvents: number }>();

const require = createRequire(import.meta.url);
const log = (msg: string) => process.stderr.write(`[kafkajs-encode] ${msg}\n`);

type Methods = Pick<EncoderLike, 'ensureAvailable' | 'writeBufferInternal' | 'writeArray'> & { firstBuffer: (n: number) => number };
const encoderClass = kafkajsEncoder();
const proto = encoderClass.prototype as unknown as Methods;
const pick = (): Methods => ({ ensureAvailable: proto.ensureAvailable, writeBufferInternal: proto.writeBufferInternal, writeArray: proto.writeArray, firstBuffer: encoderClass.nextPowerOfTwo });
const install = ({ firstBuffer, ...methods }: Methods): void => {
  Object.assign(proto, methods);
  encoderClass.nextPowerOfTwo = firstBuffer;
};
const pristine = pick();
applyKafkajsFixes();
const fixed = pick();
const fixed512: Methods = { ...fixed, firstBuffer: pristine.firstBuffer };
const nextPowerOfTwo = (n: number): number => 1 << (32 - Math.clz32(n));
const before: Methods = {
  ...pristine,
  ensureAvailable(this: EncoderLike, length: number) {
    if (this.offset + length <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(nextPowerOfTwo(this.offset + length));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  },
};

type ProduceV3 = (o: object) => { encode(): Promise<unknown> };
const produceV3 = require('kafkajs/src/protocol/requests/produce/v3/request.js') as ProduceV3;
const createRequest = require('kafkajs/src/protocol/request.js') as (o: object) => Promise<{ buffer: Buffer }>;

const gen = createEventGenerator({ seed: 42, size: 'large', eventBytes: 1_000 });
const lines = Array.from({ length: o.events }, (_, i) => Buffer.from(JSON.stringify(gen.next({ offset: String(10_000 + i), processedMs: Date.now() + i }))));
const envelopes = lines.map((l, i) => ({ ...envelopeOf(JSON.parse(l.toString()) as ConnectEvent), channel: `device-${i % 997}` }));

/** The round's requests, packed afresh (a pack's buffer is encoded once, as in the node). */
function requests(): { partition: number; firstSequence: number; messages: Message[] }[][] {
  const out = [];
  for (let i = 0; i < lines.length; i += o.requestEvents) {
    const items = lines.slice(i, i + o.requestEvents).map((raw, k) => ({ event: envelopes[i + k]!, raw }));
    const byPartition = new Map<number, Message[]>();
    for (const m of toPackMessages(items, { integrationId: 'bench', correlationId: `c${i}`, ingestedAt: new Date().toISOString() }, 6, { maxEvents: 500, maxBytes: 512 * 1024 })) {
      const list = byPartition.get(m.partition!) ?? [];
      list.push(m);
      byPartition.set(m.partition!, list);
    }
    out.push([...byPartition].map(([partition, messages]) => ({ partition, firstSequence: 0, messages })));
  }
  return out;
}

async function round(methods: Methods): Promise<{ cpuUs: number; wallUs: number; bytes: number }> {
  install(methods);
  const reqs = requests();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let bytes = 0;
  for (const partitions of reqs) {
    const request = produceV3({ acks: -1, timeout: 30_000, compression: 0, transactionalId: null, producerId: 7, producerEpoch: 0, topicData: [{ topic: 'tributary.events.bench', partitions }] });
    bytes += (await createRequest({ correlationId: 1, clientId: 'tributary', request: { apiKey: 0, apiVersion: 3, encode: request.encode } })).buffer.length;
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { cpuUs: (cpu.user + cpu.system) / o.events, wallUs: (wall * 1000) / o.events, bytes };
}

log(`${o.events.toLocaleString('en')} events of ~${Math.round(lines.reduce((n, l) => n + l.length, 0) / o.events)} B, ${o.rounds} rounds`);
const ways: ['before' | 'after, 512' | 'after', Methods][] = [
  ['before', before],
  ['after, 512', fixed512],
  ['after', fixed],
];
for (const [, m] of ways) await round(m);
const rows: string[] = [];
for (let r = 1; r <= o.rounds; r++) {
  const order = [...ways.slice(r % ways.length), ...ways.slice(0, r % ways.length)];
  const got = new Set<number>();
  for (const [name, m] of order) {
    const x = await round(m);
    got.add(x.bytes);
    rows.push(`| ${r} | ${name} | ${x.cpuUs.toFixed(2)} | ${x.wallUs.toFixed(2)} |`);
  }
  if (got.size !== 1) throw new Error(`round ${r}: the ways encoded different byte counts (${[...got].join(', ')})`);
  log(`round ${r} of ${o.rounds} done`);
}
install(fixed);
console.log(
  [
    `${cpus().length} CPUs (${cpus()[0]?.model.trim()}), load ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${o.events.toLocaleString('en')} events per round, requests of ${o.requestEvents} packed over 6 partitions`,
    '',
    '| round | encoder | process CPU µs/event (GC threads included) | wall µs/event |',
    '|---|---|---:|---:|',
    ...rows,
  ].join('\n'),
);
