// The sink's dedup window per delivered event (has + add, as SinkRunner.deliver does), at each
// tier's capacity, once the window is full, beside the eviction it replaced (a Set's first
// element, which V8 reaches by skipping every deleted entry until the table is rebuilt).
//   node --import tsx bench/dedup-window.ts [--events 1000000]
import { DedupWindow } from '../src/pipeline/dedup-window.js';
import { benchCommand, parseIntIn } from './args.js';

const { events } = benchCommand('bench/dedup-window.ts', "the sink's dedup window per delivered event, beside the eviction it replaced")
  .option('--events <n>', 'events per tier', parseIntIn(1_000, 100_000_000), 1_000_000)
  .parse()
  .opts<{ events: number }>();

/** The replaced eviction, kept here as the baseline only. */
class SetFirstEviction {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity: number) {}
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value as string);
  }
}

const ids = Array.from({ length: events }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

function nsPerEvent(w: { has(id: string): boolean; add(id: string): void }, capacity: number): number {
  // Fill first: the cost that matters is a full window's.
  for (let i = 0; i < capacity; i++) w.add(`fill-${i}`);
  const t = process.hrtime.bigint();
  for (const id of ids) if (!w.has(id)) w.add(id);
  return Number(process.hrtime.bigint() - t) / ids.length;
}

console.log(`| capacity (tier) | ring of slots (now), ns/event | Set first-element eviction (before), ns/event | ratio |`);
console.log('|---:|---:|---:|---:|');
for (const [capacity, tier] of [[10_000, 'small'], [50_000, 'medium'], [200_000, 'large']] as const) {
  const now = nsPerEvent(new DedupWindow(capacity), capacity);
  const before = nsPerEvent(new SetFirstEviction(capacity), capacity);
  console.log(`| ${capacity.toLocaleString('en')} (${tier}) | ${now.toFixed(0)} | ${before.toFixed(0)} | ${(before / now).toFixed(0)}× |`);
}
