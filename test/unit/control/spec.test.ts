import test from 'ava';
import { ConfigError } from '../../../src/errors.js';
import { MAX_SPEC_BYTES, parseSpec } from '../../../src/control/spec.js';
import { validateSinkConfig } from '../../../src/sinks/registry.js';

const good = {
  version: 1,
  id: 'acme-ios-webhook',
  app: { key: 'ISex_TTJRuarzs9n_2DFhQ', size: 'large' },
  connect: { url: 'https://connect.urbanairship.com/api/events', token: { ref: 'env:ACME_CONNECT_TOKEN' }, start: 'EARLIEST' },
  sink: { type: 'webhook', url: 'https://hooks.example.com/connect' },
};

const parse = (raw: unknown, local = false) => parseSpec(raw, { local, validateSink: validateSinkConfig });

function problems(raw: unknown, local = false): string[] {
  try {
    parse(raw, local);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

test('a valid spec parses with defaults', (t) => {
  const s = parse(good);
  t.is(s.state, 'running');
  t.is(s.options.batch.maxEvents, 500);
  t.is(s.connect.start, 'EARLIEST');
});

test('bad specs are rejected with the path of each problem', (t) => {
  t.regex(problems({ ...good, extra: 1 }).join(), /^extra: unknown key/);
  t.regex(problems({ ...good, version: 2 }).join(), /version/);
  t.regex(problems({ ...good, id: 'Bad Id!' }).join(), /^id: /);
  t.regex(problems({ ...good, app: { key: 'k', size: 'huge' } }).join(), /app\.size/);
  t.regex(problems({ ...good, connect: { ...good.connect, url: 'http://connect.urbanairship.com/api/events' } }).join(), /connect\.url: must be https/);
  t.regex(problems({ ...good, connect: { ...good.connect, url: 'https://evil.example.com/api/events' } }).join(), /connect\.url: host must be one of/);
  t.regex(problems({ ...good, connect: { ...good.connect, token: undefined } }).join(), /connect\.token/);
  t.regex(problems({ ...good, connect: { ...good.connect, token: { ref: 'vault:x' } } }).join(), /connect\.token/);
  t.regex(problems({ ...good, connect: { ...good.connect, token: { value: 'secret-inline' } } }).join(), /connect\.token: inline secret values are allowed in local mode only/);
  t.regex(problems({ ...good, connect: { ...good.connect, filters: [] } }).join(), /connect\.filters/);
  t.regex(problems({ ...good, sink: { type: 'carrier-pigeon' } }).join(), /sink\.type: unknown sink type/);
  t.regex(problems({ ...good, sink: { type: 'webhook', url: 'http://10.0.0.1/hook' } }).join(), /sink\.url/);
});

test('options.canary: bounds parse with the silence default; bad bounds and unknown keys are rejected with their path', (t) => {
  t.deepEqual(parse({ ...good, options: { canary: { maxLatencyMs: 30_000 } } }).options.canary, { maxLatencyMs: 30_000, maxSilenceMs: 60_000 });
  t.is(parse(good).options.canary, undefined);
  t.regex(problems({ ...good, options: { canary: {} } }).join(), /^options\.canary\.maxLatencyMs/);
  t.regex(problems({ ...good, options: { canary: { maxLatencyMs: 10 } } }).join(), /^options\.canary\.maxLatencyMs/);
  t.regex(problems({ ...good, options: { canary: { maxLatencyMs: '30s' } } }).join(), /^options\.canary\.maxLatencyMs/);
  t.regex(problems({ ...good, options: { canary: { maxLatencyMs: 1_000, maxSilenceMs: 0 } } }).join(), /^options\.canary\.maxSilenceMs/);
  t.regex(problems({ ...good, options: { canary: { maxLatencyMs: 1_000, bound: 5 } } }).join(), /^options\.canary\.bound: unknown key/);
});

test('raw documents: invalid JSON and oversized documents are rejected', (t) => {
  t.throws(() => parse(Buffer.from('{"version":1,')), { message: /not valid JSON/ });
  const big = Buffer.alloc(MAX_SPEC_BYTES + 1, 0x20);
  t.throws(() => parse(big), { message: /limit is 65536/ });
  t.throws(() => parse(Buffer.from(JSON.stringify({ ...good, sink: { type: 'webhook', url: 'https://h.example.com', padding: 'x'.repeat(10 * 1024 * 1024) } }))), {
    message: /limit/,
  });
});

test('local mode allows an http emulator on loopback and inline secrets', (t) => {
  const local = { ...good, connect: { url: 'http://127.0.0.1:4000/api/events', token: { value: 'dev-token' } }, sink: { type: 'webhook', url: 'http://127.0.0.1:9000/hook' } };
  t.notThrows(() => parse(local, true));
  t.true(problems(local, false).length > 0);
  // Each mode keeps its own (cached) schema, in whichever order they are first used.
  t.notThrows(() => parse(local, true));
  t.true(problems(local, false).some((p) => p.startsWith('connect.')));
});
