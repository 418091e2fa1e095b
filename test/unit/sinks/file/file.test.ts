// File sink pure parts: configuration, sortable names, rotation rule, safe directory names.
import test from 'ava';
import fc from 'fast-check';
import { ConfigError } from '../../../../src/errors.js';
import { validateFileConfig } from '../../../../src/sinks/file/config.js';
import { encodeBatch, fileName, isSafeSegment, rotationDue } from '../../../../src/sinks/file/request-builder.js';
import { makeRecords } from '../../../helpers/sink-compliance.js';

test('defaults, and bad values named under sink.*', (t) => {
  t.like(validateFileConfig({ type: 'file' }, { local: false }), { maxFileBytes: 64 * 1024 * 1024, rotateMs: 3_600_000, maxBatchEvents: 1000 });
  const err = t.throws(() => validateFileConfig({ type: 'file', maxFileBytes: 10, path: '/tmp', rotateMs: 'soon' }, { local: false }));
  t.true(err instanceof ConfigError);
  const paths = (err as ConfigError).issues.map((i) => i.path);
  t.true(paths.includes('sink.maxFileBytes'));
  t.true(paths.includes('sink.path'));
  t.true(paths.includes('sink.rotateMs'));
});

test('file names sort by creation time, then partition, then first offset', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.nat(9999), fc.bigInt({ min: 0n, max: 2n ** 63n - 1n })), { minLength: 2, maxLength: 20 }),
      (files) => {
        const named = files.map(([time, partition, offset]) => ({ time, partition, offset, name: fileName({ partition, offset: offset.toString() }, time) }));
        const byName = [...named].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        const byValue = [...named].sort((a, b) => a.time - b.time || a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
        return byName.every((f, i) => f.name === byValue[i]!.name);
      },
    ),
  );
  t.regex(fileName({ partition: 3, offset: '1234' }, Date.parse('2024-05-01T12:00:00.123Z')), /^20240501T120000123Z-p00003-o00000000000000001234\.ndjson$/);
  t.regex(fileName({ partition: 3, offset: '1234' }, 0, 2), /-2\.ndjson$/);
});

test('rotation: none open, too old, or a non-empty file that the batch would overfill', (t) => {
  const limits = { maxFileBytes: 1000, rotateMs: 60_000 };
  t.true(rotationDue(undefined, 10, 0, limits));
  t.false(rotationDue({ size: 500, openedAt: 0 }, 500, 59_999, limits));
  t.true(rotationDue({ size: 500, openedAt: 0 }, 501, 1, limits));
  t.true(rotationDue({ size: 0, openedAt: 0 }, 10, 60_000, limits));
  t.false(rotationDue({ size: 0, openedAt: 0 }, 5000, 1, limits), 'an oversize batch goes into the fresh empty file');
});

test('only safe single path segments can name a directory', (t) => {
  for (const ok of ['int-1', 'a.b_c', 'X'.repeat(200)]) t.true(isSafeSegment(ok), ok);
  for (const bad of ['', '.', '..', '../x', 'a/b', 'a\\b', 'a b', 'X'.repeat(201), 'é']) t.false(isSafeSegment(bad), bad);
});

test('a batch is NDJSON of the raw values', (t) => {
  const records = makeRecords(3);
  t.is(encodeBatch(records).toString(), records.map((r) => `${r.value.toString()}\n`).join(''));
});
