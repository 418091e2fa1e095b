// The emulator's wire protocol seen from a plain HTTP client: auth, validation, start/resume,
// filters, subsets, keep-alives, offset updates, per-line gzip flushing, affinity, 402/403.
import { request } from 'node:http';
import test from 'ava';
import { startConnectEmulator, type ConnectEmulator, type EmulatorInput } from '../../../src/connect/emulator/index.js';
import { envelopeProblem } from '../../../src/connect/event.js';
import { events, getJson, post } from './emulator-http.js';

async function emulator(t: { teardown(fn: () => Promise<void>): void }, input: EmulatorInput): Promise<ConnectEmulator> {
  const e = await startConnectEmulator(input);
  t.teardown(() => e.close());
  return e;
}

/**
 * Reads a stream until the emulator reports (OFFSET_UPDATE) that it considered the app's last
 * offset: by then every matching event was sent. Returns the events, updates excluded.
 */
async function readAll(e: ConnectEmulator, body: Record<string, unknown>, o: Record<string, unknown> = {}) {
  const r = await post(e.url, { ...auth, ...o, body: { ...body, enable_offset_updates: true } });
  if (r.status !== 200) throw new Error(`status ${r.status}: ${r.text}`);
  const last = e.lastOffset('app');
  await r.until((l) => events(l).some((ev) => ev.type === 'OFFSET_UPDATE' && ev.offset === last));
  r.close();
  return events(r.lines).filter((ev) => ev.type !== 'OFFSET_UPDATE');
}

const finite = (n: number, extra: Record<string, unknown> = {}) => ({ key: 'app', token: 'tok', rate: 'max' as const, totalEvents: n, ...extra });
const auth = { appKey: 'app', token: 'tok' };

test('answers 401 with a JSON error for a missing, wrong or unknown credential', async (t) => {
  const e = await emulator(t, { apps: [finite(3)] });
  for (const o of [{}, { appKey: 'app' }, { appKey: 'app', token: 'nope' }, { appKey: 'other', token: 'tok' }, { appKey: 'app', authorization: 'Basic YXBwOnRvaw==' }]) {
    const r = await post(e.url, { ...o, body: { start: 'EARLIEST' } });
    await r.done;
    t.is(r.status, 401, JSON.stringify(o));
    const body = JSON.parse(r.text) as { ok: boolean; error: string; error_code: number };
    t.false(body.ok);
    t.is(typeof body.error, 'string');
    t.is(typeof body.error_code, 'number');
  }
});

test('rejects bad bodies with 400 naming the problem', async (t) => {
  const e = await emulator(t, { apps: [finite(3)] });
  const cases: [string, string, RegExp][] = [
    ['{"start":"EARLIEST","bogus":1}', 'bogus', /Unexpected attribute/],
    ['{"filters":[]}', 'filters', /Empty array/],
    ['{"filters":[{"types":[]}]}', 'filters.0.types', /Empty array/],
    ['{"filters":[{"types":["OPEN"],"colour":"red"}]}', 'filters.0.colour', /Unexpected attribute/],
    ['{"start":"EARLIEST","resume_offset":"10"}', 'start', /mutually exclusive/],
    ['{"start":', '', /parse/],
    ['{"start":"YESTERDAY"}', 'start', /Invalid value/],
    ['{"subset":{"type":"PARTITION","count":2,"selection":2}}', 'subset.selection', /Invalid value/],
  ];
  for (const [rawBody, path, error] of cases) {
    const r = await post(e.url, { ...auth, rawBody });
    await r.done;
    t.is(r.status, 400, rawBody);
    const body = JSON.parse(r.text) as { ok: boolean; error: string; details: { path: string } };
    t.false(body.ok);
    t.regex(body.error, error, rawBody);
    t.is(body.details.path, path, rawBody);
  }
});

