// Every fault knob of the emulator, observed from a plain HTTP client: clean closes, truncated
// and corrupt gzip, malformed and over-long lines, duplicates, error statuses, redirects, trickling.
import test from 'ava';
import { startConnectEmulator, type ConnectEmulator, type EmulatorInput, type FaultInput } from '../../../src/connect/emulator/index.js';
import { events, post, sendJson } from './emulator-http.js';

async function emulator(t: { teardown(fn: () => Promise<void>): void }, input: EmulatorInput): Promise<ConnectEmulator> {
  const e = await startConnectEmulator(input);
  t.teardown(() => e.close());
  return e;
}

const auth = { appKey: 'app', token: 'tok' };
const finite = (n: number, faults?: FaultInput) => ({
  apps: [{ key: 'app', token: 'tok', rate: 'max' as const, totalEvents: n }],
  keepAliveMs: 100,
  ...(faults ? { faults: { app: faults } } : {}),
});

test('closeAfterEvents ends the stream cleanly after N events; the served record holds exactly those', async (t) => {
  const e = await emulator(t, finite(20, { closeAfterEvents: 5 }));
  const r = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  await r.done;
  t.true(r.ended);
  t.is(r.gunzipError, undefined);
  const got = events(r.lines);
  t.is(got.length, 5);
  t.deepEqual(e.served('app').map((s) => s.offset), got.map((ev) => ev.offset));
  // Resuming from the last offset continues without loss (the fault applies per stream).
  const next = await post(e.url, { ...auth, body: { resume_offset: got.at(-1)!.offset } });
  await next.done;
  t.deepEqual(events(next.lines).map((ev) => ev.offset), ['1000005', '1000006', '1000007', '1000008', '1000009']);
});

test('closeAfterMs ends the stream cleanly after T', async (t) => {
  const e = await emulator(t, finite(0, { closeAfterMs: 300 }));
  const started = Date.now();
  const r = await post(e.url, { ...auth, body: {} });
  await r.done;
  const took = Date.now() - started;
  t.true(r.ended);
  t.true(took >= 250 && took < 2_000, `took ${took} ms`);
});

test('truncation: complete lines, then a gzip error, and the cut event is not recorded as served', async (t) => {
  const e = await emulator(t, finite(20, { truncateAfterEvents: 3 }));
  const r = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  await r.done;
  t.is(events(r.lines).length, 3);
  t.truthy(r.gunzipError);
  t.regex(String(r.gunzipError?.message), /unexpected end of file/);
  t.is(e.served('app').length, 3);

  e.setFault('app', { truncateAfterEvents: 2, truncateMode: 'reset' });
  const reset = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  await reset.done;
  t.is(events(reset.lines).length, 2);
  t.false(reset.ended);
});

test('corruption: complete lines, then an inflate error', async (t) => {
  const e = await emulator(t, finite(20, { corruptAfterEvents: 4 }));
  const r = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  await r.done;
  t.is(events(r.lines).length, 4);
  t.regex(String(r.gunzipError?.message), /invalid block type/);
  t.is(e.served('app').length, 4);
  // At zero events the corruption sits right after the gzip header.
  e.setFault('app', { corruptAfterEvents: 0 });
  const first = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  await first.done;
  t.is(first.lines.length, 0);
  t.truthy(first.gunzipError);
});

test('a malformed line is sent among good ones and the stream goes on', async (t) => {
  const e = await emulator(t, finite(5, { malformedLineAfterEvents: 2 }));
  const r = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  await r.until((l) => events(l).length === 5);
  r.close();
  t.is(r.lines[2], '{"id":');
  t.deepEqual(r.lines.slice(0, 6).map((l) => (l.startsWith('{"id":"') || l.startsWith('{"type"') ? 'event' : l)), ['event', 'event', '{"id":', 'event', 'event', 'event']);
});

test.serial('an over-long line of 64 MiB is streamed without a newline, then events resume', async (t) => {
  const bytes = 64 * 1024 * 1024;
  const e = await emulator(t, finite(3, { longLineAfterEvents: 1, longLineBytes: bytes }));
  const before = process.memoryUsage().rss;
  const r = await post(e.url, { ...auth, body: { start: 'EARLIEST' }, keepLinesUpTo: 100_000 });
  await r.until((l) => events(l).length === 3, 30_000);
  r.close();
  t.deepEqual(r.lineLengths.length >= 4 ? r.lineLengths[1] : undefined, bytes);
  t.is(r.lines[1], `<${bytes} chars>`);
  // Neither side held the line: the process grew less than the line's size. Serial, so the
  // file's other tests do not allocate beside it and blur the measure.
  const grew = process.memoryUsage().rss - before;
  t.log(`RSS grew by ${(grew / 1048576).toFixed(1)} MiB for a ${bytes / 1048576} MiB line`);
  t.true(grew < bytes, `rss grew by ${grew}`);
});

