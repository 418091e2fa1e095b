// A StatsD server for tests: a UDP socket (node:dgram) on 127.0.0.1 that parses every line
// (`name:value|type[|@rate][|#tag:v,…]`, DogStatsD tags) and records it.
import { createSocket } from 'node:dgram';

export interface StatsdSample {
  name: string;
  value: number;
  type: string;
  tags: Record<string, string>;
}

export interface StatsdListener {
  readonly port: number;
  readonly samples: readonly StatsdSample[];
  names(): Set<string>;
  /** Sum of counter values for `name` whose tags include `tags`. */
  sum(name: string, tags?: Record<string, string>): number;
  waitFor(predicate: (l: StatsdListener) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

export function parseStatsdLine(line: string): StatsdSample | undefined {
  const m = /^([^:|]+):([^|]+)\|([a-z]+)(.*)$/.exec(line.trim());
  if (!m) return undefined;
  const tags: Record<string, string> = {};
  for (const part of m[4]!.split('|')) {
    if (!part.startsWith('#')) continue;
    for (const t of part.slice(1).split(',')) {
      const i = t.indexOf(':');
      if (i === -1) tags[t] = '';
      else tags[t.slice(0, i)] = t.slice(i + 1);
    }
  }
  return { name: m[1]!, value: Number(m[2]), type: m[3]!, tags };
}

export async function startStatsdListener(): Promise<StatsdListener> {
  const socket = createSocket('udp4');
  const samples: StatsdSample[] = [];
  socket.on('message', (msg) => {
    for (const line of msg.toString('utf8').split('\n')) {
      const s = parseStatsdLine(line);
      if (s) samples.push(s);
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const port = socket.address().port;
  const l: StatsdListener = {
    port,
    samples,
    names: () => new Set(samples.map((s) => s.name)),
    sum: (name, tags = {}) =>
      samples
        .filter((s) => s.name === name && Object.entries(tags).every(([k, v]) => s.tags[k] === v))
        .reduce((n, s) => n + s.value, 0),
    waitFor: async (predicate, timeoutMs = 15_000, what = 'metrics') => {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(l)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; seen: ${[...l.names()].sort().join(', ')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  return l;
}