test('serves both paths, needs no Content-Type, accepts each client\'s Accept and refuses another version', async (t) => {
  const e = await emulator(t, { apps: [finite(2)] });
  const accepts = [
    'application/vnd.urbanairship+x-ndjson; version=3;',
    'application/vnd.urbanairship+x-ndjson;version=3;',
    'application/vnd.urbanairship+x-ndjson; version=3',
    'application/vnd.urbanairship+x-json, application/vnd.urbanairship+x-ndjson;version=3;',
    null,
  ];
  for (const [i, accept] of accepts.entries()) {
    const r = await post(e.url, { ...auth, accept, path: i % 2 ? '/api/events/' : '/api/events', body: { start: 'EARLIEST' } });
    t.is(r.status, 200, String(accept));
    await r.until((l) => events(l).length === 2);
    r.close();
  }
  const v2 = await post(e.url, { ...auth, accept: 'application/vnd.urbanairship+x-ndjson; version=2;' });
  t.is(v2.status, 406);
  const get = await post(e.url, { ...auth, method: 'GET', rawBody: '' });
  t.is(get.status, 405);
  const other = await post(e.url, { ...auth, path: '/api/other' });
  t.is(other.status, 404);
});

test('streams every event from EARLIEST as gzip NDJSON with strictly increasing offsets, matching the served record', async (t) => {
  const e = await emulator(t, { apps: [finite(500)] });
  const r = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  t.is(r.status, 200);
  t.is(r.headers['content-encoding'], 'gzip');
  t.is(r.headers['content-type'], 'application/vnd.urbanairship+x-ndjson');
  t.is(r.headers['transfer-encoding'], 'chunked');
  await r.until((l) => events(l).length === 500);
  r.close();
  const got = events(r.lines);
  for (const ev of got) t.is(envelopeProblem(ev), undefined);
  for (let i = 1; i < got.length; i++) t.true(BigInt(got[i]!.offset!) > BigInt(got[i - 1]!.offset!));
  t.true(r.lines.every((l) => !l.includes('\r')));
  t.deepEqual(
    e.served('app').map((s) => [s.id, s.offset, s.type]),
    got.map((ev) => [ev.id, ev.offset, ev.type]),
  );
  t.is(e.lastOffset('app'), got.at(-1)!.offset);
});

test('LATEST sends only events added after the request, and EARLIEST starts at the oldest retained', async (t) => {
  const e = await emulator(t, { apps: [finite(30, { retainEvents: 10 })], keepAliveMs: 200 });
  // Fill the log, then: retained = the newest 10.
  const fill = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  await fill.until((l) => events(l).length === 10);
  fill.close();
  const earliest = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  await earliest.until((l) => events(l).length >= 10);
  const first = events(earliest.lines)[0]!;
  t.is(first.offset, String(1_000_000 + 20));
  earliest.close();

  const latest = await post(e.url, { ...auth, body: { start: 'LATEST' } });
  await latest.until((l) => l.length >= 1); // a keep-alive: the stream is live
  const [appended] = e.append('app', [{ type: 'CUSTOM', body: { name: 'after' } }]);
  await latest.until((l) => events(l).length === 1);
  t.deepEqual(events(latest.lines).map((ev) => ev.id), [appended!.id]);
  latest.close();
});

test('resume_offset is exclusive', async (t) => {
  const e = await emulator(t, { apps: [finite(20)] });
  const r = await post(e.url, { ...auth, body: { resume_offset: '1000004' } });
  await r.until((l) => events(l).length === 15);
  r.close();
  t.is(events(r.lines)[0]!.offset, '1000005');
  const numeric = await post(e.url, { ...auth, body: { resume_offset: 1_000_018 } });
  await numeric.until((l) => events(l).length === 1);
  numeric.close();
  t.is(events(numeric.lines)[0]!.offset, '1000019');
});

