// The file sink on a real file system: the shared compliance suite (no HTTP cases), rotation by
// size and age, sortable names, and a clear misconfiguration when the directory is unusable.
import test from 'ava';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classify, TributaryError } from '../../../src/errors.js';
import { validateFileConfig } from '../../../src/sinks/file/config.js';
import { createFileSink } from '../../../src/sinks/file/service.js';
import type { Clock } from '../../../src/sinks/http/backoff.js';
import { makeRecords, sinkCompliance, testSinkContext } from '../../helpers/sink-compliance.js';

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-file-sink-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function idsIn(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.ndjson')).sort();
  } catch {
    return [];
  }
  const ids: string[] = [];
  for (const n of names) {
    const text = await readFile(join(dir, n), 'utf8');
    for (const line of text.split('\n')) if (line) ids.push((JSON.parse(line) as { id: string }).id);
  }
  return ids;
}

sinkCompliance(test, {
  name: 'file',
  async setup(t) {
    const dataDir = await tempDir(t);
    const ctx = testSinkContext({ dataDir, integrationId: 'int-file' });
    const sink = await createFileSink(validateFileConfig({ type: 'file' }, { local: true }), ctx);
    t.teardown(() => sink.close());
    return {
      sink,
      deliveredIds: () => idsIn(join(dataDir, 'int-file')),
      // Root ignores permission bits, so a plain file where the directory belongs is the fault.
      breakConfiguration: () => writeFile(join(dataDir, 'int-file'), 'not a directory'),
    };
  },
});

test('file: every write is readable back, in order, as soon as write() resolves', async (t) => {
  const dataDir = await tempDir(t);
  const sink = await createFileSink(validateFileConfig({ type: 'file' }, { local: true }), testSinkContext({ dataDir, integrationId: 'a' }));
  t.teardown(() => sink.close());
  const b1 = makeRecords(5);
  const b2 = makeRecords(7, { startOffset: 2000 });
  await sink.write(b1, new AbortController().signal);
  t.deepEqual(await idsIn(join(dataDir, 'a')), b1.map((r) => r.eventId));
  await sink.write(b2, new AbortController().signal);
  t.deepEqual(await idsIn(join(dataDir, 'a')), [...b1, ...b2].map((r) => r.eventId));
  const files = await readdir(join(dataDir, 'a'));
  t.is(files.length, 1, 'both batches share the current file');
  t.false(files.some((f) => f.startsWith('.healthcheck')));
});

test('file: rotates by size; names sort by time then first offset', async (t) => {
  const dataDir = await tempDir(t);
  const sink = await createFileSink(validateFileConfig({ type: 'file', maxFileBytes: 2048 }, { local: true }), testSinkContext({ dataDir, integrationId: 'a' }));
  t.teardown(() => sink.close());
  const all = [];
  for (let i = 0; i < 6; i++) {
    const batch = makeRecords(3, { startOffset: i * 10, padBytes: 200 });
    batch.forEach((r, j) => (r.offset = String(i * 3 + j)));
    all.push(...batch);
    await sink.write(batch, new AbortController().signal);
  }
  const files = (await readdir(join(dataDir, 'a'))).sort();
  t.true(files.length >= 3, `rotated into ${files.length} files`);
  for (const f of files) t.regex(f, /^\d{8}T\d{9}Z-p\d{5}-o\d{20}(-\d+)?\.ndjson$/);
  t.deepEqual(await idsIn(join(dataDir, 'a')), all.map((r) => r.eventId), 'sorted files read back in delivery order');
});

test('file: rotates by age at the next write', async (t) => {
  const dataDir = await tempDir(t);
  let now = Date.parse('2024-05-01T12:00:00Z');
  const clock: Clock = { now: () => now, sleep: async () => undefined };
  const sink = await createFileSink(validateFileConfig({ type: 'file', rotateMs: 60_000 }, { local: true }), testSinkContext({ dataDir, integrationId: 'a' }), { clock });
  t.teardown(() => sink.close());
  await sink.write(makeRecords(2), new AbortController().signal);
  now += 30_000;
  await sink.write(makeRecords(2, { startOffset: 5 }), new AbortController().signal);
  t.is((await readdir(join(dataDir, 'a'))).length, 1);
  now += 30_000;
  await sink.write(makeRecords(2, { startOffset: 9 }), new AbortController().signal);
  const files = (await readdir(join(dataDir, 'a'))).sort();
  t.is(files.length, 2);
  t.true(files[0]!.startsWith('20240501T120000000Z'));
  t.true(files[1]!.startsWith('20240501T120100000Z'));
});

test('file: an unusable directory fails the healthcheck and write as misconfiguration', async (t) => {
  const dataDir = await tempDir(t);
  await writeFile(join(dataDir, 'blocked'), '');
  const sink = await createFileSink(validateFileConfig({ type: 'file' }, { local: true }), testSinkContext({ dataDir, integrationId: 'blocked' }));
  t.teardown(() => sink.close());
  const err = await t.throwsAsync(sink.healthcheck(new AbortController().signal));
  t.is((err as TributaryError).code, 'sink_misconfigured');
  t.is(classify(err), 'misconfiguration');
  t.is(classify(await t.throwsAsync(sink.write(makeRecords(1), new AbortController().signal))), 'misconfiguration');
});

test('file: an integration id that is not a safe directory name is refused at build', async (t) => {
  const dataDir = await tempDir(t);
  const err = await t.throwsAsync(createFileSink(validateFileConfig({ type: 'file' }, { local: true }), testSinkContext({ dataDir, integrationId: '../escape' })));
  t.is(classify(err), 'misconfiguration');
});
