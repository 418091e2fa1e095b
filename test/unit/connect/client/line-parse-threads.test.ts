// Lines parsed on worker threads (connect.parseThreads): the same items as on the event loop, in
// the same order, whatever the stream does, and a thread that fails costs nothing but time.
// Real worker threads; no server.
import test from 'ava';
import fc from 'fast-check';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { ErrorCode } from '../../../../src/errors.js';
import { ConnectClient, LineParseThreads, type ConnectTransport, type OffThreadParser, type StreamItem } from '../../../../src/connect/client/index.js';
import { classifyLine, type LineClass } from '../../../../src/connect/client/line-parser.js';
import { decodeClasses, decodeItems, encodeClasses, encodeItems, encodeLines, type StreamRequest, type StreamResponse } from '../../../../src/connect/client/line-parse-wire.js';
import type { SplitItem } from '../../../../src/connect/client/line-splitter.js';
import { FakeConnect, collect, countEvents, cutOnceTransport, eventLine, events, gzipFlushed, type Script } from './fake-transport.js';

const base = { appKey: 'app', token: 'tok', baseUrl: 'http://127.0.0.1:1', allowAnyHost: true, start: 'EARLIEST' as const };

/** Lines of every class: events (with and without a channel, non-ASCII), keep-alives, OFFSET_UPDATE, bad JSON, bad envelopes. */
const anyLine = fc.oneof(
  fc.nat(10_000).map((o) => eventLine(o + 1)),
  fc.nat(10_000).map((o) => eventLine(o + 1, { device: { ios_channel: `ü-${o}` } })),
  fc.nat(10_000).map((o) => eventLine(o + 1, { device: undefined })),
  fc.constantFrom('', ' ', '\r', '\t '),
  fc.nat(10_000).map((o) => JSON.stringify({ type: 'OFFSET_UPDATE', offset: String(o) })),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('{"id":', '[1,2]', 'null', '{"id":"x","type":"OPEN","offset":"1e3","occurred":"2024-01-01T00:00:00.000Z","processed":"2024-01-01T00:00:00.000Z"}'),
  fc.nat(10_000).map((o) => eventLine(o + 1, { occurred: 'yesterday' })),
);

test('the wire encoding gives back every class as classifyLine made it', (t) => {
  fc.assert(
    fc.property(fc.array(anyLine, { maxLength: 50 }), (lines) => {
      const classes = lines.map((l) => classifyLine(Buffer.from(l)));
      t.deepEqual(decodeClasses(encodeClasses(classes)), classes);
    }),
  );
  const req = encodeLines(7, [Buffer.from('ab'), Buffer.from(''), Buffer.from('cde')]);
  t.deepEqual([...req.lengths], [2, 0, 3]);
  t.is(Buffer.from(req.bytes).toString(), 'abcde');
  t.is(req.bytes.byteOffset, 0);
  t.is(req.bytes.buffer.byteLength, 5, 'its own buffer, so it can be transferred');
});

test('the wire encoding of a remote stream\'s framed items gives them back, lines and oversized heads', (t) => {
  const items: SplitItem[] = [
    { kind: 'line', bytes: Buffer.from('{"a":1}') },
    { kind: 'line', bytes: Buffer.alloc(0) },
    { kind: 'oversized', head: Buffer.from('{"id":"big'), length: 64 * 1024 * 1024 },
    { kind: 'line', bytes: Buffer.from('ü') },
  ];
  const enc = encodeItems(items);
  t.is(enc.bytes.byteOffset, 0);
  t.is(enc.bytes.buffer.byteLength, enc.bytes.byteLength, 'its own buffer, so it can be transferred');
  t.deepEqual(decodeItems(enc), items);
  t.deepEqual(decodeItems(encodeItems([])), []);
  t.throws(() => decodeItems({ ...enc, oversized: enc.oversized.subarray(1) }), { message: /4 lengths for 3 items/ });
  t.throws(() => decodeItems({ ...enc, bytes: enc.bytes.subarray(0, 5) }), { message: /item 0 ends past its bytes/ });
  t.throws(() => decodeItems({ ...enc, lengths: Uint32Array.of(1, 0, 10, 2) }), { message: /bytes after its items/ });
});