test('filters OR across objects and AND within one; offsets still advance past what they drop', async (t) => {
  const e = await emulator(t, { apps: [finite(0)], keepAliveMs: 50 });
  const t0 = Date.parse('2024-01-01T00:00:00.000Z');
  const iso = (ms: number) => new Date(ms).toISOString();
  const appended = e.append('app', [
    { type: 'OPEN', device: { ios_channel: 'c-ios', channel: 'c-ios', device_type: 'IOS' }, body: { session_id: 's' } },
    { type: 'OPEN', device: { android_channel: 'c-and', channel: 'c-and', device_type: 'ANDROID', named_user_id: 'nu' } },
    { type: 'SEND', device: { channel: 'c-web', device_type: 'WEB' }, body: { push_id: 'p1', group_id: 'g1' } },
    { type: 'CUSTOM', device: { channel: 'c-sms', device_type: 'SMS' }, body: { name: 'x', triggering_push: { push_id: 'p2' } } },
    { type: 'TAG_CHANGE', device: { amazon_channel: 'c-amz' }, occurred: iso(t0), processed: iso(t0 + 60_000) },
    { type: 'CUSTOM', device: { channel: 'c-email', device_type: 'EMAIL' }, occurred: iso(t0), processed: iso(t0 + 500), body: { name: 'purchase', value: 12 } },
  ]);
  const offsets = async (filters: unknown) =>
    (await readAll(e, { start: 'EARLIEST', filters })).map((ev) => Number(ev.offset) - Number(appended[0]!.offset));
  t.deepEqual(await offsets([{ types: ['OPEN'] }]), [0, 1]);
  t.deepEqual(await offsets([{ types: ['OPEN'], device_types: ['android'] }]), [1]);
  t.deepEqual(await offsets([{ types: ['OPEN'], device_types: ['android'] }, { device_types: ['web', 'amazon'] }]), [1, 2, 4]);
  t.deepEqual(await offsets([{ devices: [{ channel: 'c-sms' }, { named_user_id: 'nu' }, { ios_channel: 'c-ios' }] }]), [0, 1, 3]);
  t.deepEqual(await offsets([{ notifications: { push_id: 'p2' } }]), [3]);
  t.deepEqual(await offsets([{ notifications: [{ group_id: 'g1' }, { push_id: 'p2' }] }]), [2, 3]);
  t.deepEqual(await offsets([{ latency: 1_000, types: ['TAG_CHANGE', 'CUSTOM'] }]), [3, 5]);
  t.deepEqual(await offsets([{ predicates: [{ and: [{ key: 'type', value: { equals: 'CUSTOM' } }, { scope: 'body', key: 'value', value: { at_least: 10 } }] }] }]), [5]);
});

test('PARTITION subsets split the stream by id without overlap; SAMPLE keeps about its proportion', async (t) => {
  const e = await emulator(t, { apps: [finite(400)], keepAliveMs: 50 });
  e.events('app'); // produce the 400 events up front, so lastOffset is final
  const read = async (subset: unknown) => (await readAll(e, { start: 'EARLIEST', subset })).map((ev) => ev.id!);
  const parts = [await read({ type: 'PARTITION', count: 3, selection: 0 }), await read({ type: 'PARTITION', count: 3, selection: 1 }), await read({ type: 'PARTITION', count: 3, selection: 2 })];
  const all = e.events('app').map((ev) => ev.id);
  t.is(parts.flat().length, 400);
  t.deepEqual([...parts.flat()].sort(), [...all].sort());
  for (const p of parts) t.true(p.length > 60, `partition of ${p.length}`);
  const sample = await read({ type: 'SAMPLE', proportion: 0.25 });
  t.true(sample.length > 50 && sample.length < 150, `sample of ${sample.length}`);
});

