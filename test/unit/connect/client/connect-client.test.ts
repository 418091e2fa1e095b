import test from 'ava';
import fc from 'fast-check';
import { ErrorCode, TributaryError } from '../../../../src/errors.js';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ConnectClient, type ConnectClientDeps, type ConnectTransport } from '../../../../src/connect/client/index.js';
import type { ConnectClientOptionsInput } from '../../../../src/connect/client/options.js';
import { FakeConnect, collect, countEvents, cutOnceTransport, eventLine, events, gzipFlushed, statusError, type Script } from './fake-transport.js';

const base: ConnectClientOptionsInput = { appKey: 'app', token: 'tok', baseUrl: 'http://127.0.0.1:1', allowAnyHost: true, start: 'EARLIEST' };

function client(fake: FakeConnect, options: Partial<ConnectClientOptionsInput> = {}, deps: ConnectClientDeps = {}) {
  const delays: number[] = [];
  const c = new ConnectClient({ ...base, ...options }, { transport: fake, random: () => 0.5, sleep: async (ms) => void delays.push(ms), ...deps });
  return { c, delays };
}

test('no event is yielded twice and none is lost across any sequence of disconnects, when the caller confirms offsets', async (t) => {
  const connection = fc.record({
    cutAtByte: fc.nat(6000),
    cut: fc.constantFrom('truncate' as const, 'reset' as const),
    chunkSizes: fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 5 }),
  });
  await fc.assert(
    fc.asyncProperty(
      fc.array(connection, { maxLength: 8 }),
      fc.array(fc.nat(6), { minLength: 1, maxLength: 20 }),
      fc.integer({ min: 1, max: 60 }),
      async (cuts, lags, total) => {
        const scripts: Script[] = [...cuts.map((c): Script => ({ kind: 'serve', ...c })), { kind: 'serve', chunkSizes: [333] }];
        const fake = new FakeConnect(total, scripts);
        const { c } = client(fake);
        const yielded: number[] = [];
        let n = 0;
        const { items, error } = await collect(
          c,
          () => yielded.length >= total,
          (item) => {
            if (item.kind !== 'event') return;
            yielded.push(Number(item.offset));
            // The caller confirms with a varying lag, as Kafka acks would.
            const lag = lags[n++ % lags.length]!;
            const ack = yielded[yielded.length - 1 - lag];
            if (ack !== undefined) c.confirm(String(ack));
          },
        );
        t.is(error, undefined);
        t.deepEqual(yielded, Array.from({ length: total }, (_, i) => i + 1), 'every offset once, in order');
        // Every request resumed from a confirmed offset (or EARLIEST), never past a yielded one.
        for (const r of fake.requests) if (r.body.resume_offset !== undefined) t.true(Number(r.body.resume_offset) <= total);
        t.false(items.some((i) => i.kind === 'poison'), 'a cut never yields a fragment as poison');
      },
    ),
    { numRuns: 60 },
  );
});

