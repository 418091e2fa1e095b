// Helpers for the pipeline benchmark: child processes, /proc sampling (RSS and CPU every 250 ms),
// free ports, HTTP JSON calls and small waits. No Tributary code here: only the orchestration.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { choosePort } from '../../src/infra/ports.js';
import { createInterface } from 'node:readline';
import { request } from 'undici';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Clock ticks per second of /proc/<pid>/stat utime and stime (USER_HZ, 100 on Linux). */
const HZ = 100;

export interface ProcReading {
  /** utime + stime, seconds. */
  cpuSec: number;
  /** stime alone (the kernel's share: syscalls, socket reads and writes), seconds. */
  sysSec: number;
  rssBytes: number;
}

export function readProc(pid: number): ProcReading | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" of comm (which may contain spaces): state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSec = (Number(rest[11]) + Number(rest[12])) / HZ;
    const sysSec = Number(rest[12]) / HZ;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuSec, sysSec, rssBytes: rssKb * 1024 };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds (utime + stime) of each of a process's threads, summed by thread name. The main
 * thread is "main"; Node's other threads (workers, libuv's pool, V8's GC helpers) are mostly
 * named "node" too, so they sum there.
 */
export function readThreads(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(rest[11]) + Number(rest[12])) / HZ);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** Per-thread-name CPU between two readThreads() readings, as % of a core over `ms`, largest first. */
export function threadCpuPct(before: Map<string, number>, after: Map<string, number>, ms: number): { thread: string; pct: number }[] {
  return [...after]
    .map(([thread, sec]) => ({ thread, pct: round1(((sec - (before.get(thread) ?? 0)) * 100_000) / ms) }))
    .filter((x) => x.pct > 0)
    .sort((a, b) => b.pct - a.pct);
}

/** Whole-machine busy fraction from /proc/stat (all cores), to show what else was running. */
function readMachine(): { busy: number; total: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  const total = line.reduce((a, b) => a + b, 0);
  // Field 8: time the hypervisor ran something else while this VM wanted the CPU.
  return { busy: total - idle, total, steal: line[7] ?? 0 };
}

export interface ProcSummary {
  pid: number;
  peakRssMiB: number;
  firstRssMiB: number;
  lastRssMiB: number;
  /** Average CPU over the sampled window, % of one core. */
  avgCpuPct: number;
  /** Highest CPU over any 1 s of the window, % of one core. */
  peakCpuPct: number;
  /** CPU seconds used over the window (for CPU per event). */
  cpuSec: number;
}

/** Samples named processes every `everyMs` until stopped; windows can be cut with `mark()`. */
export class ProcSampler {
  private timer: NodeJS.Timeout | undefined;
  private pids = new Map<string, number>();
  private samples = new Map<string, { t: number; cpu: number; rss: number }[]>();
  private machine: { t: number; busy: number; total: number; steal: number }[] = [];

  constructor(private readonly everyMs = 250) {}

  track(name: string, pid: number | undefined): void {
    if (pid === undefined) return;
    this.pids.set(name, pid);
    this.samples.set(name, []);
  }

  untrack(name: string): void {
    this.pids.delete(name);
  }

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }

  private sample(): void {
    const t = performance.now();
    for (const [name, pid] of this.pids) {
      const r = readProc(pid);
      if (r) this.samples.get(name)!.push({ t, cpu: r.cpuSec, rss: r.rssBytes });
    }
    const m = readMachine();
    this.machine.push({ t, ...m });
  }

  /** Per process: peak RSS, average and peak (1 s) CPU between `from` and `to` (performance.now()). */
  summary(from = 0, to = Number.POSITIVE_INFINITY): Record<string, ProcSummary> {
    const out: Record<string, ProcSummary> = {};
    for (const [name, all] of this.samples) {
      const xs = all.filter((s) => s.t >= from && s.t <= to);
      if (xs.length < 2) continue;
      const first = xs[0]!;
      const last = xs[xs.length - 1]!;
      let peakCpu = 0;
      let j = 0;
      for (let i = 0; i < xs.length; i++) {
        while (xs[i]!.t - xs[j]!.t > 1_000) j++;
        const dt = xs[i]!.t - xs[j]!.t;
        if (dt >= 700) peakCpu = Math.max(peakCpu, ((xs[i]!.cpu - xs[j]!.cpu) / dt) * 1000 * 100);
      }
      out[name] = {
        pid: this.pidOf(name),
        peakRssMiB: round1(Math.max(...xs.map((s) => s.rss)) / 1048576),
        firstRssMiB: round1(first.rss / 1048576),
        lastRssMiB: round1(last.rss / 1048576),
        avgCpuPct: round1(((last.cpu - first.cpu) / Math.max(1, last.t - first.t)) * 1000 * 100),
        peakCpuPct: round1(peakCpu || ((last.cpu - first.cpu) / Math.max(1, last.t - first.t)) * 1000 * 100),
        cpuSec: Math.round((last.cpu - first.cpu) * 1000) / 1000,
      };
    }
    return out;
  }

  private pidOf(name: string): number {
    return this.pids.get(name) ?? -1;
  }

  /** Whole-machine CPU busy over the window, % of all cores. */
  machineBusyPct(from = 0, to = Number.POSITIVE_INFINITY): number {
    return this.machinePct('busy', from, to);
  }

  /** Steal over the window, % of all cores: CPU the VM wanted and the hypervisor gave elsewhere. */
  machineStealPct(from = 0, to = Number.POSITIVE_INFINITY): number {
    return this.machinePct('steal', from, to);
  }

  private machinePct(field: 'busy' | 'steal', from: number, to: number): number {
    const xs = this.machine.filter((s) => s.t >= from && s.t <= to);
    if (xs.length < 2) return 0;
    const a = xs[0]!;
    const b = xs[xs.length - 1]!;
    return round1(((b[field] - a[field]) / Math.max(1, b.total - a.total)) * 100);
  }
}

