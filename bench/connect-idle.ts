// What idle Connect streams cost the process reading them: N ConnectClients, each on an app with
// no events, reading the keep-alive line the emulator (a child process) sends every second, as the
// 1,000 sources of scenario 3 do. Rounds of the same run show the spread.
//   npm run bench:connect-idle [-- --streams 1000 --seconds 30 --rounds 3]
import type { ChildProcess } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchCommand, parseIntIn } from './args.js';
import { readProc, startEmulatorChild } from './pipeline/proc.js';
import { ConnectClient } from '../src/connect/client/index.js';

const { streams, seconds, rounds } = benchCommand('bench:connect-idle', 'CPU of N idle Connect streams reading keep-alives')
  .option('--streams <n>', 'idle streams', parseIntIn(1, 5_000), 1_000)
  .option('--seconds <n>', 'length of each measured round', parseIntIn(5, 600), 30)
  .option('--rounds <n>', 'rounds', parseIntIn(1, 10), 3)
  .parse()
  .opts<{ streams: number; seconds: number; rounds: number }>();
const keepAliveMs = 1_000;

function startEmulator(dir: string): Promise<{ url: string; child: ChildProcess }> {
  return startEmulatorChild(dir, { keepAliveMs, gzipLevel: 1, apps: Array.from({ length: streams }, (_, i) => ({ key: `idle${i}`, token: `tok${i}`, size: 'small', rate: 'max', totalEvents: 0 })) });
}

/** N clients reading for `seconds` after a warm-up; the CPU this process used meanwhile, % of a core. */
async function round(url: string, emulatorPid: number): Promise<{ clientPct: number; emulatorPct: number; keepAlives: number }> {
  const ac = new AbortController();
  // One signal for every client of the round (each adds its listeners).
  setMaxListeners(0, ac.signal);
  const clients = Array.from({ length: streams }, (_, i) => new ConnectClient({ baseUrl: url, allowAnyHost: true, appKey: `idle${i}`, token: `tok${i}`, start: 'LATEST' }));
  const reading = clients.map(async (c) => {
    try {
      for await (const items of c.batches(ac.signal)) void items;
    } catch {
      // Aborted at the end of the round.
    }
  });
  // Every stream open and a few keep-alives in, before the window.
  await new Promise((r) => setTimeout(r, 5_000));
  const keepAlives0 = clients.reduce((a, c) => a + c.counters().keepAlives, 0);
  const cpu0 = process.cpuUsage();
  const emu0 = readProc(emulatorPid)?.cpuSec ?? 0;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const emu = (readProc(emulatorPid)?.cpuSec ?? 0) - emu0;
  const keepAlives = clients.reduce((a, c) => a + c.counters().keepAlives, 0) - keepAlives0;
  ac.abort();
  await Promise.all(reading);
  await Promise.all(clients.map((c) => c.close()));
  return { clientPct: ((cpu.user + cpu.system) / 1000 / ms) * 100, emulatorPct: ((emu * 1000) / ms) * 100, keepAlives: keepAlives / (ms / 1000) };
}

const dir = mkdtempSync(join(tmpdir(), 'tributary-connect-idle-'));
const emu = await startEmulator(dir);
try {
  console.log(`${streams} idle streams, a keep-alive every ${keepAliveMs} ms each; ${seconds} s windows after a 5 s warm-up; ${cpus().length} CPUs (${cpus()[0]?.model}), load ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  console.log('| round | client process CPU, % of a core | emulator CPU | keep-alives read /s |');
  console.log('|---:|---:|---:|---:|');
  for (let r = 1; r <= rounds; r++) {
    const x = await round(emu.url, emu.child.pid!);
    console.log(`| ${r} | ${x.clientPct.toFixed(1)} | ${x.emulatorPct.toFixed(1)} | ${x.keepAlives.toFixed(0)} |`);
  }
} finally {
  emu.child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
