// The s3 sink's Parquet format through the real AWS SDK against s3rver: the shared compliance
// suite, and the same batches written as NDJSON and as Parquet read back as the same events:
// ids, offsets and times. Parquet is read twice: with hyparquet (JavaScript; its writer sibling
// shares code with it) and with parquet-wasm (Apache arrow-rs, the Rust Parquet implementation,
// compiled to WebAssembly: a reader that shares nothing with the writer, as Athena or Spark).
import test, { type ExecutionContext } from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand, DeleteBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { tableFromIPC } from 'apache-arrow';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { readParquet } from 'parquet-wasm/node';
import { validateS3Config } from '../../../src/sinks/s3/config.js';
import { createS3Sink } from '../../../src/sinks/s3/service.js';
import type { Sink } from '../../../src/sinks/types.js';
import { makeRecords, sinkCompliance, testSinkContext } from '../../helpers/sink-compliance.js';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: object) => S3rverInstance;
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const never = (): AbortSignal => new AbortController().signal;

async function startS3(t: ExecutionContext) {
  const directory = await mkdtemp(join(tmpdir(), 'tributary-s3rver-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const { port } = await s3rver.run();
  t.teardown(() => s3rver.close());
  const admin = new S3Client({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true, credentials, requestHandler: new NodeHttpHandler() });
  t.teardown(() => admin.destroy());
  return { port, admin };
}

async function sinkFor(t: ExecutionContext, port: number, bucket: string, format: 'ndjson.gz' | 'parquet'): Promise<Sink> {
  const config = validateS3Config(
    {
      type: 's3',
      bucket,
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      forcePathStyle: true,
      format,
      credentials: { type: 'static', accessKeyId: { value: credentials.accessKeyId }, secretAccessKey: { value: credentials.secretAccessKey } },
      timeoutMs: 10_000,
      retry: { initialMs: 5, maxMs: 50, maxRetryAgeMs: 60_000 },
    },
    { local: true },
  );
  const sink = await createS3Sink(config, testSinkContext({ integrationId: 'int-42', appKey: 'app-1' }));
  t.teardown(() => sink.close());
  return sink;
}

interface Stored {
  key: string;
  contentType: string | undefined;
  body: Buffer;
}

async function objects(admin: S3Client, bucket: string): Promise<Stored[]> {
  let contents;
  try {
    contents = (await admin.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [];
  } catch (err) {
    if ((err as Error).name === 'NoSuchBucket') return [];
    throw err;
  }
  const out: Stored[] = [];
  for (const c of contents) {
    const got = await admin.send(new GetObjectCommand({ Bucket: bucket, Key: c.Key! }));
    out.push({ key: c.Key!, contentType: got.ContentType, body: Buffer.from(await got.Body!.transformToByteArray()) });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

interface Seen {
  id: string;
  offset: string;
  type: string;
  occurred: string;
  processed: string;
  kafka: string;
}

async function parquetEvents(o: Stored): Promise<Seen[]> {
  const file = o.body.buffer.slice(o.body.byteOffset, o.body.byteOffset + o.body.byteLength) as ArrayBuffer;
  const rows = (await parquetReadObjects({ file, utf8: true })) as { id: string; offset: string; type: string; occurred: Date; processed: Date; kafka_partition: number; kafka_offset: bigint }[];
  return rows.map((r) => ({ id: r.id, offset: r.offset, type: r.type, occurred: r.occurred.toISOString(), processed: r.processed.toISOString(), kafka: `${r.kafka_partition}/${r.kafka_offset}` }));
}

function ndjsonEvents(o: Stored, partition: number, firstKafkaOffset: number): Seen[] {
  return gunzipSync(o.body)
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l, i) => {
      const e = JSON.parse(l) as { id: string; offset: string; type: string; occurred: string; processed: string };
      return { id: e.id, offset: e.offset, type: e.type, occurred: new Date(e.occurred).toISOString(), processed: new Date(e.processed).toISOString(), kafka: `${partition}/${firstKafkaOffset + i}` };
    });
}

sinkCompliance(test, {
  name: 's3 (parquet)',
  transport: 'other',
  async setup(t) {
    const { port, admin } = await startS3(t);
    await admin.send(new CreateBucketCommand({ Bucket: 'tributary-parquet' }));
    const sink = await sinkFor(t, port, 'tributary-parquet', 'parquet');
    return {
      sink,
      deliveredIds: async () => (await Promise.all((await objects(admin, 'tributary-parquet')).map(parquetEvents))).flat().map((e) => e.id),
      breakConfiguration: async () => {
        await admin.send(new DeleteBucketCommand({ Bucket: 'tributary-parquet' }));
      },
    };
  },
});

test('s3 parquet: the same batches written as NDJSON and as Parquet read back as the same events (ids, offsets, times), under the same partitions', async (t) => {
  const { port, admin } = await startS3(t);
  await admin.send(new CreateBucketCommand({ Bucket: 'as-ndjson' }));
  await admin.send(new CreateBucketCommand({ Bucket: 'as-parquet' }));
  const ndjson = await sinkFor(t, port, 'as-ndjson', 'ndjson.gz');
  const parquet = await sinkFor(t, port, 'as-parquet', 'parquet');
  // Two Kafka partitions in one batch, and a second batch: three objects each.
  const first = [...makeRecords(30, { partition: 0 }), ...makeRecords(20, { partition: 4 })];
  first.forEach((r, i) => (r.offset = String(r.partition === 0 ? 100 + i : 500 + i - 30)));
  const second = makeRecords(25, { partition: 0 });
  second.forEach((r, i) => (r.offset = String(130 + i)));
  for (const batch of [first, second]) {
    for (const sink of [ndjson, parquet]) {
      const res = await sink.write(batch, never());
      t.true(res.outcomes.every((o) => o.status === 'delivered'));
    }
  }
  const nd = await objects(admin, 'as-ndjson');
  const pq = await objects(admin, 'as-parquet');
  t.is(nd.length, 3);
  t.deepEqual(pq.map((o) => o.key), nd.map((o) => o.key.replace(/\.ndjson\.gz$/, '.parquet')), 'same keys and partitions, .parquet suffix');
  t.true(pq.every((o) => o.contentType === 'application/vnd.apache.parquet'));
  for (const o of pq) {
    const meta = parquetMetadata(o.body.buffer.slice(o.body.byteOffset, o.body.byteOffset + o.body.byteLength) as ArrayBuffer);
    t.true(meta.row_groups.every((g) => g.columns.every((c) => c.meta_data?.codec === 'SNAPPY')), `${o.key} is snappy`);
  }
  const fromNdjson = nd.flatMap((o) => {
    const m = /p(\d{5})-(\d{20})-/.exec(o.key)!;
    return ndjsonEvents(o, Number(m[1]), Number(m[2]));
  });
  const fromParquet = (await Promise.all(pq.map(parquetEvents))).flat();
  t.is(fromParquet.length, first.length + second.length);
  t.deepEqual(fromParquet, fromNdjson);
  t.deepEqual(fromParquet.map((e) => e.id).sort(), [...first, ...second].map((r) => r.eventId).sort(), 'every event exactly once');
});

test('s3 parquet: objects read back with an independent reader (arrow-rs via parquet-wasm): column types, every value, times to the microsecond', async (t) => {
  const { port, admin } = await startS3(t);
  await admin.send(new CreateBucketCommand({ Bucket: 'arrow-rs' }));
  const sink = await sinkFor(t, port, 'arrow-rs', 'parquet');
  const records = makeRecords(40, { partition: 3 });
  records.forEach((r, i) => (r.offset = String(700 + i)));
  // Connect times carry milliseconds; a finer one must survive as microseconds.
  records[0]!.occurred = '2024-05-01T12:00:00.123456Z';
  t.true((await sink.write(records, never())).outcomes.every((o) => o.status === 'delivered'));
  const [object] = await objects(admin, 'arrow-rs');
  const table = tableFromIPC(readParquet(new Uint8Array(object!.body)).intoIPCStream());
  t.deepEqual(
    Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)])),
    {
      id: 'Utf8', type: 'Utf8', offset: 'Utf8',
      occurred: 'Timestamp<MICROSECOND, UTC>', processed: 'Timestamp<MICROSECOND, UTC>', ingested_at: 'Timestamp<MICROSECOND, UTC>',
      channel: 'Utf8', device_type: 'Utf8', named_user_id: 'Utf8', device: 'Utf8', body: 'Utf8',
      kafka_partition: 'Int32', kafka_offset: 'Int64',
    },
  );
  const column = <T>(name: string) => [...table.getChild(name)!] as T[];
  t.deepEqual(column<string>('id'), records.map((r) => r.eventId));
  t.deepEqual(column<string>('offset'), records.map((r) => r.connectOffset));
  t.deepEqual(column<string>('type'), records.map((r) => r.type));
  t.deepEqual(column<number>('kafka_partition'), records.map(() => 3));
  t.deepEqual(column<bigint>('kafka_offset'), records.map((r) => BigInt(r.offset)));
  // Raw timestamp storage: microseconds since the epoch (not the milliseconds arrow-js shows).
  const micros = (name: string) => table.getChild(name)!.data.flatMap((d) => [...(d.values as BigInt64Array)]);
  t.is(micros('occurred')[0], 1_714_564_800_123_456n, 'a microsecond time survives');
  t.deepEqual(micros('processed'), records.map((r) => BigInt(Date.parse(r.processed)) * 1000n));
  t.deepEqual(column<string>('body').map((b) => JSON.parse(b) as unknown), records.map((r) => (JSON.parse(r.value.toString()) as { body: unknown }).body));
});
