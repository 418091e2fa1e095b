import test from 'ava';
import fc from 'fast-check';
import {
  changedFlagScopes,
  flagCatalogue,
  flagNames,
  flagRecordKey,
  flagRecordValue,
  overrideSettings,
  overridesFromRecords,
  parseFlagRecord,
  resolveFlags,
  type FlagName,
} from '../../../src/control/flags.js';
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

test('precedence with the flags topic: node flags < topic fleet < node flagsByApp < topic app < spec (property)', (t) => {
  const layer = fc.dictionary(fc.constantFrom(...flagNames), fc.boolean());
  fc.assert(
    fc.property(layer, layer, layer, layer, layer, fc.constantFrom('appA', 'appB'), (nodeFleet, topicFleet, nodeApp, topicApp, own, appKey) => {
      const topic = { fleet: topicFleet, byApp: new Map([['appA', topicApp]]) };
      const r = resolveFlags({ flags: nodeFleet, flagsByApp: { appA: nodeApp } }, appKey, own, topic);
      const a = appKey === 'appA';
      for (const n of flagNames) {
        const expected = own[n] ?? (a ? topicApp[n] : undefined) ?? (a ? nodeApp[n] : undefined) ?? topicFleet[n] ?? nodeFleet[n] ?? flagCatalogue[n].default;
        if (r[n] !== expected) return false;
      }
      return true;
    }),
  );
  t.pass();
});

test('flags-topic records: one key per (scope, flag), {"value": bool}, a tombstone clears', (t) => {
  t.is(flagRecordKey({ name: 'sink.parkWhenIdle' }), 'fleet/sink.parkWhenIdle');
  t.is(flagRecordKey({ name: 'sink.parkWhenIdle', appKey: 'appA' }), 'app/appA/sink.parkWhenIdle');
  t.deepEqual(parseFlagRecord('fleet/sink.parkWhenIdle', flagRecordValue(true)), { name: 'sink.parkWhenIdle', appKey: undefined, value: true });
  t.deepEqual(parseFlagRecord('app/appA/alerting.lagGrowth', Buffer.from('{"value":false}')), { name: 'alerting.lagGrowth', appKey: 'appA', value: false });
  t.deepEqual(parseFlagRecord('app/appA/alerting.lagGrowth', null), { name: 'alerting.lagGrowth', appKey: 'appA', value: undefined });
  t.is(flagRecordValue(null), null);
});

test('bad flags-topic records and settings are refused with the path of the problem', (t) => {
  const bad: [string, string | null, RegExp][] = [
    ['sink.parkWhenIdle', '{"value":true}', /^key: must be fleet\/<flag> or app\/<appKey>\/<flag>/],
    ['fleet/sink.parkWhenIdel', '{"value":true}', /^flag: unknown flag "sink.parkWhenIdel"/],
    ['app//sink.parkWhenIdle', '{"value":true}', /^app: must be an Airship app key/],
    ['app/a b/sink.parkWhenIdle', '{"value":true}', /^app: must be an Airship app key/],
    ['fleet/sink.parkWhenIdle', 'on', /^value: not JSON/],
    ['fleet/sink.parkWhenIdle', '{"value":"yes"}', /^value\.value: /],
    ['fleet/sink.parkWhenIdle', '{"value":true,"until":"x"}', /^value: /],
    ['fleet/sink.parkWhenIdle', '[]', /^value: /],
  ];
  for (const [key, value, re] of bad) {
    const p = issues(() => parseFlagRecord(key, value));
    t.is(p.length, 1, key);
    t.regex(p[0]!, re, `${key} = ${value}`);
  }
  t.regex(issues(() => flagRecordKey({ name: 'nope' })).join(), /^flag: unknown flag "nope"; known flags: /);
  t.regex(issues(() => flagRecordKey({ name: 'sink.parkWhenIdle', appKey: 'x'.repeat(65) })).join(), /^app: /);
});

test('overrides from a read of the flags topic: newest per key, tombstones and bad records change nothing', (t) => {
  const refused: string[] = [];
  const o = overridesFromRecords(
    [
      { key: 'fleet/sink.parkWhenIdle', value: '{"value":true}' },
      { key: 'app/appA/sink.parkWhenIdle', value: '{"value":false}' },
      { key: 'app/appA/alerting.lagGrowth', value: null },
      { key: 'app/appB/sink.webhook.gzipDefault', value: '{"value":true}' },
      { key: 'fleet/alerting.lagGrowth', value: '{"value":"on"}' },
      { key: 'garbage', value: 'x' },
    ],
    (key) => refused.push(key),
  );
  t.deepEqual(refused, ['fleet/alerting.lagGrowth', 'garbage']);
  t.deepEqual(overrideSettings(o), [
    { scope: 'fleet', name: 'sink.parkWhenIdle', value: true },
    { scope: 'app:appA', name: 'sink.parkWhenIdle', value: false },
    { scope: 'app:appB', name: 'sink.webhook.gzipDefault', value: true },
  ]);
  t.false(resolveFlags({}, 'appA', undefined, o)['sink.parkWhenIdle']);
  t.true(resolveFlags({}, 'appC', undefined, o)['sink.parkWhenIdle']);
  t.false(resolveFlags({}, 'appC', undefined, o)['alerting.lagGrowth'], 'a refused record leaves the flag as the layers below say');
  // With the overrides in force before, a refused value keeps the last good one for its setting.
  const kept = overridesFromRecords([{ key: 'fleet/sink.parkWhenIdle', value: '{"value":1}' }, { key: 'app/appA/sink.parkWhenIdle', value: 'x' }], () => undefined, o);
  t.deepEqual(overrideSettings(kept), [
    { scope: 'fleet', name: 'sink.parkWhenIdle', value: true },
    { scope: 'app:appA', name: 'sink.parkWhenIdle', value: false },
  ]);
});

test('flags-topic log in offset order: a refused record keeps the last good value before it (every node alike); a tombstone clears; a later good record supersedes a refused one', (t) => {
  const k = 'fleet/sink.parkWhenIdle';
  const read = (values: (string | null)[]) => {
    const refused: string[] = [];
    const o = overridesFromRecords(values.map((value) => ({ key: k, value })), (key) => refused.push(key));
    return { on: o.fleet['sink.parkWhenIdle'], refused };
  };
  t.deepEqual(read(['{"value":true}', '{"value":"yes"}']), { on: true, refused: [k] });
  t.deepEqual(read(['{"value":true}', '{"value":"yes"}', null]), { on: undefined, refused: [] });
  t.deepEqual(read(['{"value":"yes"}', '{"value":false}']), { on: false, refused: [] });
  t.deepEqual(read(['{"value":false}', null, 'junk']), { on: undefined, refused: [k] }, 'nothing good since the tombstone: no value');
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
