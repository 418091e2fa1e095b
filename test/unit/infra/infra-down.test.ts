// `infra down --purge` deletes an instance's data (it grew to 7 GB of benchmark topics once, and
// Kafka then took minutes to start); without it the default instance keeps its data. No server
// is started here: the instance directories are made by hand, with pids that are not running.
import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { infraDown } from '../../../src/infra/local-infra.js';

const cacheDirs: string[] = [];
test.after.always(() => {
  for (const d of cacheDirs) rmSync(d, { recursive: true, force: true });
});

function instance(withState: boolean) {
  const cacheDir = mkdtempSync(join(tmpdir(), 'tributary-infra-'));
  cacheDirs.push(cacheDir);
  const dir = join(cacheDir, 'instances', 'default');
  mkdirSync(join(dir, 'kafka', 'data', 'topic-0'), { recursive: true });
  writeFileSync(join(dir, 'kafka', 'data', 'topic-0', '00000000000000000000.log'), 'records');
  writeFileSync(join(cacheDir, 'jar-cache-marker'), 'jars');
  if (withState) {
    const servers = [{ name: 'kafka', address: '127.0.0.1:1', pid: 2 ** 22 + 7, dir: join(dir, 'kafka') }];
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ instance: 'default', dir, servers }));
  }
  return { cacheDir, dir };
}

test('without --purge the default instance keeps its data; only its state file goes', async (t) => {
  const { cacheDir, dir } = instance(true);
  const stopped = await infraDown({ cacheDir });
  t.is(stopped.length, 1);
  t.true(existsSync(join(dir, 'kafka', 'data', 'topic-0')));
  t.false(existsSync(join(dir, 'state.json')));
});

test('--purge deletes the instance data, whether servers were recorded or nothing was running; the jar cache stays', async (t) => {
  for (const withState of [true, false]) {
    const { cacheDir, dir } = instance(withState);
    await infraDown({ cacheDir, purge: true });
    t.false(existsSync(dir), `instance dir gone (state file: ${withState})`);
    t.true(existsSync(join(cacheDir, 'jar-cache-marker')));
  }
});
