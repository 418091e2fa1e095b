// The Connect client against the real emulator over HTTP with its lines parsed on a worker thread
// (the node's default, `connect.parseThreads`): the same outcome as on the event loop — nothing
// lost, nothing twice, poison in its place with its offset context — through the emulator's faults.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import avaTest, { type ExecutionContext } from 'ava';
import { ErrorCode } from '../../../src/errors.js';
import { LineParseThreads } from '../../../src/connect/client/index.js';
import { appKey, assertNothingLostNothingTwice, connectClient, emulator, hasEvents, poison, read, reconnects } from './client-harness.js';

/**
 * Each test runs twice: the stream inflated here with its lines parsed on the thread (`inflate:
 * 'here'`, minLines 1: every line goes, keep-alives included), and the whole stream decoded on the
 * thread from its first byte (`inflate: 'thread'`, inflateMinBytes 1).
 */
const modes = [
  { name: 'lines parsed on a thread', inflateMinBytes: 0 },
  { name: 'stream inflated on a thread', inflateMinBytes: 1 },
] as const;

for (const mode of modes) {
  const threads = (t: ExecutionContext, minLines = 1): LineParseThreads => {
    const p = new LineParseThreads({ threads: 1, minLines, inflateMinBytes: mode.inflateMinBytes });
    t.teardown(() => p.close());
    return p;
  };
  const test = (title: string, fn: (t: ExecutionContext) => Promise<void>) => avaTest(`${mode.name}: ${title}`, fn);

  test('a thread parses the whole stream: every event once, the exact served bytes', async (t) => {
    const lineParser = threads(t, 64);
    const emu = await emulator(t, { totalEvents: 3000 });
    const client = connectClient(t, emu, {}, { lineParser });
    const r = await read(client, hasEvents(3000));
    t.is(r.error, undefined);
    assertNothingLostNothingTwice(t, emu, r, 3000);
    t.is(reconnects(r).length, 0);
    const s = lineParser.stats();
    t.true(s.linesOffThread > 1000, `lines parsed on the thread: ${s.linesOffThread}`);
    t.is(s.streamsOffThread, mode.inflateMinBytes === 0 ? 0 : 1, 'streams inflated on the thread');
    t.is(s.linesRecovered, 0);
  });

  test('on a thread: sessions closed after N events resume from the confirmed offset', async (t) => {
    const lineParser = threads(t);
    const emu = await emulator(t, { totalEvents: 1000 });
    emu.setFault(appKey, { closeAfterEvents: 150, connections: 4 });
    const client = connectClient(t, emu, {}, { lineParser });
    const r = await read(client, hasEvents(1000));
    t.is(r.error, undefined);
    assertNothingLostNothingTwice(t, emu, r, 1000);
    t.deepEqual(reconnects(r).map((x) => x.reason), ['ended', 'ended', 'ended', 'ended']);
    t.is(client.counters().duplicatesDropped, 0);
  });

  test('on a thread: corrupt bytes reconnect from the confirmed offset, nothing lost', async (t) => {
    const lineParser = threads(t);
    const emu = await emulator(t, { totalEvents: 700 });
    emu.setFault(appKey, { corruptAfterEvents: 250, connections: 1 });
    const client = connectClient(t, emu, {}, { lineParser });
    const r = await read(client, hasEvents(700));
    t.is(r.error, undefined);
    assertNothingLostNothingTwice(t, emu, r, 700);
    t.is(reconnects(r).length, 1);
    t.is(reconnects(r)[0]?.error?.code, ErrorCode.connectStreamCorrupt);
  });

  test('on a thread: a malformed line is one poison record after the event before it; K bad lines drop the connection', async (t) => {
    const lineParser = threads(t);
    const emu = await emulator(t, { totalEvents: 400 });
    emu.setFault(appKey, { malformedLineAfterEvents: 120, malformedLine: '{"id":"broken', connections: 1 });
    const r = await read(connectClient(t, emu, {}, { lineParser }), hasEvents(400));
    t.is(r.error, undefined);
    assertNothingLostNothingTwice(t, emu, r, 400);
    t.is(poison(r).length, 1);
    t.is(poison(r)[0]?.raw.toString(), '{"id":"broken');
    t.is(poison(r)[0]?.afterOffset, r.events[119]?.offset);
    t.is(reconnects(r).length, 0);

    const strict = await emulator(t, { totalEvents: 300 });
    strict.setFault(appKey, { malformedLineAfterEvents: 100, connections: 1 });
    const r2 = await read(connectClient(t, strict, { maxConsecutiveBadLines: 1 }, { lineParser }), hasEvents(300));
    t.is(r2.error, undefined);
    assertNothingLostNothingTwice(t, strict, r2, 300);
    t.is(poison(r2).length, 1);
    t.deepEqual(reconnects(r2).map((x) => x.reason), ['bad_lines']);
  });
}

avaTest('stream inflated on a thread: the thread dies mid-stream; the session ends, the next reads from the confirmed offset, nothing lost', async (t) => {
  // The real thread, which exits (once) on its sixth message, with requests of the stream still to come.
  const dir = mkdtempSync(join(tmpdir(), 'tributary-parse-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const flag = join(dir, 'died');
  const workerFile = join(dir, 'worker.mjs');
  const real = new URL('../../../src/connect/client/line-parse-thread.ts', import.meta.url).href;
  // Plain JavaScript that registers tsx itself, then loads the real thread from source.
  writeFileSync(
    workerFile,
    [
      `import { parentPort } from 'node:worker_threads';`,
      `import { existsSync, writeFileSync } from 'node:fs';`,
      `(await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})).register();`,
      `await import(${JSON.stringify(real)});`,
      // After the real listener (a listener added first would take the messages sent before it loads).
      `let n = 0;`,
      `parentPort.on('message', () => { if (++n === 6 && !existsSync(${JSON.stringify(flag)})) { writeFileSync(${JSON.stringify(flag)}, ''); process.exit(7); } });`,
    ].join('\n'),
  );
  const lineParser = new LineParseThreads({ threads: 1, minLines: 1, inflateMinBytes: 1, workerUrl: pathToFileURL(workerFile) });
  t.teardown(() => lineParser.close());
  const emu = await emulator(t, { totalEvents: 3000 });
  const client = connectClient(t, emu, {}, { lineParser });
  const r = await read(client, hasEvents(3000));
  t.is(r.error, undefined);
  t.true(existsSync(flag), `the thread died: ${JSON.stringify(lineParser.stats())}`);
  assertNothingLostNothingTwice(t, emu, r, 3000);
  t.deepEqual(
    reconnects(r).map((x) => x.reason),
    ['network'],
  );
  const s = lineParser.stats();
  t.is(s.streamsLost, 1);
  t.is(s.threadsFailed, 1);
  t.true(s.streamsOffThread >= 2, 'the next session was inflated on a new thread');
});
