import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNodeConfig, parseNodeConfig, resolveNodeId } from '../../../src/config/node-config.js';
import { ConfigError } from '../../../src/errors.js';

const root = mkdtempSync(join(tmpdir(), 'tributary-config-'));
test.after.always(() => rmSync(root, { recursive: true, force: true }));
let files = 0;

function file(contents: string): string {
  const path = join(root, `node-${files++}.json`);
  writeFileSync(path, contents);
  return path;
}

test('defaults fill an empty config', (t) => {
  const c = parseNodeConfig({});
  t.deepEqual(c.kafka.brokers, ['127.0.0.1:9092']);
  t.is(c.dynamodb.table, 'tributary-integrations');
  t.is(c.http.port, 8080);
  t.false(c.local);
});

test('a wrong type is rejected with a message naming the key', (t) => {
  const err = t.throws(() => loadNodeConfig({ file: file('{"http":{"port":"eighty"}}'), env: {} }), { instanceOf: ConfigError });
  t.regex(err!.message, /http\.port/);
  t.deepEqual(err!.issues.map((i) => i.path), ['http.port']);
});

test('an unknown key is rejected with its full path', (t) => {
  const err = t.throws(() => loadNodeConfig({ file: file('{"kafka":{"brokers":["a:1"],"bootstrap":"x"}}'), env: {} }), {
    instanceOf: ConfigError,
  });
  t.deepEqual(err!.issues, [{ path: 'kafka.bootstrap', message: 'unknown key' }]);
});

test('invalid JSON and a missing file give clear errors', (t) => {
  t.throws(() => loadNodeConfig({ file: file('{"kafka":'), env: {} }), { message: /not valid JSON/ });
  t.throws(() => loadNodeConfig({ file: '/nonexistent/tributary.json', env: {} }), { message: /cannot read config file/ });
  t.throws(() => loadNodeConfig({ file: file('[1,2]'), env: {} }), { message: /JSON object/ });
});

