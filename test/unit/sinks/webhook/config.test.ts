// Webhook configuration: defaults, and bad values named by their path under `sink`.
import test from 'ava';
import { ConfigError } from '../../../../src/errors.js';
import { validateWebhookConfig } from '../../../../src/sinks/webhook/config.js';

const prod = { local: false };
const issuesOf = (raw: unknown, ctx = prod): string[] => {
  try {
    validateWebhookConfig(raw, ctx);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
};
const has = (issues: string[], pattern: RegExp): boolean => issues.some((i) => pattern.test(i));

test('a minimal config gets the documented defaults', (t) => {
  const c = validateWebhookConfig({ type: 'webhook', url: 'https://hooks.example.com/in' }, prod);
  t.like(c, { format: 'ndjson', gzip: false, auth: { type: 'none' }, timeoutMs: 30_000, maxBatchEvents: 500, maxBatchBytes: 1024 * 1024, headers: {} });
  t.like(c.retry, { initialMs: 500, maxMs: 60_000, multiplier: 2, maxRetryAgeMs: 6 * 3_600_000 });
});

test('a full config with references validates', (t) => {
  const c = validateWebhookConfig(
    {
      type: 'webhook',
      url: 'https://hooks.example.com/in',
      format: 'json-array',
      gzip: true,
      auth: { type: 'basic', username: 'tributary', password: { ref: 'env:HOOK_PASSWORD' } },
      signing: { secret: { ref: 'file:/run/secrets/hook-hmac' } },
      headers: { 'X-Team': 'growth' },
      retry: { maxRetryAgeMs: 3_600_000 },
    },
    prod,
  );
  t.is(c.auth.type, 'basic');
  t.is(c.retry.initialMs, 500);
});

test('bad values are reported with their sink.* path', (t) => {
  t.true(has(issuesOf({ type: 'webhook', url: 'http://hooks.example.com/' }), /^sink\.url: must be https$/));
  t.true(has(issuesOf({ type: 'webhook', url: 'https://10.0.0.5/' }), /^sink\.url: .*private/));
  t.true(has(issuesOf({ type: 'webhook', url: 'https://169.254.169.254/' }), /^sink\.url: .*link-local/));
  t.true(has(issuesOf({ type: 'webhook', url: 'https://127.1/' }), /^sink\.url: .*non-canonical/));
  t.true(has(issuesOf({ type: 'webhook', url: 'https://bob:pw@hooks.example.com/' }), /^sink\.url: .*userinfo/));
  t.true(has(issuesOf({ type: 'webhook', url: 'https://hooks.example.com/', retries: 3 }), /^sink\.retries: unknown key$/));
  t.true(has(issuesOf({ type: 'webhook', url: 'https://hooks.example.com/', retry: { initalMs: 1 } }), /^sink\.retry\.initalMs: unknown key$/));
  t.true(has(issuesOf({ type: 'webhook', url: 'https://hooks.example.com/', auth: { type: 'bearer' } }), /^sink\.auth\.token: /));
  t.true(has(issuesOf({ type: 'webhook', url: 'https://hooks.example.com/', auth: { type: 'bearer', token: { ref: 'vault:x' } } }), /^sink\.auth\.token/));
  t.true(has(issuesOf({ type: 'webhook', url: 'https://hooks.example.com/', auth: { type: 'bearer', token: 'plain' } }), /^sink\.auth\.token/));
  t.true(has(issuesOf({ type: 'webhook', url: 'https://hooks.example.com/', signing: {} }), /^sink\.signing\.secret/));
  t.true(has(issuesOf({ type: 'webhook', url: 'https://hooks.example.com/', format: 'xml' }), /^sink\.format/));
  t.true(has(issuesOf({ type: 'webhook', url: 'https://hooks.example.com/', timeoutMs: -1 }), /^sink\.timeoutMs/));
  t.true(has(issuesOf({ type: 'webhook', url: 'https://hooks.example.com/', maxBatchEvents: 0 }), /^sink\.maxBatchEvents/));
  t.true(has(issuesOf({ type: 'webhook' }), /^sink\.url/));
  t.true(has(issuesOf({ type: 'webhook', url: 'https://hooks.example.com/', retry: { initialMs: 5000, maxMs: 100 } }), /^sink\.retry\.maxMs: must be at least/));
});

test('credential and framing headers cannot be set as static headers', (t) => {
  for (const h of ['Authorization', 'content-type', 'X-Tributary-Signature', 'Cookie', 'Host']) {
    t.true(has(issuesOf({ type: 'webhook', url: 'https://hooks.example.com/', headers: { [h]: 'x' } }), new RegExp(`^sink\\.headers\\.${h}: is reserved`)), h);
  }
  t.true(has(issuesOf({ type: 'webhook', url: 'https://hooks.example.com/', headers: { 'X-A': 'a\r\nInjected: 1' } }), /^sink\.headers\.X-A/));
});

test('inline secret values are refused outside local mode and accepted in it', (t) => {
  const raw = { type: 'webhook', url: 'https://hooks.example.com/', auth: { type: 'bearer', token: { value: 'abc' } }, signing: { secret: { value: 'k' } } };
  const issues = issuesOf(raw);
  t.true(has(issues, /^sink\.auth\.token: inline secret values are allowed in local mode only/));
  t.true(has(issues, /^sink\.signing\.secret: inline/));
  t.deepEqual(issuesOf(raw, { local: true }), []);
});

test('local mode allows http to loopback only', (t) => {
  t.deepEqual(issuesOf({ type: 'webhook', url: 'http://127.0.0.1:9999/in' }, { local: true }), []);
  t.true(has(issuesOf({ type: 'webhook', url: 'http://127.0.0.1:9999/in' }), /^sink\.url: must be https/));
  t.true(has(issuesOf({ type: 'webhook', url: 'http://192.168.0.2/in' }, { local: true }), /^sink\.url: .*private/));
});

test('the error message never echoes a secret value', (t) => {
  try {
    validateWebhookConfig({ type: 'webhook', url: 'https://hooks.example.com/', auth: { type: 'bearer', token: { value: 'SUPER-SECRET-CANARY' } } }, prod);
    t.fail();
  } catch (err) {
    t.false(String((err as Error).message).includes('SUPER-SECRET-CANARY'));
  }
});
