// The bench and chaos scripts refuse a bad or unknown option with a message naming it, before they start
// anything (no work dir, no servers), and list their options on --help.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import test from 'ava';

const benchDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith('tributary-bench-')).sort();
const run = (script: string, args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, KAFKA_BROKERS: '', DYNAMODB_ENDPOINT: '' } });

test('bench/run.ts: bad values and unknown options stop it before it starts anything', (t) => {
  const before = benchDirs();
  for (const [args, named] of [
    [['--tenants', 'abc'], /--tenants.*"abc" is not a whole number from 11 to 5000/],
    [['--only', 's1,s9'], /--only.*unknown: s9/],
    [['--node-flags', '{"sink.parkWhenIdle":'], /--node-flags.*not JSON/],
    [['--node-connect', '{"parseThreads":'], /--node-connect.*not JSON/],
    [['--small-rate', '-1'], /--small-rate.*not a number from 0 to 1000/],
    [['--extra-topics', '1.5'], /--extra-topics/],
    [['--bogus'], /unknown option '--bogus'/],
  ] as const) {
    const r = run('bench/run.ts', [...args]);
    t.is(r.status, 1, args.join(' '));
    t.regex(r.stderr, named, args.join(' '));
  }
  t.deepEqual(benchDirs(), before, 'no work dir was made');
});

test('bench/run.ts --help lists its options; a focused bench script refuses a bad value too', (t) => {
  const help = run('bench/run.ts', ['--help']);
  t.is(help.status, 0);
  for (const o of ['--only', '--tenants', '--node-flags', '--extra-topics', '--results-dir']) t.true(help.stdout.includes(o), o);
  const idle = run('bench/connect-idle.ts', ['--streams', '0']);
  t.is(idle.status, 1);
  t.regex(idle.stderr, /--streams.*from 1 to 5000/);
  // Refused before it needs a broker (KAFKA_BROKERS is empty here).
  const parse = run('bench/line-parse.ts', ['--lines', '64,0']);
  t.is(parse.status, 1);
  t.regex(parse.stderr, /--lines.*from 1 to 100000/);
  const encode = run('bench/kafkajs-encode.ts', ['--rounds', '0']);
  t.is(encode.status, 1);
  t.regex(encode.stderr, /--rounds.*from 1 to 20/);
  const watcher = run('bench/offset-watcher.ts', ['--polls', 'many']);
  t.is(watcher.status, 1);
  t.regex(watcher.stderr, /--polls/);
  t.notRegex(watcher.stderr, /KAFKA_BROKERS/);
});

test('chaos/run.ts: a mistyped option is refused (it used to run the whole suite), a filter matching nothing is named', (t) => {
  const typo = run('chaos/run.ts', ['--smok']);
  t.is(typo.status, 1);
  t.regex(typo.stderr, /unknown option '--smok'/);
  const none = run('chaos/run.ts', ['no-such-scenario']);
  t.not(none.status, 0);
  t.regex(none.stderr, /no scenario matches no-such-scenario; known: crash source.afterRead/);
});

test('chaos/run.ts: bad node settings are refused before anything starts, and so is merging a variant\'s rows into RELIABILITY.md', (t) => {
  for (const [args, named] of [
    [['--node-threads', '99'], /--node-threads.*"99" is not a whole number from 0 to 32/],
    [['--node-flags', '{"sink.parkWhenIdle":'], /--node-flags.*not JSON/],
    [['--node-flags', '{"sink.parkWhenIdel":true}'], /--node-flags: flags\.sink\.parkWhenIdel: unknown flag; known flags: /],
    [['--node-flags', '{"sink.parkWhenIdle":1}'], /--node-flags: flags\.sink\.parkWhenIdle: .*expected boolean/],
    [['--node-flags', '{"source.packRecords":true}', '--update'], /--node-flags runs a variant, whose rows do not merge into the table of RELIABILITY\.md/],
    [['--node-threads', '2', '--rewrite'], /--node-threads 2 runs a variant/],
    [['--node-config', '{"kafka":{"sinkParkIdleMS":1000}}'], /--node-config: kafka\.sinkParkIdleMS: unknown key/],
    [['--node-config', '{"kafka":{"sinkParkIdleMs":"1s"}}'], /--node-config: kafka\.sinkParkIdleMs: .*expected number/],
    [['--node-config', '{"kafka":{"sinkParkIdleMs":1000}}', '--update'], /--node-config runs a variant/],
  ] as const) {
    const r = run('chaos/run.ts', [...args]);
    t.is(r.status, 1, args.join(' '));
    t.regex(r.stderr, named, args.join(' '));
  }
});
