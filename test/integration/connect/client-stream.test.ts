import test from 'ava';
import { LineParseThreads } from '../../../src/connect/client/index.js';
import { ErrorCode } from '../../../src/errors.js';
import { appKey, assertNothingLostNothingTwice, connectClient, emulator, hasEvents, poison, read, reconnects } from './client-harness.js';

test('streams every event of the app once, on one connection, with the exact served bytes', async (t) => {
  const emu = await emulator(t, { totalEvents: 3000 });
  const client = connectClient(t, emu);
  const r = await read(client, hasEvents(3000));
  t.is(r.error, undefined);
  assertNothingLostNothingTwice(t, emu, r, 3000);
  t.is(reconnects(r).length, 0);
  t.is(client.counters().connects, 1);
  t.is(emu.stats(appKey).responses['200'], 1);
});

test('resumes after the offset given as resumeOffset (exclusive), not from EARLIEST', async (t) => {
  const emu = await emulator(t, { initialEvents: 200, totalEvents: 200 });
  const all = emu.events(appKey);
  t.is(all.length, 200);
  const from = all[99]!.offset;
  const client = connectClient(t, emu, { resumeOffset: from });
  const r = await read(client, hasEvents(100));
  t.is(r.error, undefined);
  t.is(r.events[0]?.offset, all[100]!.offset);
  t.deepEqual(r.events.map((e) => e.offset), all.slice(100).map((e) => e.offset));
});

test('close after N events: reconnects from the confirmed offset, nothing lost, nothing twice', async (t) => {
  const emu = await emulator(t, { totalEvents: 1000 });
  emu.setFault(appKey, { closeAfterEvents: 150, connections: 4 });
  const client = connectClient(t, emu);
  const r = await read(client, hasEvents(1000));
  t.is(r.error, undefined);
  assertNothingLostNothingTwice(t, emu, r, 1000);
  t.deepEqual(reconnects(r).map((x) => x.reason), ['ended', 'ended', 'ended', 'ended']);
  t.deepEqual(reconnects(r).map((x) => x.delayMs), [0, 0, 0, 0], 'a healthy session that ends resumes at once');
  t.is(emu.stats(appKey).streamEnds['close-after-events'], 4);
  t.is(client.counters().duplicatesDropped, 0, 'confirming every event makes the resume exact');
});

test('a lagging confirmation resumes earlier: re-sent events are dropped, never yielded twice', async (t) => {
  const emu = await emulator(t, { totalEvents: 600 });
  emu.setFault(appKey, { closeAfterEvents: 100, connections: 3 });
  const client = connectClient(t, emu);
  // Confirm only every 40th event, as a batching source would.
  const r = await read(client, hasEvents(600), { confirm: (_e, n) => n % 40 === 0 });
  t.is(r.error, undefined);
  assertNothingLostNothingTwice(t, emu, r, 600);
  const c = client.counters();
  t.true(c.duplicatesDropped > 0);
  // Sessions end at 100, 200, 300 received events; the confirmed offsets then are the 80th, 160th
  // and 240th, so each of the three resumes re-sends 20 events the caller already has.
  t.is(c.duplicatesDropped, 20 + 20 + 20);
});

// Each inflated here, and on a parse thread from the first byte (connect.inflateMinBytes).
for (const onThread of [false, true]) {
  for (const mode of ['end', 'reset'] as const) {
    test(`truncated gzip (${mode}${onThread ? ', stream inflated on a thread' : ''}): the partial line is never parsed and the stream resumes`, async (t) => {
      const lineParser = onThread ? new LineParseThreads({ threads: 1, minLines: 1, inflateMinBytes: 1 }) : undefined;
      if (lineParser) t.teardown(() => lineParser.close());
      const emu = await emulator(t, { totalEvents: 800 });
      emu.setFault(appKey, { truncateAfterEvents: 300, truncateMode: mode, connections: 1 });
      const client = connectClient(t, emu, {}, lineParser ? { lineParser } : {});
      const r = await read(client, hasEvents(800));
      t.is(r.error, undefined);
      assertNothingLostNothingTwice(t, emu, r, 800);
      t.is(poison(r).length, 0, 'no fragment became a poison record');
      const reasons = reconnects(r).map((x) => x.reason);
      // `end` finishes HTTP cleanly with the gzip unfinished (zlib: Z_BUF_ERROR); `reset` kills the socket.
      t.deepEqual(reasons, mode === 'end' ? ['truncated'] : [reasons[0] === 'truncated' ? 'truncated' : 'network']);
      t.is(emu.stats(appKey).streamEnds.truncated, 1);
      if (lineParser) t.true(lineParser.stats().streamsOffThread >= 2, 'both sessions were inflated on the thread');
    });
  }
}

test('corrupt bytes: zlib error ⇒ reconnect from the confirmed offset, no crash, nothing lost', async (t) => {
  const emu = await emulator(t, { totalEvents: 700 });
  emu.setFault(appKey, { corruptAfterEvents: 250, connections: 1 });
  const client = connectClient(t, emu);
  const r = await read(client, hasEvents(700));
  t.is(r.error, undefined);
  assertNothingLostNothingTwice(t, emu, r, 700);
  const reasons = reconnects(r).map((x) => x.reason);
  t.is(reasons.length, 1);
  t.true(reasons[0] === 'corrupt' || reasons[0] === 'bad_lines', reasons[0]);
  t.is(reconnects(r)[0]?.error?.code, ErrorCode.connectStreamCorrupt);
  t.is(emu.stats(appKey).streamEnds.corrupted, 1);
});