test('a response that does not hold what its kinds say is refused', (t) => {
  t.throws(() => decodeClasses({ kinds: Uint8Array.of(1), strings: ['id', 'OPEN'] }), { message: /string 2 is undefined/ });
  t.throws(() => decodeClasses({ kinds: Uint8Array.of(9), strings: [] }), { message: /unknown kind 9/ });
  t.throws(() => decodeClasses({ kinds: Uint8Array.of(0), strings: ['extra'] }), { message: /1 strings left over/ });
});

test('a thread classifies lines exactly as the event loop does, in order', async (t) => {
  const threads = new LineParseThreads({ threads: 2, minLines: 1 });
  t.teardown(() => threads.close());
  await fc.assert(
    fc.asyncProperty(fc.array(anyLine, { minLength: 1, maxLength: 80 }), async (lines) => {
      const buffers = lines.map((l) => Buffer.from(l));
      const got: LineClass[] = await threads.classify(buffers);
      t.deepEqual(got, buffers.map(classifyLine));
      // The lines stay the caller's: transferring the copy leaves them readable.
      t.deepEqual(buffers.map(String), lines);
    }),
    { numRuns: 40 },
  );
  const s = threads.stats();
  t.true(s.linesOffThread > 0);
  t.is(s.linesRecovered, 0);
  t.is(s.threadsFailed, 0);
});

test('chunks on several threads at once each come back whole', async (t) => {
  const threads = new LineParseThreads({ threads: 2, minLines: 1 });
  t.teardown(() => threads.close());
  const chunks = Array.from({ length: 20 }, (_, c) => Array.from({ length: 50 }, (_, i) => Buffer.from(eventLine(c * 50 + i + 1))));
  const results = await Promise.all(chunks.map((lines) => threads.classify(lines)));
  results.forEach((classes, c) => t.deepEqual(classes.map((x) => (x.kind === 'event' ? x.envelope.offset : x.kind)), chunks[c]!.map((_, i) => String(c * 50 + i + 1))));
  t.is(threads.stats().threadsStarted, 2);
});

/** A worker entry file in a temp dir; `body` handles each message. */
function workerFile(t: { teardown(fn: () => void): void }, body: string): URL {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-parse-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'worker.mjs');
  writeFileSync(file, `import { parentPort } from 'node:worker_threads';\n${body}\n`);
  return pathToFileURL(file);
}

test('a thread that dies mid-chunk: that chunk is parsed on the event loop, and the next one starts a new thread', async (t) => {
  const logs: string[] = [];
  const logger = { warn: (_: unknown, msg: string) => logs.push(`warn ${msg}`), error: (_: unknown, msg: string) => logs.push(`error ${msg}`) };
  const workerUrl = workerFile(t, `parentPort.on('message', () => process.exit(3));`);
  const threads = new LineParseThreads({ threads: 1, minLines: 1, workerUrl, logger: logger as never });
  t.teardown(() => threads.close());
  const lines = [eventLine(1), '', 'nope'].map((l) => Buffer.from(l));
  t.deepEqual(await threads.classify(lines), lines.map(classifyLine));
  t.deepEqual(await threads.classify(lines), lines.map(classifyLine));
  const s = threads.stats();
  t.is(s.linesRecovered, 6);
  t.is(s.threadsStarted, 2, 'a new thread for the second chunk');
  t.is(s.threadsFailed, 2);
  t.true(logs.every((l) => l.startsWith('warn line-parse thread failed')), logs.join('\n'));
});

test('a thread that dies takes every stream open on it: each request rejects, and each stream counts as lost, also one with none out', async (t) => {
  const workerUrl = workerFile(t, `parentPort.on('message', () => process.exit(3));`);
  const threads = new LineParseThreads({ threads: 1, minLines: 1, inflateMinBytes: 1, workerUrl });
  t.teardown(() => threads.close());
  const framing = { chunkBytes: 64 * 1024, maxLineBytes: 1024 * 1024, headBytes: 1024 };
  const a = threads.openStream(framing)!;
  const b = threads.openStream(framing)!;
  const closed = threads.openStream(framing)!;
  closed.close();
  await t.throwsAsync(a.write(Buffer.from('x')), { message: /thread decoding this stream failed/ });
  await t.throwsAsync(b.end(), { message: /thread decoding this stream failed/ });
  const s = threads.stats();
  t.is(s.streamsOffThread, 3);
  t.is(s.streamsLost, 2, 'the two open streams; not the one closed before');
});

