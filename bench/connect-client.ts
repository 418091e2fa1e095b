// Connect client throughput: ~1 KB events from the emulator (a child process, so it does not share
// the client's event loop) over loopback, next to the raw limit of gunzip + split + JSON.parse.
// Also: the client over the same captured bytes without HTTP, and the emulator's own serve rate.
// Usage: npm run bench:connect [-- --events 100000 --runs 3 --gzip-level 0]; prints a markdown table.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { request } from 'undici';
import { readProc, startEmulatorChild } from './pipeline/proc.js';
import { ConnectClient, connectAccept, type ConnectTransport, type StreamItem } from '../src/connect/client/index.js';
import { benchCommand, parseIntIn } from './args.js';

const opts = benchCommand('bench:connect', 'the Connect client against its raw limits on the same bytes')
  .option('--events <n>', 'events per run', parseIntIn(1_000, 10_000_000), 100_000)
  .option('--runs <n>', 'runs', parseIntIn(1, 20), 3)
  .option('--gzip-level <n>', "the emulator's gzip level (0: stored blocks, no compression work)", parseIntIn(0, 9), 0)
  .parse()
  .opts<{ events: number; runs: number; gzipLevel: number }>();
const totalEvents = opts.events;
const runs = opts.runs;
// The emulator's gzip level. 0 by default: stored deflate blocks, still gzip framing, CRC and a
// flush per batch, but no compression work. The emulator shares this machine's 2 CPUs with the
// client, and at level 1 its one deflate stream serves ~150k events/s at most: below the raw
// limit, so the client would be measured against the emulator's ceiling, not its own. Real
// Connect compresses on Airship's machines. `--gzip-level 1` shows that case (BENCHMARKS.md).
const gzipLevel = opts.gzipLevel;
const eventBytes = 1024;
const appKey = 'bench';
const token = 'bench-token';

interface Sample {
  ms: number;
  events: number;
  bytes: number;
  /** CPU of this process and of the emulator during the pass, % of one core. */
  clientCpu?: number;
  emulatorCpu?: number;
}

/** Runs one pass and adds the CPU both processes used meanwhile (this one, and the emulator's /proc). */
async function measured(emulatorPid: number, pass: () => Promise<Sample>): Promise<Sample> {
  const cpu0 = process.cpuUsage();
  const emu0 = readProc(emulatorPid)?.cpuSec ?? 0;
  const s = await pass();
  const cpu = process.cpuUsage(cpu0);
  const emu = (readProc(emulatorPid)?.cpuSec ?? 0) - emu0;
  return { ...s, clientCpu: ((cpu.user + cpu.system) / 1000 / s.ms) * 100, emulatorCpu: ((emu * 1000) / s.ms) * 100 };
}

function startEmulator(dir: string): Promise<{ url: string; child: ChildProcess }> {
  return startEmulatorChild(dir, {
    gzipLevel,
    apps: [{ key: appKey, token, size: 'large', rate: 'max', eventBytes, eventTypes: ['CUSTOM'], totalEvents, retainEvents: totalEvents }],
  });
}

/**
 * The exact compressed body a client gets for the whole app (EARLIEST), kept in memory. It ends
 * with the chunk that completes the last event: a keep-alive sent a second later is not part of
 * it, or the emulator row below would wait for that keep-alive.
 */
async function captureBody(url: string): Promise<Buffer[]> {
  const body = Buffer.from(JSON.stringify({ start: 'EARLIEST' }));
  const ac = new AbortController();
  const res = await request(`${url}/api/events`, {
    method: 'POST',
    signal: ac.signal,
    headers: { authorization: `Bearer ${token}`, 'x-ua-appkey': appKey, accept: connectAccept, 'content-type': 'application/json', 'content-length': String(body.length) },
    body,
  });
  const parts: Buffer[] = [];
  const gunzip = createGunzip();
  // Count newlines on the side, only to know when the whole app has arrived (the stream never ends).
  let lines = 0;
  gunzip.on('data', (c: Buffer) => {
    for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) lines++;
  });
  for await (const chunk of res.body) {
    parts.push(chunk as Buffer);
    // The write callback runs once the chunk is inflated and its output emitted.
    await new Promise<void>((resolve, reject) => gunzip.write(chunk, (err) => (err ? reject(err) : resolve())));
    if (lines >= totalEvents) break;
  }
  ac.abort();
  gunzip.destroy();
  return parts;
}

/** The raw limit: the same bytes through createGunzip, an indexOf splitter and JSON.parse, in one process. */
async function rawPass(parts: Buffer[]): Promise<Sample> {
  const started = performance.now();
  const gunzip = createGunzip({ chunkSize: 64 * 1024 });
  Readable.from(parts, { objectMode: false }).pipe(gunzip);
  let events = 0;
  let bytes = 0;
  let tail: Buffer | undefined;
  for await (const c of gunzip as AsyncIterable<Buffer>) {
    const chunk = tail ? Buffer.concat([tail, c]) : c;
    let pos = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, pos)) {
      if (nl > pos) {
        const v = JSON.parse(chunk.toString('utf8', pos, nl)) as { offset: string };
        if (v.offset) events++;
        bytes += nl - pos + 1;
      }
      pos = nl + 1;
      if (events >= totalEvents) break;
    }
    tail = pos < chunk.length ? chunk.subarray(pos) : undefined;
    if (events >= totalEvents) break;
  }
  return { ms: performance.now() - started, events, bytes };
}

