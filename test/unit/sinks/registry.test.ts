// The registry: the spec's `sink.type` picks a definition; unknown types are named with the known ones.
import test from 'ava';
import { ConfigError } from '../../../src/errors.js';
import { sinkDefinitions, sinkTypes, validateSinkConfig } from '../../../src/sinks/registry.js';

const issues = (raw: unknown, ctx: { local: boolean; path?: string } = { local: false }) => {
  try {
    validateSinkConfig(raw, ctx);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues;
  }
};

test('every definition is registered under its own type', (t) => {
  for (const [type, def] of Object.entries(sinkDefinitions)) t.is(def.type, type);
  t.deepEqual([...sinkTypes].sort(), ['amplitude', 'file', 'firehose', 'kinesis', 'mixpanel', 's3', 'segment', 'webhook']);
});

test('an unknown or missing type is reported at sink.type with the known types', (t) => {
  const [i] = issues({ type: 'kafka' });
  t.is(i?.path, 'sink.type');
  t.regex(i!.message, /unknown sink type "kafka"; one of: webhook, file, /);
  t.is(issues({ url: 'https://x.example' })[0]?.path, 'sink.type');
  t.is(issues(null)[0]?.path, 'sink');
  t.is(issues([])[0]?.path, 'sink');
  t.is(issues({ type: 'toString' })[0]?.path, 'sink.type', 'no prototype keys');
});

test('a known type is validated by its definition, with sink.* paths', (t) => {
  t.deepEqual(issues({ type: 'webhook', url: 'http://hooks.example.com' }).map((i) => i.path), ['sink.url']);
  const v = validateSinkConfig({ type: 'file' }, { local: true });
  t.is(v.type, 'file');
});

test('the path root can be moved for a sink nested elsewhere', (t) => {
  t.deepEqual(issues({ type: 'webhook', url: 'http://hooks.example.com' }, { local: false, path: 'spec.sink' }).map((i) => i.path), ['spec.sink.url']);
  t.deepEqual(issues({ type: 'nope' }, { local: false, path: 'spec.sink' }).map((i) => i.path), ['spec.sink.type']);
});