test('sends blank keep-alives when idle, or OFFSET_UPDATE lines with the last considered offset when asked', async (t) => {
  const e = await emulator(t, { apps: [finite(5)], keepAliveMs: 200 });
  const started = Date.now();
  const plain = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  await plain.until((l) => l.filter((x) => x === '').length >= 2);
  plain.close();
  t.true(Date.now() - started < 10_000, 'keep-alives every 200 ms: two within seconds even on a loaded machine');
  t.is(events(plain.lines).length, 5);

  const updates = await post(e.url, { ...auth, body: { start: 'EARLIEST', enable_offset_updates: true, filters: [{ types: ['NO_SUCH_TYPE'] }] } });
  await updates.until((l) => l.length >= 2);
  updates.close();
  t.false(updates.lines.includes(''));
  for (const line of updates.lines) {
    const u = JSON.parse(line) as Record<string, string>;
    t.is(u.type, 'OFFSET_UPDATE');
    t.is(u.offset, '1000004');
    t.is(typeof u.id, 'string');
    t.is(u.occurred, u.processed);
    t.is(u.body, undefined);
  }
});

test('flushes gzip per line: one event is readable while the stream stays open', async (t) => {
  const e = await emulator(t, { apps: [finite(0)], keepAliveMs: 60_000 });
  const r = await post(e.url, { ...auth, body: { start: 'LATEST' } });
  await new Promise((res) => setTimeout(res, 100));
  const [ev] = e.append('app', [{ type: 'CUSTOM', body: { name: 'one' } }]);
  await r.until((l) => l.length === 1);
  t.false(r.ended);
  t.is(JSON.parse(r.lines[0]!).id, ev!.id);
  r.close();
});

test('affinity: 307 with an SRV cookie and no Location, then 200 once the cookie is echoed', async (t) => {
  const e = await emulator(t, { apps: [finite(3, { affinity: true })] });
  const first = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  await first.done;
  t.is(first.status, 307);
  t.is(first.headers.location, undefined);
  t.is(first.headers['content-length'], '0');
  const setCookie = first.headers['set-cookie']![0]!;
  t.regex(setCookie, /^SRV=[^;]+; Path=\/$/);
  const wrong = await post(e.url, { ...auth, cookie: 'SRV=forged', body: { start: 'EARLIEST' } });
  t.is(wrong.status, 307);
  // The Node client echoes the raw Set-Cookie, attributes included.
  const second = await post(e.url, { ...auth, cookie: setCookie, body: { start: 'EARLIEST' } });
  t.is(second.status, 200);
  await second.until((l) => events(l).length === 3);
  second.close();
});

test('402 above maxConnections and 403 for types the app is not entitled to', async (t) => {
  const e = await emulator(t, { apps: [finite(3, { maxConnections: 1, notEntitledTypes: ['TAG_CHANGE'] })] });
  const one = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  t.is(one.status, 200);
  const two = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  await two.done;
  t.is(two.status, 402);
  one.close();
  await new Promise((res) => setTimeout(res, 100));
  const forbidden = await post(e.url, { ...auth, body: { filters: [{ types: ['OPEN', 'TAG_CHANGE', 'COMPLIANCE'] }] } });
  await forbidden.done;
  t.is(forbidden.status, 403);
  t.regex(JSON.parse(forbidden.text).error as string, /not entitled TAG_CHANGE,COMPLIANCE/);
  const again = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  t.is(again.status, 200);
  again.close();
});

test('the compliance stream takes Basic key:masterSecret and serves only COMPLIANCE events', async (t) => {
  const e = await emulator(t, { apps: [finite(300, { masterSecret: 'ms', eventTypes: ['COMPLIANCE', 'OPEN', 'SEND'] })], keepAliveMs: 50 });
  e.events('app');
  const basic = `Basic ${Buffer.from('app:ms').toString('base64')}`;
  const bearer = await post(e.url, { ...auth, path: '/api/events/general', body: { start: 'EARLIEST' } });
  t.is(bearer.status, 401);
  const got = await readAll(e, { start: 'EARLIEST' }, { authorization: basic, path: '/api/events/general' });
  const expected = e.events('app').filter((ev) => ev.type === 'COMPLIANCE').map((ev) => ev.id);
  t.true(expected.length > 0);
  t.deepEqual(got.map((ev) => ev.id), expected);
  const main = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  await main.until((l) => events(l).length === 300 - expected.length);
  main.close();
  t.false(events(main.lines).some((ev) => ev.type === 'COMPLIANCE'));
});

