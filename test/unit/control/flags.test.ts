import test from 'ava';
import fc from 'fast-check';
import { changedFlagScopes, flagCatalogue, flagNames, resolveFlags, type FlagName } from '../../../src/control/flags.js';
import { parseSpec } from '../../../src/control/spec.js';
import { parseNodeConfig } from '../../../src/config/node-config.js';
import { ConfigError } from '../../../src/errors.js';
import { validateSinkConfig } from '../../../src/sinks/registry.js';
import { integrationFlags, sinkConfigWithFlags } from '../../../src/actors/integration-tasks.js';

const spec = {
  version: 1,
  id: 'acme-ios-webhook',
  app: { key: 'appA', size: 'large' },
  connect: { url: 'https://connect.urbanairship.com/api/events', token: { ref: 'env:T' } },
  sink: { type: 'webhook', url: 'https://hooks.example.com/connect' },
};

const issues = (fn: () => unknown): string[] => {
  try {
    fn();
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
};

test('every flag is off by default and declares a scope', (t) => {
  const r = resolveFlags({}, 'appA', undefined);
  for (const n of flagNames) {
    t.is(r[n], flagCatalogue[n].default);
    t.true(['source', 'sink', 'alerting'].includes(flagCatalogue[n].scope));
  }
  t.false(r['alerting.lagGrowth']);
  t.false(r['sink.webhook.gzipDefault']);
});

test('precedence: default < node flags < flagsByApp[app] < spec flags', (t) => {
  const node = { flags: { 'alerting.lagGrowth': true, 'sink.webhook.gzipDefault': true }, flagsByApp: { appA: { 'alerting.lagGrowth': false } } };
  t.true(resolveFlags(node, 'appB', undefined)['alerting.lagGrowth']);
  t.false(resolveFlags(node, 'appA', undefined)['alerting.lagGrowth']);
  t.true(resolveFlags(node, 'appA', { 'alerting.lagGrowth': true })['alerting.lagGrowth']);
  t.false(resolveFlags(node, 'appB', { 'sink.webhook.gzipDefault': false })['sink.webhook.gzipDefault']);
});

test('resolution is pure: the most specific layer that names a flag wins (property)', (t) => {
  const layer = fc.dictionary(fc.constantFrom(...flagNames), fc.boolean());
  fc.assert(
    fc.property(layer, layer, layer, fc.constantFrom('appA', 'appB'), (fleet, app, own, appKey) => {
      const node = { flags: fleet, flagsByApp: { appA: app } };
      const r = resolveFlags(node, appKey, own);
      t.deepEqual(resolveFlags(node, appKey, own), r);
      for (const n of flagNames) {
        const expected = own[n] ?? (appKey === 'appA' ? app[n] : undefined) ?? fleet[n] ?? flagCatalogue[n].default;
        if (r[n] !== expected) return false;
      }
      return true;
    }),
  );
  t.pass();
});

test('an unknown flag name is rejected with its path, in a spec and in the node config', (t) => {
  const p = issues(() => parseSpec({ ...spec, flags: { 'alerting.lagGrowht': true } }, { local: false, validateSink: validateSinkConfig }));
  t.is(p.length, 1);
  t.regex(p[0]!, /^flags\.alerting\.lagGrowht: unknown flag; known flags: /);
  t.regex(issues(() => parseNodeConfig({ flags: { nope: true } })).join(), /^flags\.nope: unknown flag/);
  t.regex(issues(() => parseNodeConfig({ flagsByApp: { appA: { nope: true } } })).join(), /^flagsByApp\.appA\.nope: unknown flag/);
  t.regex(issues(() => parseNodeConfig({ flags: { 'alerting.lagGrowth': 'yes' } })).join(), /^flags\.alerting\.lagGrowth: /);
  t.deepEqual(parseSpec({ ...spec, flags: { 'alerting.lagGrowth': true } }, { local: false }).flags, { 'alerting.lagGrowth': true });
});

test('changedFlagScopes names the scope of each flipped flag only', (t) => {
  const base = resolveFlags({}, 'a', undefined);
  t.deepEqual([...changedFlagScopes(base, base)], []);
  t.deepEqual([...changedFlagScopes(base, resolveFlags({}, 'a', { 'alerting.lagGrowth': true }))], ['alerting']);
  t.deepEqual([...changedFlagScopes(base, resolveFlags({}, 'a', { 'sink.webhook.gzipDefault': true }))], ['sink']);
  const both = resolveFlags({}, 'a', { 'sink.webhook.gzipDefault': true, 'alerting.lagGrowth': true });
  t.deepEqual(new Set(changedFlagScopes(base, both)), new Set(['sink', 'alerting']));
});

test('sink.webhook.gzipDefault: on gzips webhooks that do not say, off leaves them plain; the spec always wins', (t) => {
  const node = (on: boolean) => ({ config: parseNodeConfig({ flags: { 'sink.webhook.gzipDefault': on } }) });
  const parsed = parseSpec(spec, { local: false });
  const gzipOf = (on: boolean, sink: Record<string, unknown>) => {
    const v = validateSinkConfig(sinkConfigWithFlags({ type: 'webhook', ...sink }, integrationFlags(node(on), parsed)), { local: false }) as { gzip: boolean };
    return v.gzip;
  };
  t.true(gzipOf(true, { url: 'https://h.example.com/' }));
  t.false(gzipOf(false, { url: 'https://h.example.com/' }));
  t.false(gzipOf(true, { url: 'https://h.example.com/', gzip: false }));
  t.true(gzipOf(false, { url: 'https://h.example.com/', gzip: true }));
  // Other sinks are untouched.
  const s3 = { type: 's3', bucket: 'b-ucket' };
  t.is(sinkConfigWithFlags(s3, resolveFlags({ flags: { 'sink.webhook.gzipDefault': true } }, 'a', undefined)), s3);
});

test('the catalogue and docs/flags.md list the same flags with the same scope and default', async (t) => {
  const { readFileSync } = await import('node:fs');
  const doc = readFileSync('docs/flags.md', 'utf8');
  for (const n of flagNames as FlagName[]) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${n}\``));
    t.truthy(row, `docs/flags.md lists ${n}`);
    t.true(row!.includes(`| ${flagCatalogue[n].scope} |`), `${n} scope`);
    t.true(row!.includes(`| ${flagCatalogue[n].default ? 'on' : 'off'} |`), `${n} default`);
  }
  const documented = doc.split('\n').filter((l) => /^\| `[a-z]+\.[A-Za-z.]+` \|/.test(l)).length;
  t.is(documented, flagNames.length);
});
