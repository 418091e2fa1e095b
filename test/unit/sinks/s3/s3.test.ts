// The s3 sink's pure parts: configuration (defaults, sink.* paths, the shared AWS keys), the
// deterministic key layout, and how a batch is grouped into objects (a property over sizes).
import test from 'ava';
import fc from 'fast-check';
import { gunzipSync } from 'node:zlib';
import { ConfigError } from '../../../../src/errors.js';
import { validateS3Config } from '../../../../src/sinks/s3/config.js';
import { buildObject, keySegment, objectKey, planObjects, timePartition } from '../../../../src/sinks/s3/request-builder.js';
import { makeRecords } from '../../../helpers/sink-compliance.js';

const issuesOf = (raw: unknown, local = false): string[] => {
  try {
    validateS3Config(raw, { local });
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
};

test('s3 config: a minimal config gets the documented defaults', (t) => {
  const c = validateS3Config({ type: 's3', bucket: 'acme-events', region: 'eu-west-1' }, { local: false });
  t.like(c, {
    prefix: '',
    credentials: { type: 'default' },
    forcePathStyle: false,
    maxBatchEvents: 10_000,
    maxBatchBytes: 8 * 1024 * 1024,
    maxBatchAgeMs: 300_000,
    timeoutMs: 30_000,
    retry: { initialMs: 200, maxMs: 30_000, maxRecordAttempts: 3 },
  });
  t.is(validateS3Config({ type: 's3', bucket: 'acme-events', region: 'eu-west-1', prefix: 'a/b' }, { local: false }).prefix, 'a/b/', 'a trailing slash is added');
});

test('s3 config: bad values are named by their path under sink', (t) => {
  const issues = issuesOf({ type: 's3', bucket: 'Bad_Bucket', region: 'mars', prefix: '/abs', extra: 1 });
  t.true(issues.some((i) => i.startsWith('sink.bucket:')));
  t.true(issues.some((i) => i.startsWith('sink.region:')));
  t.true(issues.some((i) => i.startsWith('sink.prefix:')));
  t.true(issues.some((i) => i === 'sink.extra: unknown key'));
  t.true(issuesOf({ type: 's3', bucket: 'a..b', region: 'us-east-1' }).some((i) => i.startsWith('sink.bucket:')));
  t.true(issuesOf({ type: 's3', bucket: 'abc', region: 'us-east-1', prefix: 'a//b' }).some((i) => i.startsWith('sink.prefix:')));
});

test('s3 config: endpoint overrides are AWS https hosts in production, loopback only in local mode', (t) => {
  const base = { type: 's3', bucket: 'abc', region: 'us-east-1' };
  t.deepEqual(issuesOf({ ...base, endpoint: 'https://bucket.vpce-1a2b3c4d-5e6f.s3.us-east-1.vpce.amazonaws.com' }), []);
  t.true(issuesOf({ ...base, endpoint: 'http://127.0.0.1:4569' }).some((i) => i.startsWith('sink.endpoint: must be https')));
  t.true(issuesOf({ ...base, endpoint: 'https://169.254.169.254' }).some((i) => i.startsWith('sink.endpoint: must be an AWS endpoint')));
  t.true(issuesOf({ ...base, endpoint: 'https://minio.internal.example' }).some((i) => i.startsWith('sink.endpoint:')));
  t.deepEqual(issuesOf({ ...base, endpoint: 'http://127.0.0.1:4569' }, true), []);
  t.true(issuesOf({ ...base, endpoint: 'http://10.0.0.5:9000' }, true).some((i) => i.startsWith('sink.endpoint:')));
  t.true(issuesOf({ ...base, endpoint: 'https://user:pw@s3.amazonaws.com' }).some((i) => i.startsWith('sink.endpoint:')));
});

test('s3 config: static keys must be references outside local mode; assumeRole is checked', (t) => {
  const base = { type: 's3', bucket: 'abc', region: 'us-east-1' };
  const inline = { type: 'static', accessKeyId: { value: 'AKID' }, secretAccessKey: { value: 'x' } };
  t.deepEqual(issuesOf({ ...base, credentials: inline }).map((i) => i.split(':')[0]), ['sink.credentials.accessKeyId', 'sink.credentials.secretAccessKey']);
  t.deepEqual(issuesOf({ ...base, credentials: inline }, true), []);
  t.deepEqual(issuesOf({ ...base, credentials: { type: 'static', accessKeyId: { ref: 'env:AK' }, secretAccessKey: { ref: 'file:/run/secrets/sk' } } }), []);
  const role = { roleArn: 'arn:aws:iam::123456789012:role/tributary-writer', externalId: 'tributary-int-42' };
  const c = validateS3Config({ ...base, assumeRole: role }, { local: false });
  t.like(c.assumeRole, { ...role, durationSeconds: 3600 });
  t.true(issuesOf({ ...base, assumeRole: { ...role, roleArn: 'arn:aws:iam::1:user/x' } }).some((i) => i.startsWith('sink.assumeRole.roleArn:')));
  t.true(issuesOf({ ...base, assumeRole: { roleArn: role.roleArn } }).some((i) => i.startsWith('sink.assumeRole.externalId:')));
  t.true(issuesOf({ ...base, retry: { initialMs: 100, maxMs: 10 } }).some((i) => i.startsWith('sink.retry.maxMs:')));
});

test('s3 keys: Hive-style partitions from the first event, zero-padded offsets, safe segments', (t) => {
  const key = objectKey({ prefix: 'p/', appKey: 'app', integrationId: 'int', partition: 7, firstOffset: '12', lastOffset: '345', time: { dt: '2024-05-01', hour: '09' } });
  t.is(key, 'p/app=app/integration=int/dt=2024-05-01/hour=09/p00007-00000000000000000012-00000000000000000345.ndjson.gz');
  t.is(keySegment('a/b=c d'), 'a%2Fb%3Dc%20d');
  fc.assert(fc.property(fc.string(), (s) => !/[/=]/.test(keySegment(s))));
});

test('s3 keys: the time partition comes from occurred, then processed, then ingestedAt, in UTC', (t) => {
  t.deepEqual(timePartition({ occurred: '2024-05-01T23:59:59.999-02:00', processed: '', ingestedAt: '' }), { dt: '2024-05-02', hour: '01' });
  t.deepEqual(timePartition({ occurred: 'garbage', processed: '2024-01-02T03:04:05Z', ingestedAt: '' }), { dt: '2024-01-02', hour: '03' });
  t.deepEqual(timePartition({ occurred: '', processed: '', ingestedAt: '' }), { dt: '1970-01-01', hour: '00' });
});

test('s3 objects: every record in exactly one object, one partition per object, order kept, within the limits', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ partition: fc.integer({ min: 0, max: 3 }), size: fc.integer({ min: 1, max: 500 }) }), { maxLength: 200 }),
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 100, max: 3000 }),
      (items, maxBatchEvents, maxBatchBytes) => {
        const records = items.map((i) => ({ partition: i.partition, value: Buffer.alloc(i.size) }));
        const objects = planObjects(records, { maxBatchEvents, maxBatchBytes });
        const seen = objects.flat();
        if (seen.length !== records.length || new Set(seen).size !== records.length) return false;
        return objects.every(
          (o) =>
            o.length > 0 &&
            o.length <= maxBatchEvents &&
            new Set(o.map((i) => records[i]!.partition)).size === 1 &&
            o.every((v, k) => k === 0 || v > o[k - 1]!) &&
            (o.length === 1 || o.reduce((n, i) => n + records[i]!.value.length, 0) <= maxBatchBytes),
        );
      },
    ),
  );
  t.pass();
});

test('s3 objects: the body is gzip NDJSON of the events, byte for byte', async (t) => {
  const batch = makeRecords(5, { partition: 2 });
  const o = await buildObject(batch, { prefix: '', appKey: 'a', integrationId: 'i' });
  t.is(gunzipSync(o.body).toString('utf8'), batch.map((r) => `${r.value.toString('utf8')}\n`).join(''));
  t.true(o.key.includes('/p00002-'));
  t.is(o.metadata['tributary-events'], '5');
});
