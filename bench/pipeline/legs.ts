// The limits of each leg of the pipeline on this machine, measured in the orchestrator's process
// with the same bytes the pipeline carries: (a) gunzip + split + JSON.parse of the emulator's
// gzip stream, (b) kafkajs raw produce (idempotent, acks=-1, batches of 500) and consume (a
// consumer group reading them back), (c) undici POSTs of the same 500-event NDJSON batches.
import { Readable } from 'node:stream';
import { constants, createGunzip, gunzipSync } from 'node:zlib';
import { Kafka, logLevel, type Message } from 'kafkajs';
import { envelopeOf, type ConnectEvent } from '../../src/connect/event.js';
import { applyKafkajsFixes } from '../../src/kafka/kafkajs-fixes.js';
import { eventsOf, toPackMessages } from '../../src/pipeline/event-record.js';
import { Pool, request } from 'undici';

export interface LegResult {
  events: number;
  bytes: number;
  ms: number;
  eventsPerSec: number;
  mbPerSec: number;
  /** CPU of the process running the leg (the client side: not the broker's or the receiver's), µs per event. */
  cpuUsPerEvent: number;
  note?: string;
}

/** `cpu`: process.cpuUsage() at the leg's start. */
const result = (events: number, bytes: number, ms: number, cpu: NodeJS.CpuUsage, note?: string): LegResult => {
  const used = process.cpuUsage(cpu);
  return {
    events,
    bytes,
    ms: Math.round(ms),
    eventsPerSec: Math.round((events / ms) * 1000),
    mbPerSec: Math.round((bytes / 1048576 / ms) * 1000 * 10) / 10,
    cpuUsPerEvent: Math.round(((used.user + used.system) / Math.max(1, events)) * 10) / 10,
    ...(note ? { note } : {}),
  };
};

const connectAccept = 'application/vnd.urbanairship+x-ndjson; version=3;';

/** The exact compressed body the emulator serves for `events` events of `appKey` (EARLIEST). */
export async function captureBody(eventsUrl: string, appKey: string, token: string, events: number): Promise<Buffer[]> {
  const body = Buffer.from(JSON.stringify({ start: 'EARLIEST' }));
  const ac = new AbortController();
  const res = await request(eventsUrl, {
    method: 'POST',
    signal: ac.signal,
    headers: { authorization: `Bearer ${token}`, 'x-ua-appkey': appKey, accept: connectAccept, 'content-type': 'application/json', 'content-length': String(body.length) },
    body,
  });
  const parts: Buffer[] = [];
  const gunzip = createGunzip();
  let lines = 0;
  gunzip.on('data', (c: Buffer) => {
    for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) lines++;
  });
  for await (const chunk of res.body) {
    parts.push(chunk as Buffer);
    gunzip.write(chunk);
    await new Promise((r) => setImmediate(r));
    if (lines >= events) break;
  }
  ac.abort();
  gunzip.destroy();
  return parts;
}

/** The decompressed NDJSON lines (without LF) of a captured, unterminated gzip stream. */
export function linesOf(parts: Buffer[], max: number): Buffer[] {
  const text = gunzipSync(Buffer.concat(parts), { finishFlush: constants.Z_SYNC_FLUSH });
  const out: Buffer[] = [];
  let pos = 0;
  for (let nl = text.indexOf(10); nl !== -1 && out.length < max; nl = text.indexOf(10, pos)) {
    if (nl > pos) out.push(text.subarray(pos, nl));
    pos = nl + 1;
  }
  return out;
}

/** (a) createGunzip + indexOf split + JSON.parse, in-process (as bench/connect-client.ts does). */
export async function legParse(parts: Buffer[], events: number): Promise<LegResult> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const gunzip = createGunzip({ chunkSize: 64 * 1024 });
  Readable.from(parts, { objectMode: false }).pipe(gunzip);
  let n = 0;
  let bytes = 0;
  let tail: Buffer | undefined;
  for await (const c of gunzip as AsyncIterable<Buffer>) {
    const chunk = tail ? Buffer.concat([tail, c]) : c;
    let pos = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, pos)) {
      if (nl > pos) {
        const v = JSON.parse(chunk.toString('utf8', pos, nl)) as { offset?: string };
        if (v.offset) n++;
        bytes += nl - pos + 1;
      }
      pos = nl + 1;
      if (n >= events) break;
    }
    tail = pos < chunk.length ? chunk.subarray(pos) : undefined;
    if (n >= events) break;
  }
  gunzip.destroy();
  return result(n, bytes, performance.now() - started, cpu);
}

