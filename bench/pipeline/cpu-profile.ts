// Reads a V8 .cpuprofile (node --cpu-prof) and lists the functions with the most self time,
// optionally only for samples inside a time window (µs since the profile's start).
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  fn: string;
  where: string;
  selfPct: number;
  selfMs: number;
}

/** Top `top` functions by self time; `fromEndUs`: only the last part of the profile [from, to] µs before its end. */
export function hotSpots(file: string, top = 15, window?: { fromEndUs: number; toEndUs: number }): { totalMs: number; spots: HotSpot[]; idlePct: number; gcPct: number } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = p.startTime;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (window && (t < p.endTime - window.fromEndUs || t > p.endTime - window.toEndUs)) continue;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dt);
    total += dt;
  }
  const agg = new Map<string, { fn: string; where: string; us: number }>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const raw = n.callFrame.url.replace(/^file:\/\//, '');
    const url = /\/node_modules\//.test(raw) ? raw.replace(/^.*\/node_modules\//, 'node_modules/') : raw.replace(/^.*\/(src|bench)\//, '$1/');
    const where = url ? `${url}:${n.callFrame.lineNumber + 1}` : '';
    const fn = n.callFrame.functionName || '(anonymous)';
    const key = `${fn}@${where}`;
    const a = agg.get(key) ?? { fn, where, us: 0 };
    a.us += us;
    agg.set(key, a);
  }
  const pct = (us: number) => Math.round((us / Math.max(1, total)) * 1000) / 10;
  const named = (name: string) => [...agg.values()].filter((a) => a.fn === name).reduce((s, a) => s + a.us, 0);
  const spots = [...agg.values()]
    .filter((a) => a.fn !== '(idle)' && a.fn !== '(program)')
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((a) => ({ fn: a.fn, where: a.where, selfPct: pct(a.us), selfMs: Math.round(a.us / 1000) }));
  return { totalMs: Math.round(total / 1000), spots, idlePct: pct(named('(idle)')), gcPct: pct(named('(garbage collector)')) };
}

/** Self time by package / source area (node_modules/<pkg>, src/<dir>, node: internals); `window` as for `hotSpots`. */
export function byArea(file: string, window?: { fromEndUs: number; toEndUs: number }): { area: string; pct: number }[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const areas = new Map<string, number>();
  let total = 0;
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (window && (t < p.endTime - window.fromEndUs || t > p.endTime - window.toEndUs)) continue;
    const n = byId.get(p.samples[i]!)!;
    const url = n.callFrame.url;
    let area: string;
    if (n.callFrame.functionName === '(idle)') area = '(idle)';
    else if (n.callFrame.functionName === '(garbage collector)') area = '(gc)';
    else if (n.callFrame.functionName === '(program)') area = '(program: native, outside JS)';
    else if (/node_modules\//.test(url)) area = `node_modules/${/node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)![1]}`;
    else if (/\/src\//.test(url)) area = `src/${/\/src\/([^/]+)/.exec(url)![1]}`;
    else if (url.startsWith('node:') || url === '') area = 'node internals / native';
    else area = 'other';
    areas.set(area, (areas.get(area) ?? 0) + dt);
    total += dt;
  }
  return [...areas.entries()].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, pct: Math.round((us / Math.max(1, total)) * 1000) / 10 }));
}