test('each reconnect resumes after the last confirmed offset, never an unconfirmed one', async (t) => {
  const fake = new FakeConnect(10, [{ kind: 'serve', events: 4 }, { kind: 'serve', events: 4 }, { kind: 'serve' }]);
  const { c, delays } = client(fake, { resumeOffset: undefined });
  const { items } = await collect(c, countEvents(10), (i) => {
    // Confirm only up to offset 3: the connection ends at 4, so the resume must be 3, and 4 must not be yielded again.
    if (i.kind === 'event' && Number(i.offset) <= 3) c.confirm(i.offset);
  });
  t.deepEqual(events(items), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  t.deepEqual(fake.requests.map((r) => r.body), [{ start: 'EARLIEST' }, { resume_offset: '3' }, { resume_offset: '3' }]);
  // Connection 2 re-sends 4 (dropped); connection 3 re-sends 4..7 (dropped): nothing yielded twice.
  t.is(c.counters().duplicatesDropped, 5);
  t.deepEqual(delays, [0, 0], 'a healthy stream that ends resumes at once');
  t.deepEqual(items.filter((i) => i.kind === 'reconnecting').map((i) => i.kind === 'reconnecting' && i.reason), ['ended', 'ended']);
});

test('an initial resumeOffset is the first resume point and counts as confirmed', async (t) => {
  const fake = new FakeConnect(8, [{ kind: 'serve' }]);
  const { c } = client(fake, { resumeOffset: '5' });
  t.is(c.confirmedOffset, '5');
  const { items } = await collect(c, countEvents(3));
  t.deepEqual(events(items), [6, 7, 8]);
  t.deepEqual(fake.requests[0]?.body, { resume_offset: '5' });
});

test('filters, subset and enable_offset_updates are sent as configured', async (t) => {
  const fake = new FakeConnect(1, [{ kind: 'serve' }]);
  const filters = [{ types: ['OPEN'] }];
  const { c } = client(fake, { start: 'LATEST', filters, subset: { type: 'SAMPLE', proportion: 0.5 }, enableOffsetUpdates: true });
  await collect(c, (items) => items.some((i) => i.kind === 'connected'));
  t.deepEqual(fake.requests[0]?.body, { start: 'LATEST', filters, subset: { type: 'SAMPLE', proportion: 0.5 }, enable_offset_updates: true });
});

test('400/401/402/403 are thrown to the caller, not retried', async (t) => {
  for (const [code, status] of [
    [ErrorCode.connectBadRequest, 400],
    [ErrorCode.connectAuth, 401],
    [ErrorCode.connectConcurrency, 402],
    [ErrorCode.connectNotEntitled, 403],
  ] as const) {
    const fake = new FakeConnect(5, [{ kind: 'status', error: statusError(code, status) }]);
    const { c } = client(fake);
    const { error } = await collect(c, () => false);
    t.true(error instanceof TributaryError);
    t.is((error as TributaryError).code, code);
    t.is((error as TributaryError).kind, 'misconfiguration');
    t.is(fake.requests.length, 1);
  }
});

test('5xx is retried with ×3 full-jitter backoff; a healthy stream resets it', async (t) => {
  const e503 = statusError(ErrorCode.connectServer, 503);
  let received!: () => void;
  const firstEvent = new Promise<void>((r) => (received = r));
  const fake = new FakeConnect(3, [
    { kind: 'status', error: e503 },
    { kind: 'status', error: e503 },
    { kind: 'status', error: e503 },
    { kind: 'serve', events: 1, cut: 'reset', resetAfter: firstEvent },
    { kind: 'status', error: e503 },
    { kind: 'serve' },
  ]);
  const { c, delays } = client(fake);
  const { items } = await collect(c, countEvents(3), (i) => {
    if (i.kind !== 'event') return;
    c.confirm(i.offset);
    received();
  });
  t.deepEqual(events(items), [1, 2, 3]);
  // random() = 0.5: half of 1 s, 3 s, 9 s; then the event resets the schedule: 0.5 s (reset), 1.5 s (503).
  t.deepEqual(delays, [500, 1500, 4500, 500, 1500]);
  t.is(c.counters().reconnects.server_error, 4);
  t.is(c.counters().reconnects.network, 1);
});

test('429 waits at least Retry-After (clamped to maxRetryAfterMs)', async (t) => {
  const fake = new FakeConnect(1, [
    { kind: 'status', error: statusError(ErrorCode.connectRateLimited, 429, 7000) },
    { kind: 'status', error: statusError(ErrorCode.connectRateLimited, 429, 3_600_000) },
    { kind: 'serve' },
  ]);
  const { c, delays } = client(fake, { maxRetryAfterMs: 60_000 });
  const { items } = await collect(c, countEvents(1));
  t.deepEqual(delays, [7000, 60_000]);
  t.deepEqual(items.filter((i) => i.kind === 'reconnecting').map((i) => i.kind === 'reconnecting' && i.reason), ['rate_limited', 'rate_limited']);
});

test('a 307 is re-POSTed at once with the cookie; past 5 in a row every 307 costs a backoff', async (t) => {
  const redirect: Script = { kind: 'redirect', setCookie: ['SRV=node-7; Path=/'] };
  const fake = new FakeConnect(1, [...Array.from({ length: 8 }, () => redirect), { kind: 'serve' }]);
  const { c, delays } = client(fake);
  const { items } = await collect(c, countEvents(1));
  t.deepEqual(events(items), [1]);
  t.is(fake.requests.length, 9);
  t.is(fake.requests[0]?.cookie, undefined);
  t.true(fake.requests.slice(1).every((r) => r.cookie === 'SRV=node-7'));
  t.deepEqual(delays, [500, 1500, 4500], 'redirects 6, 7 and 8 each waited');
  t.is(c.counters().redirects, 8);
  t.is(c.counters().reconnects.redirect_loop, 3);
});

test('garbage lines are poison with offset context; K in a row drop the connection', async (t) => {
  const garbage = (o: number) => (o === 3 ? [eventLine(3), '{"id":', '\u0000\u0001junk', 'nope', 'x', 'y', 'z'] : undefined);
  const fake = new FakeConnect(5, [{ kind: 'serve', lines: garbage }, { kind: 'serve' }]);
  const { c } = client(fake, { maxConsecutiveBadLines: 5 });
  const { items } = await collect(c, countEvents(5), (i) => i.kind === 'event' && c.confirm(i.offset));
  const poison = items.filter((i) => i.kind === 'poison');
  t.is(poison.length, 5, 'the 6th bad line is never read: the connection was dropped at the 5th');
  t.true(poison.every((p) => p.kind === 'poison' && p.afterOffset === '3' && p.code === ErrorCode.poisonLine));
  t.deepEqual(events(items), [1, 2, 3, 4, 5]);
  t.is(fake.requests[1]?.body.resume_offset, '3');
  t.is(c.counters().reconnects.bad_lines, 1);
});

test('a malformed line below K is poison and the stream goes on without reconnecting', async (t) => {
  const fake = new FakeConnect(4, [{ kind: 'serve', lines: (o) => (o === 2 ? [eventLine(2), '{"id":'] : undefined) }]);
  const { c } = client(fake);
  const { items } = await collect(c, countEvents(4));
  t.deepEqual(events(items), [1, 2, 3, 4]);
  t.is(items.filter((i) => i.kind === 'poison').length, 1);
  t.is(fake.requests.length, 1);
});

test('keep-alives are skipped and OFFSET_UPDATE is surfaced, never as an event', async (t) => {
  const update = '{"type":"OFFSET_UPDATE","offset":"40","id":"u","occurred":"2024-01-01T00:00:00.000Z","processed":"2024-01-01T00:00:00.000Z"}';
  const fake = new FakeConnect(2, [{ kind: 'serve', lines: (o) => (o === 1 ? ['', eventLine(1), '', update] : undefined) }]);
  const { c } = client(fake);
  const { items } = await collect(c, countEvents(2));
  t.deepEqual(
    items.filter((i) => i.kind !== 'connected').map((i) => (i.kind === 'event' ? `e${i.offset}` : i.kind === 'offsetUpdate' ? `u${i.offset}` : i.kind)),
    ['e1', 'u40', 'e2'],
  );
  t.is(c.counters().keepAlives, 2);
});

test('no complete line for idleTimeoutMs while waiting for data ⇒ reconnect', async (t) => {
  const fake = new FakeConnect(1, [{ kind: 'hang' }, { kind: 'serve' }]);
  const { c } = client(fake, { idleTimeoutMs: 50 });
  const started = Date.now();
  const { items } = await collect(c, countEvents(1));
  t.true(Date.now() - started >= 45);
  const r = items.find((i) => i.kind === 'reconnecting');
  t.is(r?.kind === 'reconnecting' && r.reason, 'idle_timeout');
  t.is(r?.kind === 'reconnecting' && r.error?.code, ErrorCode.connectIdleTimeout);
});

test('a slow caller is not idleness: holding an item longer than the idle timeout does not reconnect', async (t) => {
  const fake = new FakeConnect(3, [{ kind: 'serve', chunkSizes: [50] }]);
  const { c } = client(fake, { idleTimeoutMs: 100 });
  const ac = new AbortController();
  const got: number[] = [];
  for await (const item of c.stream(ac.signal)) {
    if (item.kind === 'reconnecting') t.fail(`reconnected: ${item.reason}`);
    if (item.kind !== 'event') continue;
    got.push(Number(item.offset));
    await new Promise((r) => setTimeout(r, 250));
    if (got.length === 3) ac.abort();
  }
  t.deepEqual(got, [1, 2, 3]);
});

test('events of a small chunk never pin the buffer behind it; a chunk that fills it is used in place', async (t) => {
  /** One identity-encoded body: `fill` bytes of event lines at the start of a 64 KiB buffer. */
  const eventsFrom = async (fill: number) => {
    const lines = [];
    for (let o = 1, size = 0; size < fill; o++) {
      const line = `${eventLine(o)}\n`;
      if (size + line.length > fill && o > 1) break;
      lines.push(line);
      size += line.length;
    }
    const backing = Buffer.alloc(64 * 1024);
    const used = backing.write(lines.join(''));
    const transport: ConnectTransport = {
      open: async () => ({ kind: 'stream', gzip: false, body: Readable.from([backing.subarray(0, used)], { objectMode: false }) }),
      close: async () => undefined,
    };
    const c = new ConnectClient(base, { transport, random: () => 0.5, sleep: async () => undefined });
    const { items } = await collect(c, countEvents(lines.length));
    return { backing, raws: items.flatMap((i) => (i.kind === 'event' ? [i.raw] : [])), lines };
  };
  const trickle = await eventsFrom(300);
  t.is(trickle.raws.length, 1);
  t.not(trickle.raws[0]!.buffer, trickle.backing.buffer);
  t.is(trickle.raws[0]!.toString(), trickle.lines[0]!.trimEnd());
  const busy = await eventsFrom(40 * 1024);
  t.true(busy.raws.length > 100);
  t.true(busy.raws.every((r) => r.buffer === busy.backing.buffer));
  t.deepEqual(busy.raws.map((r) => r.toString()), busy.lines.map((l) => l.trimEnd()));
});

test('a truncated gzip body reconnects as "truncated" and its partial tail is never parsed', async (t) => {
  const fake = new FakeConnect(20, [{ kind: 'serve', cutAtByte: 300, cut: 'truncate' }, { kind: 'serve' }]);
  const { c } = client(fake);
  const { items } = await collect(c, countEvents(20), (i) => i.kind === 'event' && c.confirm(i.offset));
  t.deepEqual(events(items), Array.from({ length: 20 }, (_, i) => i + 1));
  t.is(items.filter((i) => i.kind === 'poison').length, 0);
  t.is(c.counters().reconnects.truncated, 1);
  t.is(c.counters().partialTailsDiscarded, 1);
});

test('a stream that ends at once with nothing backs off instead of spinning', async (t) => {
  const fake = new FakeConnect(0, [{ kind: 'serve' }]);
  const { c, delays } = client(fake);
  await collect(c, (items) => items.filter((i) => i.kind === 'reconnecting').length >= 4);
  t.deepEqual(delays.slice(0, 4), [500, 1500, 4500, 13_500]);
});

test('confirm() ignores older offsets and refuses one past the last yielded event', async (t) => {
  const fake = new FakeConnect(3, [{ kind: 'serve' }]);
  const { c } = client(fake);
  await collect(c, countEvents(3));
  c.confirm('2');
  c.confirm('1');
  t.is(c.confirmedOffset, '2');
  t.throws(() => c.confirm('4'), { instanceOf: TributaryError, message: /past the last yielded/ });
  t.throws(() => c.confirm('x'), { instanceOf: TributaryError });
});

test('stream() returns quietly when aborted, and a second concurrent stream() is refused', async (t) => {
  const fake = new FakeConnect(1, [{ kind: 'hang' }]);
  const { c } = client(fake, { idleTimeoutMs: 60_000 });
  const ac = new AbortController();
  const it = c.stream(ac.signal);
  t.is((await it.next()).value?.kind, 'connected');
  await t.throwsAsync(c.stream().next(), { instanceOf: TributaryError, message: /already running/ });
  const pending = it.next();
  ac.abort();
  t.true((await pending).done);
});

test('the token is not among the visible options', (t) => {
  const { c } = client(new FakeConnect(0, [{ kind: 'serve' }]));
  t.false(JSON.stringify(c.options).includes('tok"'));
  t.false('token' in c.options);
});

test('a body closed before its end reconnects as a network failure, after the events that arrived before it', async (t) => {
  const transport = await cutOnceTransport();
  const c = new ConnectClient(base, { transport, random: () => 0.5, sleep: async () => undefined });
  const { items, error } = await collect(c, (seen) => seen.filter((i) => i.kind === 'reconnecting').length >= 2, (i) => i.kind === 'event' && c.confirm(i.offset));
  t.is(error, undefined);
  t.deepEqual(events(items), [1, 2, 3, 4, 5]);
  const reasons = items.flatMap((i) => (i.kind === 'reconnecting' ? [i.reason] : []));
  t.deepEqual(reasons, ['network', 'ended']);
  const first = items.find((i) => i.kind === 'reconnecting');
  t.regex(first?.kind === 'reconnecting' ? (first.error?.message ?? '') : '', /closed before its end/);
});

test('one large network chunk is inflated a slice at a time as the caller pulls, in order and complete', async (t) => {
  // Incompressible bodies: 300 events of ~1 KiB compress to about as much, one 300 KiB chunk.
  const noise = (o: number) => eventLine(o, { body: { name: 'x', value: o, noise: randomBytes(700).toString('base64') } });
  const lines = Array.from({ length: 300 }, (_, i) => noise(i + 1));
  const gz = await gzipFlushed(lines);
  t.true(gz.length > 200 * 1024);
  let opens = 0;
  const transport: ConnectTransport = {
    open: async () => {
      opens++;
      return { kind: 'stream', gzip: true, body: Readable.from([gz], { objectMode: false }) };
    },
    close: async () => undefined,
  };
  const c = new ConnectClient(base, { transport, random: () => 0.5, sleep: async () => undefined });
  const ac = new AbortController();
  const batches: number[] = [];
  const seen: number[] = [];
  for await (const batch of c.batches(ac.signal)) {
    const evs = batch.flatMap((i) => (i.kind === 'event' ? [Number(i.offset)] : []));
    if (evs.length > 0) batches.push(evs.length);
    seen.push(...evs);
    if (seen.length >= 300) ac.abort();
  }
  t.deepEqual(seen, Array.from({ length: 300 }, (_, i) => i + 1));
  t.is(opens, 1);
  // ≤ 16 KiB of compressed input per pull: a few dozen events each, never the whole chunk at once.
  t.true(batches.length >= 10, `batches: ${batches.join(',')}`);
  t.true(Math.max(...batches) <= 40, `batches: ${batches.join(',')}`);
});
