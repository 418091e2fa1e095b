// What parsing Connect lines costs the event loop: on the event loop itself (`classifyLine` and
// `lineItem`, what a session does without a parser) against handing chunks to `LineParseThreads`
// (connect.parseThreads) with up to 4 chunks out at once, as one read session keeps them. The
// event loop's share is its busy time (`performance.eventLoopUtilization`) over the run; the
// thread's own CPU is the process's CPU minus that. Rounds alternate, so a change in the
// machine's load falls on both. No server needed.
// Usage: npm run bench:line-parse [-- --events 60000 --lines 64,256 --rounds 3]; prints a markdown table.
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { LineParseThreads } from '../src/connect/client/index.js';
import { classifyLine, lineItem, type ParsedLine } from '../src/connect/client/line-parser.js';
import { createEventGenerator } from '../src/connect/emulator/event-generator.js';
import { benchCommand, parseIntIn } from './args.js';

const o = benchCommand('bench:line-parse', "the event loop's cost of parsing Connect lines, on it and on a parse thread")
  .option('--events <n>', 'events per round (~1 KB each, the bench pipeline scenario 1 size)', parseIntIn(1_000, 10_000_000), 60_000)
  .option('--lines <list>', 'lines per chunk handed to the thread, comma-separated (1–100000 each)', (v: string) => v.split(',').map(parseIntIn(1, 100_000)), [64, 256])
  .option('--rounds <n>', 'rounds of each way, alternating', parseIntIn(1, 20), 3)
  .parse()
  .opts<{ events: number; lines: number[]; rounds: number }>();

const log = (msg: string) => process.stderr.write(`[line-parse] ${msg}\n`);
const gen = createEventGenerator({ seed: 42, size: 'large', eventBytes: 1_000 });
const start = Date.now();
const lines = Array.from({ length: o.events }, (_, i) => Buffer.from(JSON.stringify(gen.next({ offset: String(10_000 + i), processedMs: start + i }))));
const bytes = lines.reduce((n, l) => n + l.length, 0);

interface Cost {
  loopUsPerEvent: number;
  cpuUsPerEvent: number;
  wallUsPerEvent: number;
}

/** Items kept until the round ends, as a batch in flight keeps them. */
function measure(run: (keep: ParsedLine[]) => Promise<void>): Promise<Cost> {
  const keep: ParsedLine[] = [];
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return run(keep).then(() => {
    if (keep.length !== o.events || keep.some((k) => k.kind !== 'event')) throw new Error(`expected ${o.events} events, got ${keep.length}`);
    const wall = performance.now() - t0;
    const elu = performance.eventLoopUtilization(elu0);
    const cpu = process.cpuUsage(cpu0);
    const per = 1000 / o.events;
    return { loopUsPerEvent: elu.active * per, cpuUsPerEvent: ((cpu.user + cpu.system) / 1000) * per, wallUsPerEvent: wall * per };
  });
}

const inline = () =>
  measure(async (keep) => {
    let after: string | undefined;
    for (const line of lines) {
      const item = lineItem(classifyLine(line), line, after);
      if (item.kind === 'event') after = item.offset;
      keep.push(item);
    }
  });

const threaded = (threads: LineParseThreads, chunk: number) =>
  measure(async (keep) => {
    const out: Promise<void>[] = [];
    let after: string | undefined;
    for (let at = 0; at < lines.length; at += chunk) {
      const part = lines.slice(at, at + chunk);
      // A session keeps up to 4 chunks out and takes their items in order.
      if (out.length >= 4) await out.shift();
      const prev = out.at(-1) ?? Promise.resolve();
      const mine = threads.classify(part);
      out.push(
        Promise.all([mine, prev]).then(([classes]) => {
          classes.forEach((c, k) => {
            const item = lineItem(c, part[k]!, after);
            if (item.kind === 'event') after = item.offset;
            keep.push(item);
          });
        }),
      );
    }
    await Promise.all(out);
  });

const threads = new LineParseThreads({ threads: 1, minLines: 1 });
log(`${o.events.toLocaleString('en')} events of ~${Math.round(bytes / o.events)} B; ${o.rounds} rounds; chunks of ${o.lines.join(', ')} lines`);
// Warm-up: JIT on both paths, and the thread started.
await inline();
for (const n of o.lines) await threaded(threads, n);
const rows: string[] = [];
const fmt = (n: number) => n.toFixed(2);
for (let r = 1; r <= o.rounds; r++) {
  const a = await inline();
  rows.push(`| ${r} | on the event loop | ${fmt(a.loopUsPerEvent)} | ${fmt(a.cpuUsPerEvent)} | ${fmt(a.wallUsPerEvent)} |`);
  for (const n of o.lines) {
    const b = await threaded(threads, n);
    rows.push(`| ${r} | parse thread, ${n} lines a chunk | ${fmt(b.loopUsPerEvent)} | ${fmt(b.cpuUsPerEvent)} | ${fmt(b.wallUsPerEvent)} |`);
  }
  log(`round ${r} of ${o.rounds} done`);
}
await threads.close();
const s = threads.stats();
if (s.linesRecovered > 0 || s.threadsFailed > 0) throw new Error(`the thread failed: ${JSON.stringify(s)}`);
console.log(
  [
    `${cpus().length} CPUs (${cpus()[0]?.model.trim()}), load ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${o.events.toLocaleString('en')} events of ~${Math.round(bytes / o.events)} B per round, items kept to the round's end`,
    '',
    '| round | where lines are parsed | event loop µs/event | process CPU µs/event (both threads) | wall µs/event |',
    '|---|---|---:|---:|---:|',
    ...rows,
  ].join('\n'),
);