test('a rate-driven app produces events over time on a LATEST stream', async (t) => {
  const e = await emulator(t, { apps: [{ key: 'app', token: 'tok', size: 'large', rate: 500 }] });
  const r = await post(e.url, { ...auth, body: { start: 'LATEST' } });
  await r.until((l) => events(l).length >= 100);
  r.close();
  const got = events(r.lines);
  for (let i = 1; i < got.length; i++) t.is(BigInt(got[i]!.offset!), BigInt(got[i - 1]!.offset!) + 1n);
});

test('cacheBatches: a later stream gets the first one\'s compressed batches, each body a whole gzip member with the same lines', async (t) => {
  // Streams end after 5 s (sessionMaxMs; the 3,000 events must be out by then on a loaded machine):
  // the gzip trailer's CRC-32 and length are checked by the reader's gunzip.
  const e = await emulator(t, { apps: [finite(3_000, { cacheBatches: true, eventBytes: 1024, sessionMaxMs: 5_000 })], gzipLevel: 1 });
  const whole = async (body: Record<string, unknown>) => {
    const r = await post(e.url, { ...auth, body });
    t.is(r.status, 200);
    await r.done;
    t.is(r.gunzipError, undefined);
    t.true(r.ended, 'the gzip member finished cleanly');
    return r.lines.filter((l) => l !== '');
  };
  const first = await whole({ start: 'EARLIEST' });
  t.is(first.length, 3_000);
  const cachedAfterFirst = e.stats('app').batchesCached;
  t.true(cachedAfterFirst > 1, `3,000 events (CUSTOM ones padded to ~1 KB) are several batches of ≤ 512 lines and 256 KiB (${cachedAfterFirst})`);
  t.is(e.stats('app').batchesFromCache, 0);

  const second = await whole({ start: 'EARLIEST' });
  t.deepEqual(second, first);
  t.like(e.stats('app'), { batchesCached: cachedAfterFirst, batchesFromCache: cachedAfterFirst });

  // A resume inside a cached batch: that batch's tail is compressed for this stream, then cached
  // batches follow; the lines are the same as the first stream's from there.
  const resumeAt = JSON.parse(first[100]!) as { offset: string };
  const resumed = await whole({ resume_offset: resumeAt.offset });
  t.deepEqual(resumed, first.slice(101));
  t.true(e.stats('app').batchesFromCache > cachedAfterFirst);

  // A filtered stream never gets a cached batch holding events it filters out.
  const types = new Set(first.map((l) => (JSON.parse(l) as { type: string }).type));
  t.true(types.size > 1, 'the app has more than one event type');
  const one = [...types][0]!;
  const filtered = await whole({ start: 'EARLIEST', filters: [{ types: [one] }] });
  t.deepEqual(filtered, first.filter((l) => (JSON.parse(l) as { type: string }).type === one));
});

test('the admin API reports stats and the served record', async (t) => {
  const e = await emulator(t, { apps: [finite(7)] });
  const r = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  await r.until((l) => events(l).length === 7);
  r.close();
  const apps = (await getJson(`${e.url}/_admin/apps`)) as { apps: { key: string; served: number; generated: number; connections: { total: number } }[] };
  t.like(apps.apps[0], { key: 'app', served: 7, generated: 7, connections: { total: 1 } });
  const served = (await getJson(`${e.url}/_admin/apps/app/served?afterOffset=1000004`)) as { total: number; events: { offset: string }[] };
  t.is(served.total, 7);
  t.deepEqual(served.events.map((s) => s.offset), ['1000005', '1000006']);
  const missing = await fetch(`${e.url}/_admin/apps/nope/served`);
  t.is(missing.status, 404);
});