/** The client reading the emulator over HTTP (`batches()`; `perItem` uses `stream()`), or replaying captured bytes. */
async function clientPass(url: string, { perItem = false, replay }: { perItem?: boolean; replay?: Buffer[] } = {}): Promise<Sample> {
  const transport: ConnectTransport | undefined = replay && {
    open: async () => ({ kind: 'stream', gzip: true, body: Readable.from(replay, { objectMode: false }) }),
    close: async () => undefined,
  };
  const client = new ConnectClient({ baseUrl: url, allowAnyHost: true, appKey, token, start: 'EARLIEST' }, transport ? { transport } : {});
  const ac = new AbortController();
  const started = performance.now();
  let events = 0;
  let bytes = 0;
  const take = (item: StreamItem) => {
    if (item.kind === 'reconnecting') throw new Error(`unexpected reconnect: ${item.reason} ${item.error?.message ?? ''}`);
    if (item.kind !== 'event') return;
    events++;
    bytes += item.raw.length + 1;
    // What the source actor does per event: confirm (here at once; it would after the Kafka ack).
    client.confirm(item.offset);
    if (events >= totalEvents) ac.abort();
  };
  try {
    if (perItem) for await (const item of client.stream(ac.signal)) take(item);
    else for await (const batch of client.batches(ac.signal)) for (const item of batch) take(item);
  } finally {
    await client.close();
  }
  return { ms: performance.now() - started, events, bytes };
}

/** The emulator's serve rate: the HTTP body read and dropped, no gunzip (the ceiling of the HTTP rows). */
async function emulatorPass(url: string, compressedBytes: number, decompressedBytes: number): Promise<Sample> {
  const body = Buffer.from(JSON.stringify({ start: 'EARLIEST' }));
  const ac = new AbortController();
  const started = performance.now();
  const res = await request(`${url}/api/events`, {
    method: 'POST',
    signal: ac.signal,
    headers: { authorization: `Bearer ${token}`, 'x-ua-appkey': appKey, accept: connectAccept, 'content-length': String(body.length) },
    body,
  });
  let got = 0;
  for await (const chunk of res.body) {
    got += (chunk as Buffer).length;
    if (got >= compressedBytes) break;
  }
  ac.abort();
  return { ms: performance.now() - started, events: totalEvents, bytes: decompressedBytes };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const eps = (s: Sample) => (s.events / s.ms) * 1000;
const mbps = (s: Sample) => (s.bytes / 1024 / 1024 / s.ms) * 1000;

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    process.stderr.write('benchmark exceeded 2 minutes\n');
    process.exit(2);
  }, 120_000);
  const dir = mkdtempSync(join(tmpdir(), 'bench-connect-'));
  const { url, child } = await startEmulator(dir);
  try {
    // Warm-up: fills the emulator's log and line cache, and JITs both sides.
    await clientPass(url);
    const parts = await captureBody(url);
    const compressed = parts.reduce((n, p) => n + p.length, 0);
    const rows = { raw: [] as Sample[], replay: [] as Sample[], emulator: [] as Sample[], http: [] as Sample[], httpPerItem: [] as Sample[] };
    // One unmeasured round of every path first: each has its own code to optimise, on both sides.
    for (let i = -1; i < runs; i++) {
      const pid = child.pid!;
      const raw = await measured(pid, () => rawPass(parts));
      rows.raw.push(raw);
      rows.replay.push(await measured(pid, () => clientPass(url, { replay: parts })));
      rows.emulator.push(await measured(pid, () => emulatorPass(url, compressed, raw.bytes)));
      rows.http.push(await measured(pid, () => clientPass(url)));
      rows.httpPerItem.push(await measured(pid, () => clientPass(url, { perItem: true })));
      if (i < 0) for (const xs of Object.values(rows)) xs.length = 0;
    }
    const rawEps = median(rows.raw.map(eps));
    const row = (name: string, xs: Sample[]) =>
      `| ${name} | ${Math.round(median(xs.map(eps))).toLocaleString('en')} | ${median(xs.map(mbps)).toFixed(1)} | ${((median(xs.map(eps)) / rawEps) * 100).toFixed(0)} % | ${xs.map((x) => Math.round(eps(x))).join(', ')} | ${Math.round(median(xs.map((x) => x.clientCpu ?? 0)))} % / ${Math.round(median(xs.map((x) => x.emulatorCpu ?? 0)))} % |`;
    const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
    const avgLine = rows.raw[0]!.bytes / rows.raw[0]!.events;
    process.stdout.write(
      [
        `Connect client benchmark: ${totalEvents} events of ~${Math.round(avgLine)} B (${(compressed / 1024 / 1024).toFixed(1)} MB gzip), median of ${runs} runs`,
        `machine: ${cpus().length} CPUs, ${cpu}, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; emulator in a child process (gzip level ${gzipLevel}), loopback`,
        '',
        '| path | events/s | MB/s (decompressed) | vs raw | runs (events/s) | CPU client / emulator (median, % of a core) |',
        '|---|---:|---:|---:|---|---:|',
        row('raw limit: gunzip + split + JSON.parse of the captured bytes, in-process', rows.raw),
        row('ConnectClient.batches() over the same captured bytes (no HTTP)', rows.replay),
        row('emulator serve rate: HTTP body read and dropped (ceiling of the rows below)', rows.emulator),
        row('ConnectClient.batches() over HTTP from the emulator', rows.http),
        row('ConnectClient.stream() (per item) over HTTP from the emulator', rows.httpPerItem),
        '',
      ].join('\n'),
    );
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    clearTimeout(deadline);
  }
}

await main();