test('threads that never answer (a broken build) stop being started after three', async (t) => {
  const logs: string[] = [];
  const logger = { warn: (_: unknown, msg: string) => logs.push(`warn ${msg}`), error: (_: unknown, msg: string) => logs.push(`error ${msg}`) };
  const workerUrl = workerFile(t, `throw new Error('cannot load');`);
  const threads = new LineParseThreads({ threads: 1, minLines: 1, workerUrl, logger: logger as never });
  t.teardown(() => threads.close());
  const lines = [Buffer.from(eventLine(5))];
  for (let i = 0; i < 5; i++) t.deepEqual(await threads.classify(lines), lines.map(classifyLine));
  t.is(threads.stats().threadsStarted, 3);
  t.is(logs.filter((l) => l.startsWith('error')).length, 1, logs.join('\n'));
  t.regex(logs.at(-1)!, /3 line-parse threads failed before answering; parsing Connect lines on the event loop/);
});

test('a bad answer from a thread: the chunk is parsed on the event loop', async (t) => {
  const workerUrl = workerFile(t, `parentPort.on('message', (m) => parentPort.postMessage({ id: m.id, kinds: new Uint8Array(m.lengths.length).fill(7), strings: [] }));`);
  const threads = new LineParseThreads({ threads: 1, minLines: 1, workerUrl });
  t.teardown(() => threads.close());
  const lines = [Buffer.from(eventLine(9)), Buffer.from('')];
  t.deepEqual(await threads.classify(lines), lines.map(classifyLine));
  t.is(threads.stats().linesRecovered, 2);
});

test('close(): chunks still with a thread are parsed on the event loop; later ones too', async (t) => {
  const workerUrl = workerFile(t, `parentPort.on('message', () => {});`);
  const threads = new LineParseThreads({ threads: 1, minLines: 1, workerUrl });
  const lines = [Buffer.from(eventLine(2))];
  const pending = threads.classify(lines);
  await threads.close();
  t.deepEqual(await pending, lines.map(classifyLine));
  t.deepEqual(await threads.classify(lines), lines.map(classifyLine));
  t.is(threads.stats().threadsFailed, 0, 'a close is not a failure');
});

test('bad options are refused', (t) => {
  t.throws(() => new LineParseThreads({ threads: 0, minLines: 1 }), { message: /threads must be a positive integer/ });
  t.throws(() => new LineParseThreads({ threads: 1, minLines: 0.5 }), { message: /minLines must be a positive integer/ });
  t.throws(() => new LineParseThreads({ threads: 1, minLines: 1, inflateMinBytes: -1 }), { message: /inflateMinBytes must be a non-negative integer/ });
});

// ---- through the client: the read session with its lines parsed elsewhere ----

function threaded(t: { teardown(fn: () => Promise<void>): void }, minLines = 1, inflateMinBytes = 0): LineParseThreads {
  const threads = new LineParseThreads({ threads: 1, minLines, inflateMinBytes });
  t.teardown(() => threads.close());
  return threads;
}

/** The read session's two ways with a thread: lines parsed there, or the whole stream decoded there from its first byte. */
const ways = [
  { name: 'lines parsed on a thread', inflateMinBytes: 0 },
  { name: 'the stream inflated on a thread', inflateMinBytes: 1 },
] as const;