test('environment overrides the file, and a bad env value names the key it maps to', (t) => {
  const path = file('{"kafka":{"brokers":["file:9092"]},"http":{"port":9000}}');
  const c = loadNodeConfig({ file: path, env: { KAFKA_BROKERS: 'a:1, b:2', DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' } });
  t.deepEqual(c.kafka.brokers, ['a:1', 'b:2']);
  t.is(c.dynamodb.endpoint, 'http://127.0.0.1:8000');
  t.is(c.http.port, 9000);
  const err = t.throws(() => loadNodeConfig({ env: { TRIBUTARY_HTTP_PORT: 'abc' } }), { instanceOf: ConfigError });
  t.regex(err!.message, /http\.port/);
  t.throws(() => loadNodeConfig({ env: { KAFKA_BROKERS: 'no-port' } }), { message: /kafka\.brokers\.0: must be host:port/ });
  t.throws(() => loadNodeConfig({ env: { TRIBUTARY_LOCAL: 'maybe' } }), { message: /local/ });
});

test('node id comes from config, then the ECS task, then hostname and pid', (t) => {
  t.is(resolveNodeId(parseNodeConfig({ nodeId: 'n1' }), {}), 'n1');
  t.is(
    resolveNodeId(parseNodeConfig({}), { ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/0123456789abcdef0123456789abcdef-123' }),
    'ecs-0123456789abcdef0123456789abcdef',
  );
  t.regex(resolveNodeId(parseNodeConfig({}), {}), new RegExp(`-${process.pid}$`));
});

test('sink fetch and parking tuning: defaults, and out-of-range values name their key', (t) => {
  const c = parseNodeConfig({});
  t.is(c.kafka.fetchMaxWaitMs, 1_000);
  t.is(c.kafka.fetchMinBytes, 1);
  t.is(c.kafka.sinkParkIdleMs, 15_000);
  t.is(c.kafka.parkPollMs, 1_000);
  for (const [key, value] of [
    ['fetchMinBytes', 0],
    ['fetchMinBytes', 32 * 1024 * 1024],
    ['fetchMinBytes', 1.5],
    ['fetchMaxWaitMs', 5],
    ['fetchMaxWaitMs', 60_000],
    ['sinkParkIdleMs', 0],
    ['sinkParkIdleMs', 'soon'],
    ['parkPollMs', 10],
    ['parkPollMs', 120_000],
  ] as const) {
    const err = t.throws(() => parseNodeConfig({ kafka: { [key]: value } }), { instanceOf: ConfigError }, `${key}=${value}`);
    t.deepEqual(err!.issues.map((i) => i.path), [`kafka.${key}`]);
  }
});

test('Connect parse threads: defaults, 0 to parse on the event loop, and bad values name their key', (t) => {
  const c = parseNodeConfig({});
  t.is(c.connect.parseThreads, 1);
  t.is(c.connect.parseMinLines, 64);
  t.is(c.connect.inflateMinBytes, 16 * 1024);
  t.is(parseNodeConfig({ connect: { parseThreads: 0 } }).connect.parseThreads, 0);
  t.is(parseNodeConfig({ connect: { inflateMinBytes: 0 } }).connect.inflateMinBytes, 0);
  for (const [key, value] of [
    ['parseThreads', -1],
    ['parseThreads', 17],
    ['parseThreads', 1.5],
    ['parseThreads', 'two'],
    ['parseMinLines', 0],
    ['parseMinLines', 1e6],
    ['inflateMinBytes', -1],
    ['inflateMinBytes', 1.5],
    ['inflateMinBytes', 32 * 1024 * 1024],
    ['inflateMinBytes', '16k'],
  ] as const) {
    const err = t.throws(() => parseNodeConfig({ connect: { [key]: value } }), { instanceOf: ConfigError }, `${key}=${value}`);
    t.deepEqual(err!.issues.map((i) => i.path), [`connect.${key}`]);
  }
  const unknown = t.throws(() => parseNodeConfig({ connect: { threads: 2 } }), { instanceOf: ConfigError });
  t.regex(JSON.stringify(unknown!.issues), /threads/);
  // TRIBUTARY_PARSE_THREADS overrides the file; a bad value names the variable's key.
  t.is(loadNodeConfig({ env: { TRIBUTARY_PARSE_THREADS: '0' } }).connect.parseThreads, 0);
  for (const bad of ['two', '-1', '1.5', '99']) {
    t.throws(() => loadNodeConfig({ env: { TRIBUTARY_PARSE_THREADS: bad } }), { instanceOf: ConfigError }, bad);
  }
  t.is(loadNodeConfig({ env: { TRIBUTARY_INFLATE_MIN_BYTES: '0' } }).connect.inflateMinBytes, 0);
  for (const bad of ['none', '-1', '2.5']) {
    t.throws(() => loadNodeConfig({ env: { TRIBUTARY_INFLATE_MIN_BYTES: bad } }), { instanceOf: ConfigError }, bad);
  }
});

test('integration threads: 0 by default (the main thread), and bad values in the file or TRIBUTARY_INTEGRATION_THREADS name their key', (t) => {
  t.is(parseNodeConfig({}).integrations.threads, 0);
  t.is(parseNodeConfig({ integrations: { threads: 4 } }).integrations.threads, 4);
  t.is(loadNodeConfig({ env: { TRIBUTARY_INTEGRATION_THREADS: '2' } }).integrations.threads, 2);
  for (const bad of [-1, 33, 1.5, 'two', null]) {
    const err = t.throws(() => parseNodeConfig({ integrations: { threads: bad } }), { instanceOf: ConfigError }, String(bad));
    t.deepEqual(err!.issues.map((i) => i.path), ['integrations.threads'], String(bad));
  }
  for (const bad of ['two', '-1', '1.5', '99']) {
    const err = t.throws(() => loadNodeConfig({ env: { TRIBUTARY_INTEGRATION_THREADS: bad } }), { instanceOf: ConfigError }, bad);
    t.deepEqual(err!.issues.map((i) => i.path), ['integrations.threads'], bad);
  }
  t.deepEqual(
    t.throws(() => parseNodeConfig({ integrations: { thread: 2 } }), { instanceOf: ConfigError })!.issues,
    [{ path: 'integrations.thread', message: 'unknown key' }],
  );
});

test('TRIBUTARY_FLAGS sets the fleet-wide flags as JSON, replacing the file\'s; bad values name the key', (t) => {
  const flags = { 'source.packRecords': true, 'sink.parkWhenIdle': true };
  t.deepEqual(loadNodeConfig({ env: { TRIBUTARY_FLAGS: JSON.stringify(flags) } }).flags, flags);
  const fromFile = file('{"flags":{"alerting.lagGrowth":true}}');
  t.deepEqual(loadNodeConfig({ file: fromFile, env: {} }).flags, { 'alerting.lagGrowth': true });
  t.deepEqual(loadNodeConfig({ file: fromFile, env: { TRIBUTARY_FLAGS: JSON.stringify(flags) } }).flags, flags);
  for (const [bad, path] of [
    ['sink.parkWhenIdle=true', 'flags'],
    ['{"sink.parkWhenIdle":"yes"}', 'flags.sink.parkWhenIdle'],
    ['{"sink.parkWhenIdel":true}', 'flags.sink.parkWhenIdel'],
    ['[true]', 'flags'],
    ['null', 'flags'],
    ['{"sink.parkWhenIdle":true', 'flags'],
  ] as const) {
    const err = t.throws(() => loadNodeConfig({ env: { TRIBUTARY_FLAGS: bad } }), { instanceOf: ConfigError }, bad);
    t.deepEqual(err!.issues.map((i) => i.path), [path], bad);
  }
});
