// The live view of `tributary local`: a snapshot of the node (integrations, health, pages) and a
// pure rendering of it to terminal lines (plain ANSI, no TUI library), redrawn once a second.
// Rates come from the difference of two samples of the state rows' counters.

export interface IntegrationView {
  id: string;
  app: string;
  tier: string;
  sink: string;
  /** The integration actor's status (running, failing, paused, misconfigured, starting…). */
  status: string;
  statusReason?: string | undefined;
  /** Events/s read from Connect (source) and delivered to the sink, over the last sample. */
  inPerSec: number;
  outPerSec: number;
  read: number;
  delivered: number;
  /** Events in Kafka not yet delivered: produced − delivered − DLQ − deduplicated. */
  backlog: number;
  /** The sink consumer group's lag as last measured by the sink (may be stale while the sink is down). */
  consumerLag?: number | undefined;
  dlq: number;
  /** The newest of the state row's last errors: "class/code: message". */
  lastError?: string | undefined;
  lastErrorAt?: string | undefined;
}

export interface PageView {
  dedupKey: string;
  severity: string;
  since: string;
}

export interface LocalSnapshot {
  /** ISO time of the sample. */
  at: string;
  uptimeMs: number;
  nodeId: string;
  /** The watchdog's view of each dependency (e.g. kafka: "ok"). */
  health: Record<string, string>;
  integrations: IntegrationView[];
  openPages: PageView[];
  pagesOpened: number;
  pagesResolved: number;
  /** Demo faults in force, in words. */
  faults: string[];
  /** A line about keys / scheduled faults. */
  hint?: string | undefined;
}

/** Counters of one integration at one time, for rates. */
export interface CounterSample {
  atMs: number;
  read: number;
  delivered: number;
}

/** Events per second between two samples (0 without a previous one or when time did not move). */
export function ratePerSec(prev: CounterSample | undefined, cur: CounterSample, key: 'read' | 'delivered'): number {
  if (!prev) return 0;
  const dt = cur.atMs - prev.atMs;
  if (dt <= 0) return 0;
  return Math.max(0, ((cur[key] - prev[key]) * 1000) / dt);
}

export interface RenderOptions {
  /** Terminal columns; lines are cut to fit. */
  width?: number;
  color?: boolean;
}

const ansi = { reset: '\x1b[0m', bold: '\x1b[1m', dim: '\x1b[2m', red: '\x1b[31m', green: '\x1b[32m', yellow: '\x1b[33m' };

function fmtCount(n: number): string {
  if (n >= 10_000_000) return `${(n / 1_000_000).toFixed(1)}M`;
  if (n >= 100_000) return `${(n / 1_000).toFixed(0)}k`;
  return String(Math.round(n));
}

function fmtRate(n: number): string {
  if (n >= 1000) return `${(n / 1000).toFixed(1)}k`;
  if (n >= 10) return n.toFixed(0);
  return n.toFixed(1);
}

function fmtDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
}

function cut(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

const columns: { title: string; width: number; align: 'l' | 'r' }[] = [
  { title: 'INTEGRATION', width: 14, align: 'l' },
  { title: 'TIER', width: 6, align: 'l' },
  { title: 'SINK', width: 7, align: 'l' },
  { title: 'STATE', width: 13, align: 'l' },
  { title: 'IN/s', width: 7, align: 'r' },
  { title: 'OUT/s', width: 7, align: 'r' },
  { title: 'DELIVERED', width: 10, align: 'r' },
  { title: 'BACKLOG', width: 8, align: 'r' },
  { title: 'DLQ', width: 5, align: 'r' },
];

function row(cells: string[]): string {
  return cells.map((c, i) => (columns[i]!.align === 'r' ? cut(c, columns[i]!.width).padStart(columns[i]!.width) : cut(c, columns[i]!.width).padEnd(columns[i]!.width))).join(' ');
}

function statusColor(status: string): keyof typeof ansi {
  if (status === 'running') return 'green';
  if (status === 'starting' || status === 'paused') return 'yellow';
  return 'red';
}

/** Renders a snapshot to lines (no trailing newline, no cursor control): pure, for tests and the TTY. */
export function renderView(s: LocalSnapshot, o: RenderOptions = {}): string[] {
  const width = Math.max(40, o.width ?? 120);
  const paint = (text: string, ...styles: (keyof typeof ansi)[]): string => (o.color ? `${styles.map((k) => ansi[k]).join('')}${text}${ansi.reset}` : text);
  const lines: string[] = [];
  const health = Object.entries(s.health)
    .map(([k, v]) => `${k} ${v === 'ok' ? paint('ok', 'green') : paint(v, 'red')}`)
    .join('   ');
  lines.push(paint(cut(`Tributary local — node ${s.nodeId} — up ${fmtDuration(s.uptimeMs)} — ${s.at.slice(11, 19)}Z`, width), 'bold'));
  lines.push(`Node health: ${health || 'pending'}`);
  lines.push('');
  const errorWidth = Math.max(10, width - row(columns.map((c) => c.title)).length - 1);
  lines.push(paint(`${row(columns.map((c) => c.title))} LAST ERROR`.slice(0, width), 'bold'));
  for (const i of s.integrations) {
    const status = i.status.padEnd(13);
    const cells = [i.id, i.tier, i.sink, i.status, fmtRate(i.inPerSec), fmtRate(i.outPerSec), fmtCount(i.delivered), fmtCount(i.backlog), fmtCount(i.dlq)];
    let text = row(cells);
    if (o.color) text = text.replace(status, paint(status, statusColor(i.status)));
    const err = i.lastError ? cut(`${i.lastErrorAt ? `${i.lastErrorAt.slice(11, 19)} ` : ''}${i.lastError}`, errorWidth) : '-';
    lines.push(`${text} ${err}`);
  }
  if (s.integrations.length === 0) lines.push(paint('(waiting for the node to apply the demo integrations…)', 'dim'));
  lines.push('');
  if (s.openPages.length === 0) {
    lines.push(`Open pages: ${paint('none', 'green')}   (opened ${s.pagesOpened}, resolved ${s.pagesResolved})`);
  } else {
    lines.push(paint(`Open pages: ${s.openPages.length}   (opened ${s.pagesOpened}, resolved ${s.pagesResolved})`, 'red', 'bold'));
    for (const p of s.openPages) lines.push(cut(`  [${p.severity}] ${p.dedupKey} since ${p.since.slice(11, 19)}Z`, width));
  }
  lines.push(`Faults: ${s.faults.length ? paint(s.faults.join('; '), 'yellow') : 'none'}`);
  if (s.hint) lines.push(paint(cut(s.hint, width), 'dim'));
  return lines.map((l) => (o.color ? l : cut(l, width)));
}