for (const way of ways) {
  test(`no event is yielded twice and none is lost across disconnects, ${way.name}`, async (t) => {
    const lineParser = threaded(t, 1, way.inflateMinBytes);
    const connection = fc.record({
      cutAtByte: fc.nat(6000),
      cut: fc.constantFrom('truncate' as const, 'reset' as const),
      chunkSizes: fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 5 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(connection, { maxLength: 6 }), fc.integer({ min: 1, max: 60 }), async (cuts, total) => {
        const scripts: Script[] = [...cuts.map((c): Script => ({ kind: 'serve', ...c })), { kind: 'serve', chunkSizes: [333] }];
        const fake = new FakeConnect(total, scripts);
        const c = new ConnectClient(base, { transport: fake, random: () => 0.5, sleep: async () => undefined, lineParser });
        const yielded: number[] = [];
        const { error, items } = await collect(
          c,
          () => yielded.length >= total,
          (item) => {
            if (item.kind !== 'event') return;
            yielded.push(Number(item.offset));
            c.confirm(item.offset);
          },
        );
        t.is(error, undefined);
        t.deepEqual(yielded, Array.from({ length: total }, (_, i) => i + 1), 'every offset once, in order');
        t.false(items.some((i) => i.kind === 'poison'), 'a cut never yields a fragment as poison');
      }),
      { numRuns: 30 },
    );
    t.true(lineParser.stats().linesOffThread > 0);
    if (way.inflateMinBytes > 0) t.true(lineParser.stats().streamsOffThread > 0);
  });
}

test('on a thread too: garbage lines are poison with offset context, K in a row drop the connection, OFFSET_UPDATE and keep-alives keep their places', async (t) => {
  const lineParser = threaded(t);
  const update = '{"type":"OFFSET_UPDATE","offset":"40"}';
  const garbage = (o: number) => (o === 3 ? [eventLine(3), '', update, '{"id":', '\u0000junk', 'nope', 'x', 'y', 'z'] : undefined);
  const fake = new FakeConnect(5, [{ kind: 'serve', lines: garbage }, { kind: 'serve' }]);
  const c = new ConnectClient({ ...base, maxConsecutiveBadLines: 5 }, { transport: fake, random: () => 0.5, sleep: async () => undefined, lineParser });
  const { items } = await collect(c, countEvents(5), (i) => i.kind === 'event' && c.confirm(i.offset));
  const kinds = items.filter((i) => i.kind !== 'connected' && i.kind !== 'reconnecting').map((i: StreamItem) => (i.kind === 'event' ? `e${i.offset}` : i.kind === 'offsetUpdate' ? `u${i.offset}` : i.kind));
  t.deepEqual(kinds, ['e1', 'e2', 'e3', 'u40', 'poison', 'poison', 'poison', 'poison', 'poison', 'e4', 'e5']);
  t.true(items.every((p) => p.kind !== 'poison' || (p.afterOffset === '3' && p.code === ErrorCode.poisonLine)));
  t.is(fake.requests[1]?.body.resume_offset, '3');
  t.is(c.counters().reconnects.bad_lines, 1);
  t.is(c.counters().keepAlives, 1);
});

for (const way of ways) {
  test(`on a thread too (${way.name}): one large chunk comes out in order and complete, with the raw lines intact`, async (t) => {
    const lineParser = threaded(t, 8, way.inflateMinBytes);
    const noise = (o: number) => eventLine(o, { body: { name: 'x', value: o, noise: randomBytes(700).toString('base64') } });
    const lines = Array.from({ length: 300 }, (_, i) => noise(i + 1));
    const gz = await gzipFlushed(lines);
    const transport: ConnectTransport = {
      open: async () => ({ kind: 'stream', gzip: true, body: Readable.from([gz], { objectMode: false }) }),
      close: async () => undefined,
    };
    const c = new ConnectClient(base, { transport, random: () => 0.5, sleep: async () => undefined, lineParser });
    const ac = new AbortController();
    const raws: string[] = [];
    const seen: number[] = [];
    for await (const batch of c.batches(ac.signal)) {
      for (const i of batch) {
        if (i.kind !== 'event') continue;
        seen.push(Number(i.offset));
        raws.push(i.raw.toString());
        t.is(i.event.channel, `c-${i.offset}`);
      }
      if (seen.length >= 300) ac.abort();
    }
    t.deepEqual(seen, Array.from({ length: 300 }, (_, i) => i + 1));
    t.deepEqual(raws, lines);
    t.true(lineParser.stats().linesOffThread > 200, `off thread: ${lineParser.stats().linesOffThread}`);
    t.is(lineParser.stats().streamsOffThread, way.inflateMinBytes > 0 ? 1 : 0);
  });

  test(`on a thread too (${way.name}): a truncated body reconnects as "truncated" and the events before the cut are not lost`, async (t) => {
    const lineParser = threaded(t, 1, way.inflateMinBytes);
    const fake = new FakeConnect(20, [{ kind: 'serve', cutAtByte: 300, cut: 'truncate' }, { kind: 'serve' }]);
    const c = new ConnectClient(base, { transport: fake, random: () => 0.5, sleep: async () => undefined, lineParser });
    const { items } = await collect(c, countEvents(20), (i) => i.kind === 'event' && c.confirm(i.offset));
    t.deepEqual(events(items), Array.from({ length: 20 }, (_, i) => i + 1));
    t.is(c.counters().reconnects.truncated, 1);
  });
}

