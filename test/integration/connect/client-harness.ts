// Shared set-up for the Connect client's integration tests: a real emulator per test, a client
// pointed at it with fast timers, and a bounded reader that confirms offsets like the source actor.
import type { ExecutionContext } from 'ava';
import { ConnectClient, type ConnectClientDeps, type ConnectClientOptionsInput, type StreamItem } from '../../../src/connect/client/index.js';
import { envelopeOf, type ConnectEvent } from '../../../src/connect/event.js';
import { startConnectEmulator, type AppInput, type ConnectEmulator, type EmulatorInput } from '../../../src/connect/emulator/index.js';

export const appKey = 'client-app';
export const token = 'client-token-canary-3f9a';

/** Starts an emulator with one app (merged over `app`), closed when the test ends. */
export async function emulator(t: ExecutionContext, app: Partial<AppInput> = {}, options: Partial<EmulatorInput> = {}): Promise<ConnectEmulator> {
  const emu = await startConnectEmulator({ keepAliveMs: 100, ...options, apps: [{ key: appKey, token, rate: 'max', size: 'large', ...app }] });
  t.teardown(() => emu.close());
  return emu;
}

/** A client with millisecond backoff so retries are observable without waiting seconds. */
export function connectClient(
  t: ExecutionContext,
  emu: ConnectEmulator,
  options: Partial<ConnectClientOptionsInput> = {},
  deps: ConnectClientDeps = {},
): ConnectClient {
  const client = new ConnectClient({
    baseUrl: emu.url,
    allowAnyHost: true,
    appKey,
    token,
    start: 'EARLIEST',
    backoff: { initialMs: 20, multiplier: 3, maxMs: 200 },
    idleTimeoutMs: 2_000,
    ...options,
  }, deps);
  t.teardown(() => client.close());
  return client;
}

export interface ReadResult {
  items: StreamItem[];
  events: Extract<StreamItem, { kind: 'event' }>[];
  error: unknown;
  elapsedMs: number;
}

export interface ReadOptions {
  timeoutMs?: number;
  /** Whether to confirm the n-th event (1-based) right away; default: every event. */
  confirm?: (event: Extract<StreamItem, { kind: 'event' }>, n: number) => boolean;
  /** Read for exactly this long, then stop without error (for streams that yield nothing). */
  forMs?: number;
}

/**
 * Reads until `stop` holds (then aborts), the stream throws, or `timeoutMs` passes (a test
 * failure, reported as an error). Confirms every event at once unless `confirm` says otherwise.
 */
export async function read(
  client: ConnectClient,
  stop: (r: ReadResult) => boolean,
  { timeoutMs = 20_000, confirm = () => true, forMs }: ReadOptions = {},
): Promise<ReadResult> {
  const ac = new AbortController();
  const enough = forMs === undefined ? undefined : setTimeout(() => ac.abort(), forMs);
  const started = Date.now();
  const result: ReadResult = { items: [], events: [], error: undefined, elapsedMs: 0 };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort();
  }, timeoutMs);
  try {
    for await (const item of client.stream(ac.signal)) {
      result.items.push(item);
      if (item.kind === 'event') {
        result.events.push(item);
        if (confirm(item, result.events.length)) client.confirm(item.offset);
      }
      if (stop(result)) ac.abort();
    }
  } catch (err) {
    result.error = err;
  } finally {
    clearTimeout(timer);
    clearTimeout(enough);
    result.elapsedMs = Date.now() - started;
  }
  if (timedOut) result.error ??= new Error(`read timed out after ${timeoutMs} ms with ${result.events.length} events`);
  return result;
}

export const hasEvents = (n: number) => (r: ReadResult) => r.events.length >= n;
export const reconnects = (r: ReadResult) => r.items.filter((i): i is Extract<StreamItem, { kind: 'reconnecting' }> => i.kind === 'reconnecting');
export const poison = (r: ReadResult) => r.items.filter((i): i is Extract<StreamItem, { kind: 'poison' }> => i.kind === 'poison');

/**
 * The exact-outcome check against the emulator's served record: offsets strictly increase (so
 * nothing twice), and the distinct offsets served equal the offsets received (nothing lost).
 */
export function assertNothingLostNothingTwice(t: ExecutionContext, emu: ConnectEmulator, r: ReadResult, expected?: number): void {
  const got = r.events.map((e) => BigInt(e.offset));
  for (let i = 1; i < got.length; i++) if (!(got[i]! > got[i - 1]!)) return void t.fail(`offset ${got[i]} after ${got[i - 1]}`);
  // Served past the last offset we read is read-ahead we stopped before, not a loss.
  const last = got.at(-1) ?? -1n;
  const served = [...new Set(emu.served(appKey).map((s) => s.offset))]
    .filter((o) => BigInt(o) <= last)
    .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  t.deepEqual(r.events.map((e) => e.offset), served, 'received offsets = distinct served offsets');
  if (expected !== undefined) t.is(r.events.length, expected);
  // The raw bytes are the served line exactly (the source produces them to Kafka unchanged), and
  // the envelope is that line's.
  for (const e of r.events.slice(0, 50)) {
    const served = JSON.parse(e.raw.toString('utf8')) as ConnectEvent;
    t.is(e.raw.toString('utf8'), JSON.stringify(served));
    t.deepEqual(e.event, envelopeOf(served));
  }
}