test('a malformed line is one poison record with its raw text and offset context; the stream goes on', async (t) => {
  const emu = await emulator(t, { totalEvents: 400 });
  emu.setFault(appKey, { malformedLineAfterEvents: 120, malformedLine: '{"id":"broken', connections: 1 });
  const client = connectClient(t, emu);
  const r = await read(client, hasEvents(400));
  t.is(r.error, undefined);
  assertNothingLostNothingTwice(t, emu, r, 400);
  const p = poison(r);
  t.is(p.length, 1);
  t.is(p[0]?.raw.toString(), '{"id":"broken');
  t.is(p[0]?.code, ErrorCode.poisonLine);
  t.is(p[0]?.afterOffset, r.events[119]?.offset);
  t.is(reconnects(r).length, 0);
});

test('K consecutive bad lines drop the connection; the poison before it is carried', async (t) => {
  const emu = await emulator(t, { totalEvents: 300 });
  const client = connectClient(t, emu, { maxConsecutiveBadLines: 1 });
  emu.setFault(appKey, { malformedLineAfterEvents: 100, connections: 1 });
  const r = await read(client, hasEvents(300));
  t.is(r.error, undefined);
  assertNothingLostNothingTwice(t, emu, r, 300);
  t.is(poison(r).length, 1);
  t.deepEqual(reconnects(r).map((x) => x.reason), ['bad_lines']);
});

test('duplicates (same id, new offset) are all delivered once each by offset', async (t) => {
  const emu = await emulator(t, { totalEvents: 1500, duplicateProbability: 0.2 });
  const client = connectClient(t, emu);
  const r = await read(client, hasEvents(1500));
  t.is(r.error, undefined);
  assertNothingLostNothingTwice(t, emu, r, 1500);
  const ids = r.events.map((e) => e.event.id);
  const repeats = ids.length - new Set(ids).size;
  t.true(repeats > 0);
  t.is(repeats, emu.stats(appKey).duplicates, 'every duplicate the emulator generated reached the caller');
});

test('close after T ms (session end) resumes with no gap', async (t) => {
  const emu = await emulator(t, { rate: 2000, initialEvents: 0 });
  emu.setFault(appKey, { closeAfterMs: 300, connections: 3 });
  const client = connectClient(t, emu);
  const r = await read(client, (x) => reconnects(x).length >= 3 && x.events.length >= 3000, { timeoutMs: 20_000 });
  t.is(r.error, undefined);
  assertNothingLostNothingTwice(t, emu, r);
  t.deepEqual(reconnects(r).slice(0, 3).map((x) => x.reason), ['ended', 'ended', 'ended']);
});

// Timing-sensitive tests run serially, before the busy concurrent ones share the event loop.
test.serial('slow trickle: no complete line within the idle timeout ⇒ reconnect, then the stream recovers', async (t) => {
  const emu = await emulator(t, { totalEvents: 200 });
  emu.setFault(appKey, { trickle: { bytes: 1, everyMs: 100 }, connections: 1 });
  const client = connectClient(t, emu, { idleTimeoutMs: 500 });
  const r = await read(client, hasEvents(200));
  t.is(r.error, undefined);
  assertNothingLostNothingTwice(t, emu, r, 200);
  t.deepEqual(reconnects(r).map((x) => x.reason), ['idle_timeout']);
  t.is(reconnects(r)[0]?.error?.code, ErrorCode.connectIdleTimeout);
  // Recovered within the idle timeout + the first backoff (≤ 20 ms) + the time to read 200 events.
  t.true(r.elapsedMs < 500 + 2500, `took ${r.elapsedMs} ms`);
});

test.serial('keep-alives alone keep an idle stream open: no idle reconnect', async (t) => {
  const emu = await emulator(t, { totalEvents: 0 }, { keepAliveMs: 100 });
  // Ten keep-alive intervals of idle timeout: a pause of the shared event loop (GC, the JVMs on the CPUs) is not idleness.
  const client = connectClient(t, emu, { idleTimeoutMs: 1_000 });
  const r = await read(client, () => false, { forMs: 2_500 });
  t.is(r.error, undefined);
  t.true(client.counters().keepAlives >= 8, `${client.counters().keepAlives} keep-alives`);
  t.is(reconnects(r).length, 0);
  t.is(client.counters().connects, 1);
});

test('OFFSET_UPDATE is surfaced separately and never confirmed as a checkpoint', async (t) => {
  const emu = await emulator(t, { totalEvents: 50 }, { keepAliveMs: 100 });
  const client = connectClient(t, emu, { enableOffsetUpdates: true });
  const r = await read(client, (x) => x.items.some((i) => i.kind === 'offsetUpdate'), { timeoutMs: 5_000 });
  t.is(r.error, undefined);
  t.is(r.events.length, 50);
  const update = r.items.find((i) => i.kind === 'offsetUpdate');
  t.is(update?.kind === 'offsetUpdate' ? update.offset : undefined, r.events.at(-1)?.offset);
  t.is(client.confirmedOffset, r.events.at(-1)?.offset);
});