/**
 * (b) kafkajs produce then consume of the same records: 6 partitions like a large integration.
 * `packed`: the records the source writes with flag `source.packRecords` — each 500-event request
 * packed per partition (packs of ≤ 500 events, ≤ 512 KiB) — counted in events, decoded when consumed.
 */
export async function legKafka(brokers: string[], lines: Buffer[], topic: string, packed = false): Promise<{ produce: LegResult; consume: LegResult }> {
  // kafkajs as the node runs it: with its fixes (native CRC32C among them), so the leg is the limit the node could reach.
  applyKafkajsFixes();
  const kafka = new Kafka({ clientId: 'bench-raw', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 6, replicationFactor: 1 }] });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const bytes = lines.reduce((n, l) => n + l.length, 0);
  // Keys like the source's (one per device channel): spread over the partitions.
  const requests: Message[][] = [];
  for (let i = 0; i < lines.length; i += 500) {
    const slice = lines.slice(i, i + 500);
    if (!packed) requests.push(slice.map((value, k) => ({ key: `device-${(i + k) % 997}`, value })));
    else {
      const items = slice.map((raw, k) => ({ event: { ...envelopeOf(JSON.parse(raw.toString()) as ConnectEvent), channel: `device-${(i + k) % 997}` }, raw }));
      requests.push(toPackMessages(items, { integrationId: 'bench', correlationId: `c${i}`, ingestedAt: new Date().toISOString() }, 6, { maxEvents: 500, maxBytes: 512 * 1024 }));
    }
  }
  const pcpu = process.cpuUsage();
  const p0 = performance.now();
  for (const messages of requests) await producer.send({ topic, acks: -1, messages });
  const produce = result(lines.length, bytes, performance.now() - p0, pcpu, `idempotent, acks=-1, one request of 500 events in flight${packed ? ', packed' : ''}`);
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `${topic}.reader`, maxBytes: 10 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let n = 0;
  let cbytes = 0;
  let first = 0;
  let ccpu = process.cpuUsage();
  const c0 = performance.now();
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        if (first === 0) {
          first = performance.now();
          ccpu = process.cpuUsage();
        }
        for (const m of batch.messages) {
          if (packed) {
            const events = eventsOf('bench', batch.partition, m);
            n += events.length;
            for (const e of events) cbytes += e.value.length;
          } else {
            n += 1;
            cbytes += m.value?.length ?? 0;
          }
        }
        if (n >= lines.length) resolve(performance.now());
      },
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const end = await Promise.race([done, new Promise<number>((r) => (timer = setTimeout(() => r(performance.now()), 120_000)))]);
  clearTimeout(timer);
  const consume = result(n, cbytes, end - first, ccpu, `group join excluded (${Math.round(first - c0)} ms)`);
  await consumer.disconnect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  return { produce, consume };
}

/** (c) undici POSTs of 500-event NDJSON bodies to the receiver, 4 connections (the webhook sink's default). */
export async function legHttp(url: string, lines: Buffer[], connections = 4): Promise<LegResult> {
  const bodies: Buffer[] = [];
  for (let i = 0; i < lines.length; i += 500) {
    const batch = lines.slice(i, i + 500);
    bodies.push(Buffer.concat(batch.flatMap((l) => [l, Buffer.from('\n')])));
  }
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections, pipelining: 1 });
  const cpu = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  let events = 0;
  let bytes = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const i = next++;
      const body = bodies[i]!;
      const res = await pool.request({ path: u.pathname, method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' } });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`receiver answered ${res.statusCode}`);
      events += Math.min(500, lines.length - i * 500);
      bytes += body.length;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const ms = performance.now() - started;
  await pool.close();
  return result(events, bytes, ms, cpu, `${connections} connections, batches of 500`);
}
