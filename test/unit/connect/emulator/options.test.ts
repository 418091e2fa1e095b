import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../../src/errors.js';
import { parseEmulatorOptions, parseFault, readAppsFile } from '../../../../src/connect/emulator/options.js';

const paths = (fn: () => unknown) => {
  const err = (() => {
    try {
      fn();
    } catch (e) {
      return e;
    }
    throw new Error('expected a ConfigError');
  })();
  if (!(err instanceof ConfigError)) throw err;
  return err.issues.map((i) => i.path).sort();
};

test('defaults fill a minimal apps list; a bare array is the apps list', (t) => {
  const o = parseEmulatorOptions([{ key: 'a', token: 't' }]);
  t.like(o, { host: '127.0.0.1', port: 0, keepAliveMs: 1_000, affinity: false, faults: {} });
  t.like(o.apps[0], { size: 'medium', retainEvents: 10_000, firstOffset: 1_000_000, initialEvents: 0, duplicateProbability: 0 });
});

test('bad values and unknown keys are reported with their paths', (t) => {
  t.deepEqual(
    paths(() =>
      parseEmulatorOptions({
        apps: [
          { key: 'ok', token: 't', size: 'huge', rate: 0, retainEvents: 0, typo: 1 },
          { key: 'bad key!', token: '', eventBytes: 10, duplicateProbability: 2, eventTypes: ['OPEN', 'NOPE', 'lower'] },
          { key: 'ok', token: 't' },
        ],
        keepAliveMs: 'soon',
        faults: { ghost: { closeAfterEvents: 1 }, '*': { status: { code: 418 } } },
      }),
    ),
    [
      'apps.0.rate', 'apps.0.retainEvents', 'apps.0.size', 'apps.0.typo', 'apps.1.duplicateProbability', 'apps.1.eventBytes',
      'apps.1.eventTypes.2', 'apps.1.key', 'apps.1.token', 'faults.*.status.code', 'keepAliveMs',
    ],
  );
  // Cross-field rules run once the shapes are right.
  t.deepEqual(
    paths(() => parseEmulatorOptions({ apps: [{ key: 'a', token: 't', eventTypes: ['NOPE'] }, { key: 'a', token: 't', eventTypes: ['COMPLIANCE'] }], faults: { ghost: {} } })),
    ['apps.0.eventTypes.0', 'apps.1.eventTypes', 'apps.1.key', 'faults.ghost'],
  );
  t.deepEqual(paths(() => parseEmulatorOptions({ apps: [] })), ['apps']);
});

test('faults validate every knob', (t) => {
  t.like(parseFault({ status: { code: 429, retryAfterSeconds: 3 } }), { status: { code: 429, count: 1, retryAfterSeconds: 3 } });
  t.deepEqual(paths(() => parseFault({ trickle: { everyMs: 0 }, malformedLine: 'a\nb', longLineBytes: 0, truncateMode: 'slow' })), [
    'longLineBytes', 'malformedLine', 'trickle.everyMs', 'truncateMode',
  ]);
});

test('an apps file must be readable JSON', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-emulator-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"apps":');
  t.throws(() => readAppsFile(bad), { message: /not valid JSON/ });
  t.throws(() => readAppsFile(join(dir, 'missing.json')), { message: /cannot read apps file/ });
  const list = join(dir, 'list.json');
  writeFileSync(list, '[{"key":"a","token":"t"}]');
  t.deepEqual(readAppsFile(list), { apps: [{ key: 'a', token: 't' }] });
});