test('admin generate turns a quiet app busy at once: an open stream gets the burst', async (t) => {
  const e = await emulator(t, { apps: [finite(0, { retainEvents: 10_000 })], keepAliveMs: 60_000 });
  const r = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  t.is(r.status, 200);
  const burst = await fetch(`${e.url}/_admin/apps/app/generate`, { method: 'POST', body: JSON.stringify({ count: 2_500 }) });
  t.is(burst.status, 200);
  t.like(await burst.json(), { ok: true, count: 2_500, firstOffset: '1000000', lastOffset: '1002499' });
  await r.until((l) => events(l).length === 2_500);
  r.close();
  t.is(events(r.lines).at(-1)!.offset, '1002499');
  t.like(e.stats('app'), { generated: 2_500 });
});

test('admin generate refuses a bad count or an unknown app with a clear error, and makes nothing', async (t) => {
  const e = await emulator(t, { apps: [finite(0)] });
  for (const body of ['{}', '{"count":0}', '{"count":-1}', '{"count":1.5}', '{"count":"10"}', '{"count":1000001}', 'null', '[5]']) {
    const r = await fetch(`${e.url}/_admin/apps/app/generate`, { method: 'POST', body });
    t.is(r.status, 400, body);
    t.regex(((await r.json()) as { error: string }).error, /count/, body);
  }
  const bad = await fetch(`${e.url}/_admin/apps/app/generate`, { method: 'POST', body: '{"count":' });
  t.is(bad.status, 400);
  const missing = await fetch(`${e.url}/_admin/apps/nope/generate`, { method: 'POST', body: '{"count":1}' });
  t.is(missing.status, 404);
  t.like(e.stats('app'), { generated: 0, retained: 0 });
});

test('admin generate with hold makes a burst ahead; release sends it to an open stream at once', async (t) => {
  const e = await emulator(t, { apps: [finite(0, { retainEvents: 10_000 })], keepAliveMs: 60_000 });
  const r = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  t.is(r.status, 200);
  const held = await fetch(`${e.url}/_admin/apps/app/generate`, { method: 'POST', body: JSON.stringify({ count: 2_000, hold: true }) });
  t.is(held.status, 200);
  t.like(await held.json(), { ok: true, count: 2_000, held: 2_000 });
  t.like(e.stats('app'), { held: 2_000, retained: 0, generated: 2_000 });
  const before = Date.now();
  const released = await fetch(`${e.url}/_admin/apps/app/release`, { method: 'POST' });
  t.is(released.status, 200);
  t.like(await released.json(), { ok: true, count: 2_000, firstOffset: '1000000', lastOffset: '1001999' });
  await r.until((l) => events(l).length === 2_000);
  r.close();
  const got = events(r.lines);
  t.is(got.at(-1)!.offset, '1001999');
  // `processed` is the release, not the generation.
  t.true(got.every((ev) => Date.parse(ev.processed ?? '') >= before - 1));
  t.like(e.stats('app'), { held: 0, retained: 2_000 });
  const again = await fetch(`${e.url}/_admin/apps/app/release`, { method: 'POST' });
  t.deepEqual(await again.json(), { ok: true, count: 0 });
});

test('admin release at a later time: nothing before it, then the burst stamped with it, from batches compressed ahead', async (t) => {
  const e = await emulator(t, { apps: [finite(0, { retainEvents: 10_000, cacheBatches: true, eventBytes: 1024 })], keepAliveMs: 60_000, gzipLevel: 1 });
  const r = await post(e.url, { ...auth, body: { start: 'EARLIEST' } });
  t.is(r.status, 200);
  await fetch(`${e.url}/_admin/apps/app/generate`, { method: 'POST', body: JSON.stringify({ count: 3_000, hold: true }) });
  // Far enough ahead that compressing the burst (in this process, beside the file's other tests) ends before it.
  const at = Date.now() + 4_000;
  const released = await fetch(`${e.url}/_admin/apps/app/release`, { method: 'POST', body: JSON.stringify({ at }) });
  t.is(released.status, 200);
  const answer = (await released.json()) as { count: number; firstOffset: string; lastOffset: string; at: number; releaseAt: number; prepareMs: number };
  t.like(answer, { ok: true, count: 3_000, firstOffset: '1000000', lastOffset: '1002999', at });
  t.true(answer.releaseAt >= at && answer.prepareMs >= 0);
  const cached = e.stats('app').batchesCached;
  t.true(cached > 1, `3,000 events of ~1 KB are several batches, compressed at the release call (${cached})`);
  t.like(e.stats('app'), { held: 0, retained: 0 });
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now() - 300)));
  t.is(events(r.lines).length, 0, 'nothing goes out before the release time');
  await r.until((l) => events(l).length === 3_000);
  r.close();
  const got = events(r.lines);
  t.true(Date.now() >= answer.releaseAt);
  t.deepEqual(got.map((ev) => ev.offset), Array.from({ length: 3_000 }, (_, i) => String(1_000_000 + i)));
  t.true(got.every((ev) => ev.processed === new Date(at).toISOString()));
  t.like(e.stats('app'), { retained: 3_000, batchesCached: cached, batchesFromCache: cached });
});

