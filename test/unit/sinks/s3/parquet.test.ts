// The s3 sink's Parquet format: the envelope schema, exact JSON members, timestamps to the
// microsecond, and files that another reader (hyparquet) reads back as the same events.
import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { validateS3Config } from '../../../../src/sinks/s3/config.js';
import { encodeParquet, isoToMicros, parquetColumns, topLevelMembers } from '../../../../src/sinks/s3/parquet-encoder.js';
import { buildObject } from '../../../../src/sinks/s3/request-builder.js';
import type { EventRecord } from '../../../../src/sinks/types.js';
import { makeRecords } from '../../../helpers/sink-compliance.js';

const toArrayBuffer = (b: Buffer): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

function record(event: Record<string, unknown> | string, i = 0): EventRecord {
  const text = typeof event === 'string' ? event : JSON.stringify(event);
  const e = JSON.parse(text) as { id: string; type: string; offset: string; occurred: string; processed: string };
  return { integrationId: 'it', eventId: e.id, connectOffset: e.offset, type: e.type, occurred: e.occurred, processed: e.processed, ingestedAt: '2024-05-01T12:00:02.5Z', correlationId: 'c', value: Buffer.from(text), key: null, partition: 3, offset: String(7 + i) };
}

test('s3 config: format defaults to ndjson.gz and accepts parquet', (t) => {
  t.is(validateS3Config({ type: 's3', bucket: 'acme-events', region: 'eu-west-1' }, { local: false }).format, 'ndjson.gz');
  t.is(validateS3Config({ type: 's3', bucket: 'acme-events', region: 'eu-west-1', format: 'parquet' }, { local: false }).format, 'parquet');
  t.throws(() => validateS3Config({ type: 's3', bucket: 'acme-events', region: 'eu-west-1', format: 'csv' }, { local: false }), { message: /invalid s3 sink/ });
});

test('isoToMicros keeps microseconds and honours offsets; garbage is null', (t) => {
  t.is(isoToMicros('2024-05-01T12:00:00Z'), 1714564800000000n);
  t.is(isoToMicros('2024-05-01T12:00:00.123456789Z'), 1714564800123456n);
  t.is(isoToMicros('2024-05-01T14:00:00.5+02:00'), 1714564800500000n);
  t.is(isoToMicros(''), null);
  t.is(isoToMicros('yesterday'), null);
});

test('topLevelMembers returns each member exactly as written (property over JSON objects)', (t) => {
  t.deepEqual(
    Object.fromEntries(topLevelMembers('{ "a" : {"x":"}\\"{", "n": [1, {"y": 2}]} , "b":12345678901234567890,"c":"s,}","d":null }')),
    { a: '{"x":"}\\"{", "n": [1, {"y": 2}]}', b: '12345678901234567890', c: '"s,}"', d: 'null' },
  );
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
      const text = JSON.stringify(obj, null, 1);
      const m = topLevelMembers(text);
      return Object.keys(obj).every((k) => JSON.stringify(JSON.parse(m.get(k)!)) === JSON.stringify(obj[k])) && m.size === Object.keys(obj).length;
    }),
  );
  t.pass();
});

test('a Parquet object reads back (hyparquet) with the same ids, offsets, times, device fields and exact body text', async (t) => {
  const records = makeRecords(50, { partition: 2 });
  const obj = await buildObject(records, { prefix: 'p/', appKey: 'app', integrationId: 'it' }, 'parquet');
  t.regex(obj.key, /^p\/app=app\/integration=it\/dt=2024-05-01\/hour=12\/p00002-0{20}-0{18}49\.parquet$/);
  t.is(obj.contentType, 'application/vnd.apache.parquet');
  t.is(obj.contentEncoding, undefined);
  const file = toArrayBuffer(obj.body);
  const meta = parquetMetadata(file);
  t.is(Number(meta.num_rows), 50);
  t.is(meta.row_groups.length, 1);
  t.true(meta.row_groups[0]!.columns.every((c) => c.meta_data?.codec === 'SNAPPY'), 'every column chunk is snappy');
  t.deepEqual(meta.schema.slice(1).map((s) => s.name), parquetColumns.map((c) => c.element.name));
  const rows = (await parquetReadObjects({ file, utf8: true })) as Record<string, unknown>[];
  t.is(rows.length, records.length);
  rows.forEach((row, i) => {
    const r = records[i]!;
    const event = JSON.parse(r.value.toString()) as { body: unknown; device: { channel: string } };
    t.is(row.id, r.eventId);
    t.is(row.type, 'CUSTOM');
    t.is(row.offset, r.connectOffset);
    t.is((row.occurred as Date).toISOString(), r.occurred);
    t.is((row.processed as Date).toISOString(), r.processed);
    t.is((row.ingested_at as Date).toISOString(), r.ingestedAt);
    t.is(row.channel, event.device.channel);
    t.is(row.kafka_partition, 2);
    t.is(row.kafka_offset, BigInt(r.offset));
    t.is(row.body, JSON.stringify(event.body));
  });
});

test('big numbers in the body survive as text; missing device and body are nulls', (t) => {
  const withBig = '{"id":"a","type":"CUSTOM","offset":"123456789012345678901234","occurred":"2024-05-01T12:00:00.000001Z","processed":"2024-05-01T12:00:01Z","device":{"ios_channel":"c1","device_type":"IOS","named_user_id":"nu"},"body":{"value":12345678901234567890123}}';
  const bare = { id: 'b', type: 'OTHER', offset: '2', occurred: 'nonsense', processed: '2024-05-01T12:00:01Z' };
  const buf = encodeParquet([record(withBig), record(bare, 1)]);
  return parquetReadObjects({ file: toArrayBuffer(buf), utf8: true }).then((rows: Record<string, unknown>[]) => {
    t.like(rows[0], { id: 'a', offset: '123456789012345678901234', channel: 'c1', device_type: 'IOS', named_user_id: 'nu', body: '{"value":12345678901234567890123}' });
    t.is(rows[0]!.device, '{"ios_channel":"c1","device_type":"IOS","named_user_id":"nu"}');
    t.like(rows[1], { id: 'b', occurred: null, channel: null, device: null, body: null, kafka_offset: 8n });
  });
});

test('docs/sinks/s3.md documents every Parquet column in file order', (t) => {
  const doc = readFileSync('docs/sinks/s3.md', 'utf8');
  const documented = [...doc.matchAll(/^\| `([a-z_]+)` \| (?:STRING|TIMESTAMP|INT32|INT64)/gm)].map((m) => m[1]);
  t.deepEqual(documented, parquetColumns.map((c) => c.element.name));
});
