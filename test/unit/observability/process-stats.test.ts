// The node's resource gauges: CPU as % of one core between two samples, memory kinds, and the
// event-loop delay histogram read in ms (zeros, not NaN, when it holds nothing).
import test from 'ava';
import { cpuPercent, delayGauges, memoryGauges, parseCounts, startProcessStats, startThreadStats, threadHeapGauges, type ProcessSample } from '../../../src/observability/process-stats.js';

const memory: NodeJS.MemoryUsage = { rss: 5, heapUsed: 2, heapTotal: 3, external: 1, arrayBuffers: 4 };
const at = (ms: number, userMicros: number, systemMicros: number): ProcessSample => ({ memory, cpu: { user: userMicros, system: systemMicros }, at: ms });

test('cpu: user + system over the elapsed time, in % of one core', (t) => {
  t.is(cpuPercent(at(0, 0, 0), at(10_000, 1_000_000, 500_000)), 15);
  t.is(cpuPercent(at(0, 0, 0), at(1_000, 1_500_000, 500_000)), 200, 'two cores busy is 200');
  t.is(cpuPercent(at(0, 0, 0), at(3_000, 1_000, 0)), 0, 'rounded to a tenth');
  t.is(cpuPercent(at(500, 0, 0), at(500, 9, 9)), 0, 'no elapsed time is 0, not Infinity');
});

test('memory: every kind, named as the tag values', (t) => {
  t.deepEqual(memoryGauges(memory, 6), [
    ['rss', 5],
    ['heap_used', 2],
    ['heap_total', 3],
    ['external', 1],
    ['array_buffers', 4],
    ['pack_pool', 6],
  ]);
});

test('delay: percentiles and max from ns to ms; an empty histogram gives zeros', (t) => {
  const h = { count: 3, percentile: (p: number) => (p === 50 ? 1_234_567 : 51_000_000), max: 80_123_456 };
  t.deepEqual(delayGauges(h), [
    ['p50', 1.23],
    ['p99', 51],
    ['max', 80.12],
  ]);
  t.deepEqual(delayGauges({ count: 0, percentile: () => NaN, max: 0 }), [
    ['p50', 0],
    ['p99', 0],
    ['max', 0],
  ]);
});

test('started: one round of gauges per interval, stopped by the function it returns', async (t) => {
  const sent: { name: string; value: number; tags?: Record<string, unknown> }[] = [];
  const stop = startProcessStats({ gauge: (name, value, tags) => void sent.push({ name, value, tags }), count: () => t.fail('no parse thread, no counts') }, 30);
  await new Promise((r) => setTimeout(r, 100));
  stop();
  const rounds = sent.filter((s) => s.name === 'node.cpu_percent').length;
  t.true(rounds >= 1, `${rounds} rounds`);
  t.true(sent.some((s) => s.name === 'node.memory_bytes' && s.tags?.kind === 'rss' && s.value > 10_000_000));
  t.true(sent.some((s) => s.name === 'node.memory_bytes' && s.tags?.kind === 'pack_pool' && s.value >= 0), 'the pack-buffer pool, empty here');
  t.deepEqual(new Set(sent.filter((s) => s.name === 'node.event_loop_delay_ms').map((s) => s.tags?.stat)), new Set(['p50', 'p99', 'max']));
  t.true(sent.every((s) => Number.isFinite(s.value)));
  const after = sent.length;
  await new Promise((r) => setTimeout(r, 80));
  t.is(sent.length, after, 'nothing after stop');
});

test('the parse thread\'s counters go out as increments between two stats, nothing when nothing changed', async (t) => {
  const zero = { linesOffThread: 0, linesRecovered: 0, streamsOffThread: 0, streamsLost: 0, threadsStarted: 0, threadsFailed: 0 };
  t.deepEqual(parseCounts(zero, zero), []);
  t.deepEqual(parseCounts({ ...zero, linesOffThread: 100 }, { linesOffThread: 612, linesRecovered: 64, streamsOffThread: 3, streamsLost: 1, threadsStarted: 2, threadsFailed: 1 }), [
    ['node.parse_lines', 512, { outcome: 'thread' }],
    ['node.parse_lines', 64, { outcome: 'recovered' }],
    ['node.parse_streams', 3, { outcome: 'thread' }],
    ['node.parse_streams', 1, { outcome: 'lost' }],
    ['node.parse_thread_failures', 1, undefined],
  ]);
  // Started with a parser: its growth reaches the counters on the next interval.
  const stats = { ...zero };
  const counted: [string, number, unknown][] = [];
  const stop = startProcessStats({ gauge: () => undefined, count: (name, value, tags) => void counted.push([name, value ?? 1, tags]) }, 30, { stats: () => ({ ...stats }) });
  stats.linesOffThread = 300;
  await new Promise((r) => setTimeout(r, 80));
  stop();
  t.deepEqual(counted, [['node.parse_lines', 300, { outcome: 'thread' }]]);
});

test('an integration thread: its own heap, pack pool and event-loop delay, tagged with its index; its parse counters; nothing after stop', async (t) => {
  t.deepEqual(threadHeapGauges({ used_heap_size: 7, total_heap_size: 9 }, 2), [
    ['heap_used', 7],
    ['heap_total', 9],
    ['pack_pool', 2],
  ]);
  const sent: { name: string; value: number; tags?: Record<string, unknown> }[] = [];
  const counted: [string, number][] = [];
  const stats = { linesOffThread: 0, linesRecovered: 0, streamsOffThread: 0, streamsLost: 0, threadsStarted: 0, threadsFailed: 0 };
  const stop = startThreadStats({ gauge: (name, value, tags) => void sent.push({ name, value, tags }), count: (name, value) => void counted.push([name, value ?? 1]) }, 30, '3', { stats: () => ({ ...stats }) });
  stats.linesOffThread = 640;
  await new Promise((r) => setTimeout(r, 100));
  stop();
  t.true(sent.some((s) => s.name === 'node.thread_memory_bytes' && s.tags?.kind === 'heap_used' && s.value > 1_000_000));
  t.deepEqual(new Set(sent.filter((s) => s.name === 'node.thread_memory_bytes').map((s) => s.tags?.kind)), new Set(['heap_used', 'heap_total', 'pack_pool']));
  t.deepEqual(new Set(sent.filter((s) => s.name === 'node.thread_event_loop_delay_ms').map((s) => s.tags?.stat)), new Set(['p50', 'p99', 'max']));
  t.true(sent.every((s) => s.tags?.thread === '3' && Number.isFinite(s.value)));
  t.false(sent.some((s) => s.name === 'node.memory_bytes' || s.name === 'node.cpu_percent'), 'the process-wide gauges stay with the main thread');
  t.deepEqual(counted, [['node.parse_lines', 640]]);
  const after = sent.length;
  await new Promise((r) => setTimeout(r, 80));
  t.is(sent.length, after);
});