test('admin release refuses a bad release time with a clear error, and releases nothing', async (t) => {
  const e = await emulator(t, { apps: [finite(0)] });
  await fetch(`${e.url}/_admin/apps/app/generate`, { method: 'POST', body: '{"count":3,"hold":true}' });
  for (const body of ['{"at":"soon"}', '{"at":-1}', '{"at":1.5}', '{"at":null}', `{"at":${Date.now() + 3_600_000}}`]) {
    const r = await fetch(`${e.url}/_admin/apps/app/release`, { method: 'POST', body });
    t.is(r.status, 400, body);
    t.regex(((await r.json()) as { error: string }).error, /"at"/, body);
  }
  const broken = await fetch(`${e.url}/_admin/apps/app/release`, { method: 'POST', body: '{"at":' });
  t.is(broken.status, 400);
  t.like(e.stats('app'), { held: 3, retained: 0 });
  // A time already past releases at once, stamped now.
  const before = Date.now();
  const past = await fetch(`${e.url}/_admin/apps/app/release`, { method: 'POST', body: JSON.stringify({ at: before - 60_000 }) });
  t.like(await past.json(), { ok: true, count: 3 });
  t.true(e.events('app').every((ev) => Date.parse(ev.processed!) >= before - 1));
});

test('admin release of several apps at a later time: all go out together, stamped with it', async (t) => {
  const apps = [finite(0, { key: 'one', token: 'tok1', retainEvents: 10_000, cacheBatches: true, eventBytes: 1024 }), finite(0, { key: 'two', token: 'tok2', retainEvents: 10_000 })];
  const e = await emulator(t, { apps, keepAliveMs: 60_000, gzipLevel: 1 });
  const one = await post(e.url, { appKey: 'one', token: 'tok1', body: { start: 'EARLIEST' } });
  const two = await post(e.url, { appKey: 'two', token: 'tok2', body: { start: 'EARLIEST' } });
  for (const [key, count] of [['one', 2_000], ['two', 500]] as const) {
    await fetch(`${e.url}/_admin/apps/${key}/generate`, { method: 'POST', body: JSON.stringify({ count, hold: true }) });
  }
  const at = Date.now() + 1_500;
  const r = await fetch(`${e.url}/_admin/release`, { method: 'POST', body: JSON.stringify({ apps: ['one', 'two'], at }) });
  t.is(r.status, 200);
  const answer = (await r.json()) as { releaseAt: number };
  t.like(answer, { ok: true, at, apps: { one: { count: 2_000, firstOffset: '1000000', lastOffset: '1001999' }, two: { count: 500, firstOffset: '1000000', lastOffset: '1000499' } } });
  t.true(e.stats('one').batchesCached > 1, 'the cacheBatches app is compressed ahead');
  t.is(e.stats('two').batchesCached, 0, 'the other is not');
  await one.until((l) => events(l).length === 2_000);
  await two.until((l) => events(l).length === 500);
  t.true(Date.now() >= answer.releaseAt);
  one.close();
  two.close();
  for (const reply of [one, two]) t.true(events(reply.lines).every((ev) => ev.processed === new Date(at).toISOString()));
});

