// The pipeline end to end with each sink in place of the webhook: emulator → node → Kafka →
// sink → a real loopback server of that kind, every served event stored exactly once.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateStreamCommand, DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startFirehoseServer } from '../helpers/firehose-server.js';
import { eventually, testKafka } from '../helpers/infra.js';
import type { ConnectEvent } from '../../src/connect/event.js';
import { topics } from '../../src/kafka/topics.js';
import { startFixture, startInProcessNode, type Fixture } from '../helpers/pipeline.js';
import { startAmplitudeServer, startMixpanelServer, startSegmentServer } from '../helpers/vendor-servers.js';

const EVENTS = 1_500;
const fastRetry = { initialMs: 50, maxMs: 500 };

/** Analytics vendors need a user or a device: events with neither (PUSH_BODY) go to the DLQ. */
function identifiable(e: ConnectEvent): boolean {
  const d = (e.device ?? {}) as Record<string, unknown>;
  return Object.entries(d).some(([k, v]) => (k === 'named_user_id' || k === 'channel' || k.endsWith('_channel')) && typeof v === 'string' && v !== '');
}

async function runWith(
  t: import('ava').ExecutionContext,
  sink: Record<string, unknown>,
  storedIds: () => Promise<string[]>,
  storable: (e: ConnectEvent) => boolean = () => true,
): Promise<Fixture> {
  const f = await startFixture([{ size: 'medium', totalEvents: EVENTS }], { sinkFor: () => sink });
  t.teardown(() => f.close());
  const node = await startInProcessNode(f);
  t.teardown(() => node.shutdown());
  const key = f.specs[0]!.app.key;
  const expected = () => {
    const served = new Set(f.emulator.served(key).map((e) => e.id));
    return f.emulator.events(key).filter((e) => served.has(e.id) && storable(e)).map((e) => e.id);
  };
  const ids = await eventually(
    async () => {
      if (new Set(f.emulator.served(key).map((e) => e.id)).size < EVENTS) return undefined;
      const want = expected();
      const got = await storedIds();
      const have = new Set(got);
      return want.every((id) => have.has(id)) ? got : undefined;
    },
    120_000,
    `all storable events stored by the ${String(sink.type)} sink`,
  );
  const want = expected();
  t.is(new Set(ids).size, want.length, 'every storable served event stored');
  t.is(ids.length, want.length, 'each exactly once');
  const rejected = EVENTS - want.length;
  if (rejected > 0) {
    await eventually(async () => ((await dlqCount(f.specs[0]!.id)) === rejected ? true : undefined), 30_000, `${rejected} unidentifiable events in the DLQ`);
    t.log(`${rejected} events without a user or device id went to the DLQ`);
  }
  return f;
}

async function dlqCount(integrationId: string): Promise<number> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topics.dlq(integrationId))).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

test.serial('s3: each event in exactly one object (s3rver)', async (t) => {
  const S3rver = createRequire(import.meta.url)('s3rver') as new (o: object) => { run(): Promise<AddressInfo>; close(): Promise<void> };
  const directory = await mkdtemp(join(tmpdir(), 'tributary-e2e-s3-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const { port } = await server.run();
  t.teardown(() => server.close());
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const s3 = new S3Client({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true, credentials, requestHandler: new NodeHttpHandler() });
  t.teardown(() => s3.destroy());
  await s3.send(new CreateBucketCommand({ Bucket: 'e2e' }));
  const readIds = async () => {
    const ids: string[] = [];
    for (const o of (await s3.send(new ListObjectsV2Command({ Bucket: 'e2e' }))).Contents ?? []) {
      const got = await s3.send(new GetObjectCommand({ Bucket: 'e2e', Key: o.Key! }));
      const text = gunzipSync(Buffer.from(await got.Body!.transformToByteArray())).toString();
      for (const line of text.split('\n')) if (line) ids.push((JSON.parse(line) as { id: string }).id);
    }
    return ids;
  };
  await runWith(
    t,
    {
      type: 's3',
      bucket: 'e2e',
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      forcePathStyle: true,
      credentials: { type: 'static', accessKeyId: { value: credentials.accessKeyId }, secretAccessKey: { value: credentials.secretAccessKey } },
      retry: fastRetry,
    },
    readIds,
  );
});

test.serial('firehose: each event id accepted once', async (t) => {
  const server = await startFirehoseServer({ streams: ['events'] });
  t.teardown(() => server.close());
  await runWith(
    t,
    {
      type: 'firehose',
      deliveryStreamName: 'events',
      region: 'us-east-1',
      endpoint: server.url,
      credentials: { type: 'static', accessKeyId: { value: 'AKIDTEST' }, secretAccessKey: { value: 'test-secret' } },
      retry: fastRetry,
    },
    async () => server.accepted.map((r) => (JSON.parse(r.data.toString()) as { id: string }).id),
  );
});

test.serial('kinesis: each event id once in the stream (kinesalite)', async (t) => {
  const kinesalite = createRequire(import.meta.url)('kinesalite') as (o: object) => Server;
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 50 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };
  const kinesis = new KinesisClient({ region: 'us-east-1', endpoint, credentials, requestHandler: new NodeHttpHandler() });
  t.teardown(() => kinesis.destroy());
  await kinesis.send(new CreateStreamCommand({ StreamName: 'events', ShardCount: 2 }));
  await eventually(async () => ((await kinesis.send(new DescribeStreamCommand({ StreamName: 'events' }))).StreamDescription?.StreamStatus === 'ACTIVE' ? true : undefined), 10_000, 'stream active');
  const readIds = async () => {
    const ids: string[] = [];
    const shards = (await kinesis.send(new DescribeStreamCommand({ StreamName: 'events' }))).StreamDescription?.Shards ?? [];
    for (const shard of shards) {
      let it = (await kinesis.send(new GetShardIteratorCommand({ StreamName: 'events', ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      for (let page = 0; it && page < 1_000; page++) {
        const res = await kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
        for (const r of res.Records ?? []) ids.push((JSON.parse(Buffer.from(r.Data!).toString()) as { id: string }).id);
        if (!res.Records?.length) break;
        it = res.NextShardIterator;
      }
    }
    return ids;
  };
  await runWith(
    t,
    { type: 'kinesis', streamName: 'events', region: 'us-east-1', endpoint, credentials: { type: 'static', accessKeyId: { value: credentials.accessKeyId }, secretAccessKey: { value: credentials.secretAccessKey } }, retry: fastRetry },
    readIds,
  );
});

test.serial('amplitude: each event inserted once (insert_id = Connect id)', async (t) => {
  const server = await startAmplitudeServer({ apiKey: 'amp-key' });
  t.teardown(() => server.close());
  await runWith(t, { type: 'amplitude', apiKey: { value: 'amp-key' }, baseUrl: server.baseUrl, retry: fastRetry }, async () => server.delivered(), identifiable);
});

test.serial('segment: each event tracked once (messageId = Connect id)', async (t) => {
  const server = await startSegmentServer({ writeKey: 'seg-key' });
  t.teardown(() => server.close());
  await runWith(t, { type: 'segment', writeKey: { value: 'seg-key' }, baseUrl: server.baseUrl, retry: fastRetry }, async () => server.delivered(), identifiable);
});

test.serial('mixpanel: each event imported once ($insert_id = Connect id)', async (t) => {
  const server = await startMixpanelServer({ projectToken: 'mp-token' });
  t.teardown(() => server.close());
  await runWith(t, { type: 'mixpanel', auth: { type: 'projectToken', token: { value: 'mp-token' } }, baseUrl: server.baseUrl, retry: fastRetry }, async () => server.delivered(), identifiable);
});