export const round1 = (x: number) => Math.round(x * 10) / 10;

/** A free TCP port on 127.0.0.1 (closed again; a tiny race is acceptable for a benchmark). */
export const freePort = (): Promise<number> => choosePort(0, 'a benchmark process');

/**
 * A free port below the kernel's ephemeral range, for a server that stays down for a while at a
 * port its clients keep dialling (scenario 4's receiver). A port from `freePort` is in that range,
 * so a client's outgoing connection can take it as its own source port meanwhile (a loopback
 * connection to a closed port in range can even connect to itself), and the server's bind then
 * fails with EADDRINUSE: a CI run lost scenario 4 that way.
 */
export async function freePortOutsideEphemeral(): Promise<number> {
  let low = 32_768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // Not Linux: the usual default.
  }
  const from = Math.min(20_000, low - 2_000);
  for (let i = 0; i < 50; i++) {
    const port = from + Math.floor(Math.random() * (low - from));
    const got = await choosePort(port, 'a benchmark server that starts late').catch(() => undefined);
    if (got !== undefined) return got;
  }
  throw new Error(`no free port in ${from}–${low - 1} after 50 tries`);
}

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
}

/** Spawns a child whose stdout/stderr go to `logFile`; resolves with its first stdout line when `firstLine`. */
export async function spawnChild(
  name: string,
  args: string[],
  o: { env?: NodeJS.ProcessEnv; logFile: string; firstLine?: boolean; cmd?: string; timeoutMs?: number; onSpawn?: (c: Child) => void },
): Promise<{ child: Child; line?: string }> {
  const proc = spawn(o.cmd ?? process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
  const log = createWriteStream(o.logFile, { flags: 'a' });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  proc.stderr!.pipe(log);
  const child: Child = { name, proc, pid: proc.pid!, exited };
  // Registered before the first line, so a deadline during start-up still stops it.
  o.onSpawn?.(child);
  let line: string | undefined;
  if (o.firstLine) {
    line = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: proc.stdout! });
      const timer = setTimeout(() => reject(new Error(`${name} printed nothing within ${o.timeoutMs ?? 60_000} ms (see ${o.logFile})`)), o.timeoutMs ?? 60_000);
      rl.once('line', (l) => {
        clearTimeout(timer);
        rl.close();
        resolve(l);
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code} before it started (see ${o.logFile})`));
      });
    });
  }
  proc.stdout!.pipe(log);
  return { child, ...(line !== undefined ? { line } : {}) };
}

/** SIGTERM, then SIGKILL after `graceMs`; by pid, only our own child. */
export async function stopChild(c: Child | undefined, graceMs = 15_000): Promise<void> {
  if (!c || c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  c.proc.kill('SIGTERM');
  const killed = setTimeout(() => c.proc.kill('SIGKILL'), graceMs);
  await c.exited;
  clearTimeout(killed);
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await request(url, { headersTimeout: 30_000, bodyTimeout: 30_000 });
  const text = await res.body.text();
  if (res.statusCode >= 400) throw new Error(`GET ${url}: ${res.statusCode} ${text.slice(0, 200)}`);
  return JSON.parse(text) as T;
}

export async function postJson(url: string, body: unknown = {}): Promise<unknown> {
  const res = await request(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const text = await res.body.text();
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/** Polls `fn` every `everyMs` until it returns a value or the deadline passes (then undefined). */
export async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    await sleep(everyMs);
  }
  return undefined;
}

/**
 * The Connect emulator as a child process from source (`tributary emulate connect`), with the
 * emulator options given (written to `dir`/apps.json); resolves once it prints its URL.
 */
export async function startEmulatorChild(dir: string, options: Record<string, unknown>): Promise<{ url: string; child: ChildProcess }> {
  const apps = join(dir, 'apps.json');
  writeFileSync(apps, JSON.stringify(options));
  const child = spawn(process.execPath, ['bin/tributary.js', 'emulate', 'connect', '--apps', apps, '--port', '0', '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TRIBUTARY_FROM_SOURCE: '1' },
  });
  const first = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => resolve(line));
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  return { url: (JSON.parse(first) as { url: string }).url, child };
}

/** The pid listening on a broker's port (for an external broker on this machine), if ss can tell. */
export function kafkaPidFromPort(broker: string): number | undefined {
  try {
    const port = broker.split(':')[1];
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    return Number(/pid=(\d+)/.exec(out)?.[1]) || undefined;
  } catch {
    return undefined;
  }
}