test('a stream that fails while chunks are out on a thread: their items come first, then the reconnect; the caller leaving drops them', async (t) => {
  // A parser that answers late, as a busy machine's thread does; the lines are classified as usual.
  const slow: OffThreadParser = { minLines: 1, classify: (lines) => new Promise((r) => setTimeout(() => r(lines.map(classifyLine)), 150)) };
  const transport = await cutOnceTransport();
  const c = new ConnectClient(base, { transport, random: () => 0.5, sleep: async () => undefined, lineParser: slow });
  const { items, error } = await collect(c, (seen) => seen.filter((i) => i.kind === 'reconnecting').length >= 2, (i) => i.kind === 'event' && c.confirm(i.offset));
  t.is(error, undefined);
  const order = items.filter((i) => i.kind === 'event' || i.kind === 'reconnecting').map((i) => (i.kind === 'event' ? `e${i.offset}` : i.reason));
  // The cut left line 5 incomplete: the second connection resumes after 4. Without the wait for
  // the chunk out, e1–e4 would be dropped with the first connection and come after 'network'.
  t.deepEqual(order, ['e1', 'e2', 'e3', 'e4', 'network', 'e5', 'ended'], 'the first connection\'s events before its failure; the second resumes after them');

  // The caller aborting while a chunk is out: nothing more is yielded, and the read ends at once.
  const gate: OffThreadParser = { minLines: 1, classify: (l) => new Promise((r) => setTimeout(() => r(l.map(classifyLine)), 300)) };
  const fake = new FakeConnect(3, [{ kind: 'serve' }]);
  const c2 = new ConnectClient(base, { transport: fake, random: () => 0.5, sleep: async () => undefined, lineParser: gate });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const seen: StreamItem[] = [];
  const t0 = Date.now();
  for await (const item of c2.stream(ac.signal)) seen.push(item);
  t.false(seen.some((i) => i.kind === 'event'));
  t.true(Date.now() - t0 < 280, `ended after ${Date.now() - t0} ms`);
});

test("the real thread answers a stream it does not know with a failure, not a guess at its framing; a known one decodes", async (t) => {
  const real = new URL('../../../../src/connect/client/line-parse-thread.ts', import.meta.url).href;
  const worker = new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(real)}); });`, { eval: true });
  t.teardown(() => worker.terminate());
  const ask = (req: StreamRequest) =>
    new Promise<StreamResponse>((resolve) => {
      worker.once('message', resolve);
      worker.postMessage(req);
    });
  const line = eventLine(1);
  const bytes = new Uint8Array(gzipSync(`${line}\n`));

  const unknown = await ask({ kind: 'stream', id: 1, stream: 7, op: 'data', bytes });
  t.is(unknown.id, 1);
  t.regex(unknown.failure?.message ?? '', /stream 7 is not open here/);
  t.deepEqual(decodeItems(unknown), []);

  const framing = { chunkBytes: 64 * 1024, maxLineBytes: 1024 * 1024, headBytes: 1024 };
  const known = await ask({ kind: 'stream', id: 2, stream: 8, op: 'data', bytes, framing });
  t.is(known.failure, undefined);
  t.deepEqual(decodeItems(known).map((i) => (i.kind === 'line' ? i.bytes.toString() : i.kind)), [line]);
  t.deepEqual(decodeClasses(known), [classifyLine(Buffer.from(line))]);
});