test('duplicates repeat an id with a new offset; out-of-order events occur long before they are processed', async (t) => {
  const e = await emulator(t, { ...finite(200), faults: { app: { duplicateProbability: 0.3, outOfOrderProbability: 0.2 } } });
  const r = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  await r.until((l) => events(l).length === 200);
  r.close();
  const got = events(r.lines);
  const byId = new Map<string, Record<string, string>[]>();
  for (const ev of got) byId.set(ev.id!, [...(byId.get(ev.id!) ?? []), ev]);
  const repeated = [...byId.values()].filter((v) => v.length > 1);
  t.true(repeated.length > 20, `${repeated.length} duplicated ids`);
  for (const group of repeated) {
    const [a, b] = group;
    t.not(a!.offset, b!.offset);
    t.deepEqual({ ...a, offset: '', processed: '' }, { ...b, offset: '', processed: '' });
  }
  const late = got.filter((ev) => Date.parse(ev.processed!) - Date.parse(ev.occurred!) >= 60_000);
  t.true(late.length > 10, `${late.length} out-of-order events`);
});

for (const code of [401, 402, 403, 429, 500, 503] as const) {
  test(`a ${code} status fault answers the next K requests, then streams resume`, async (t) => {
    const retry = code === 429 || code === 503;
    const e = await emulator(t, finite(2, { status: { code, count: 2, ...(retry ? { retryAfterSeconds: 7 } : {}) } }));
    for (let i = 0; i < 2; i++) {
      const r = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
      await r.done;
      t.is(r.status, code);
      t.is(r.headers['retry-after'], retry ? '7' : undefined);
      t.like(JSON.parse(r.text), { ok: false });
    }
    const ok = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
    t.is(ok.status, 200);
    await ok.until((l) => events(l).length === 2);
    ok.close();
  });
}

test('redirectForever answers 307 even when the cookie is echoed', async (t) => {
  const e = await emulator(t, finite(2, { redirectForever: true }));
  let cookie: string | undefined;
  for (let i = 0; i < 3; i++) {
    const r = await post(e.url, { ...auth, ...(cookie ? { cookie } : {}), body: {} });
    await r.done;
    t.is(r.status, 307);
    cookie = r.headers['set-cookie']![0]!.split(';')[0];
  }
});

test('trickle sends the body a byte at a time', async (t) => {
  const e = await emulator(t, finite(1, { trickle: { bytes: 1, everyMs: 2 } }));
  const r = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  await r.until((l) => events(l).length === 1, 10_000);
  r.close();
  t.true(r.rawChunks.length > 50, `${r.rawChunks.length} chunks`);
  t.true(r.rawChunks.every((n) => n <= 16), 'every chunk is tiny');
});

test('faults are set and cleared at run time through the admin API, for one app or every app', async (t) => {
  const e = await emulator(t, finite(50));
  const bad = await sendJson(`${e.url}/_admin/faults/app`, 'PUT', { closeAfterEvents: -1, nope: true });
  t.is(bad.status, 400);
  t.deepEqual((bad.json as { issues: { path: string }[] }).issues.map((i) => i.path).sort(), ['closeAfterEvents', 'nope']);

  t.is((await sendJson(`${e.url}/_admin/faults/*`, 'PUT', { closeAfterEvents: 2, connections: 1 })).status, 200);
  const once = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  await once.done;
  t.is(events(once.lines).length, 2);
  // `connections: 1` made the fault lapse after that stream.
  t.deepEqual(e.faults(), {});

  await sendJson(`${e.url}/_admin/faults/app`, 'PUT', { status: { code: 503, count: 5, retryAfterSeconds: 1 } });
  const refused = await post(e.url, { ...auth, body: {} });
  await refused.done;
  t.is(refused.status, 503);
  t.is((await sendJson(`${e.url}/_admin/faults`, 'DELETE')).status, 200);
  const ok = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  t.is(ok.status, 200);
  await ok.until((l) => events(l).length === 50);
  ok.close();
  const unknown = await sendJson(`${e.url}/_admin/faults/nope`, 'PUT', {});
  t.is(unknown.status, 404);
});

test('sessionMaxMs makes the server end every stream, and resuming loses nothing', async (t) => {
  const e = await emulator(t, { apps: [{ key: 'app', token: 'tok', size: 'large', rate: 400, totalEvents: 300, sessionMaxMs: 250 }], keepAliveMs: 100 });
  const received: Record<string, string>[] = [];
  let body: Record<string, unknown> = { start: 'EARLIEST' };
  const deadline = Date.now() + 8_000;
  while (received.length < 300 && Date.now() < deadline) {
    const r = await post(e.url, { ...auth, body });
    await r.done;
    t.true(r.ended);
    received.push(...events(r.lines));
    if (received.length > 0) body = { resume_offset: received.at(-1)!.offset };
  }
  t.is(received.length, 300);
  t.deepEqual(received.map((ev) => ev.id), e.events('app').map((ev) => ev.id));
  t.true((e.stats('app').streamEnds['session-max'] ?? 0) >= 2);
});