test('admin release of several apps refuses a bad list or time with a clear error, and releases nothing', async (t) => {
  const e = await emulator(t, { apps: [finite(0)] });
  await fetch(`${e.url}/_admin/apps/app/generate`, { method: 'POST', body: '{"count":3,"hold":true}' });
  for (const body of ['{}', '{"apps":[]}', '{"apps":"app"}', '{"apps":[1]}', 'null']) {
    const r = await fetch(`${e.url}/_admin/release`, { method: 'POST', body });
    t.is(r.status, 400, body);
    t.regex(((await r.json()) as { error: string }).error, /apps/, body);
  }
  const late = await fetch(`${e.url}/_admin/release`, { method: 'POST', body: '{"apps":["app"],"at":"later"}' });
  t.is(late.status, 400);
  const unknown = await fetch(`${e.url}/_admin/release`, { method: 'POST', body: '{"apps":["app","nope"]}' });
  t.is(unknown.status, 404);
  t.regex(((await unknown.json()) as { error: string }).error, /"nope"/);
  t.like(e.stats('app'), { held: 3, retained: 0 });
});

test('admin generate with hold refuses a bad hold or too many held events, and holds nothing', async (t) => {
  const e = await emulator(t, { apps: [finite(0)] });
  for (const body of ['{"count":5,"hold":"yes"}', '{"count":5,"hold":1}', '{"count":5,"hold":null}']) {
    const r = await fetch(`${e.url}/_admin/apps/app/generate`, { method: 'POST', body });
    t.is(r.status, 400, body);
    t.regex(((await r.json()) as { error: string }).error, /hold/, body);
  }
  const one = await fetch(`${e.url}/_admin/apps/app/generate`, { method: 'POST', body: '{"count":1,"hold":true}' });
  t.is(one.status, 200);
  // Refused before anything is made: one held and 1,000,000 more would pass the cap.
  const over = await fetch(`${e.url}/_admin/apps/app/generate`, { method: 'POST', body: '{"count":1000000,"hold":true}' });
  t.is(over.status, 400);
  t.regex(((await over.json()) as { error: string }).error, /held per app/);
  t.like(e.stats('app'), { held: 1, retained: 0, generated: 1 });
  const missing = await fetch(`${e.url}/_admin/apps/nope/release`, { method: 'POST' });
  t.is(missing.status, 404);
});

test('a client that stops reading stops the stream: production and the served record stay bounded', async (t) => {
  const e = await emulator(t, { apps: [{ key: 'app', token: 'tok', rate: 'max', eventBytes: 1_000, eventTypes: ['CUSTOM'], retainEvents: 100_000 }] });
  const req = request(e.eventsUrl, { method: 'POST', headers: { Authorization: 'Bearer tok', 'X-UA-Appkey': 'app' }, agent: false });
  t.teardown(() => req.destroy());
  const res = await new Promise<import('node:http').IncomingMessage>((resolve) => {
    req.on('response', resolve);
    req.end('{"start":"EARLIEST"}');
  });
  t.is(res.statusCode, 200);
  res.pause(); // never read: the socket fills and the emulator must wait for 'drain'
  let last = -1;
  const settled = Date.now() + 10_000;
  // Wait until the served count stops moving, then check it stays put.
  while (Date.now() < settled) {
    await new Promise((r) => setTimeout(r, 300));
    const now = e.stats('app').served;
    if (now === last) break;
    last = now;
  }
  await new Promise((r) => setTimeout(r, 500));
  const stats = e.stats('app');
  t.is(stats.served, last, 'nothing more is served while the client does not read');
  t.true(stats.served < 100_000, `${stats.served} served into socket buffers`);
  t.true(stats.generated - stats.served <= 1_024, `generated ${stats.generated}, served ${stats.served}`);
});
