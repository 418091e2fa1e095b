// The s3 sink through the real AWS SDK against s3rver (an S3-compatible server on loopback):
// the shared compliance suite, key layout and gzip NDJSON content read back with the SDK, a
// retried write overwriting its own key (RELIABILITY T8), and error classes. A small proxy in
// front of s3rver injects the faults S3 produces (SlowDown, lost responses, refusals).
import test, { type ExecutionContext } from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand, DeleteBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { classify, TributaryError } from '../../../src/errors.js';
import { validateS3Config } from '../../../src/sinks/s3/config.js';
import { createS3Sink, type S3SinkOptions } from '../../../src/sinks/s3/service.js';
import type { Sink } from '../../../src/sinks/types.js';
import { makeRecords, sinkCompliance, testSinkContext } from '../../helpers/sink-compliance.js';
import { startStsServer } from '../../helpers/sts-server.js';
import { eventually, testDynamo, uniq } from '../../helpers/infra.js';
import { integrationTopics } from '../../helpers/sink-topics.js';
import { createLogger } from '../../../src/observability/logger.js';
import { DedupWindow } from '../../../src/pipeline/dedup-window.js';
import { SinkRunner } from '../../../src/pipeline/sink-runner.js';
import { StateStore } from '../../../src/state/state-store.js';
import { StateWriter } from '../../../src/state/state-writer.js';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
// s3rver ships no types.
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: object) => S3rverInstance;

const never = (): AbortSignal => new AbortController().signal;
// s3rver checks SigV4 signatures against this fixed key pair.
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const bucket = 'tributary-test';

type Fault = { type: 'error'; status: number; code: string } | { type: 'dropResponse' };

/** A pass-through proxy that can answer the next PutObject calls with an S3 error, or forward one and lose its response. */
async function startFaultProxy(upstreamPort: number) {
  const faults: Fault[] = [];
  const puts: { key: string; status: number | 'dropped' }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const isPutObject = req.method === 'PUT' && (req.url ?? '').split('?')[0]!.split('/').length > 2;
      const fault = isPutObject ? faults.shift() : undefined;
      const key = decodeURIComponent((req.url ?? '').split('?')[0]!.split('/').slice(2).join('/'));
      if (fault?.type === 'error') {
        puts.push({ key, status: fault.status });
        const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code}</Code><Message>injected ${fault.code}</Message><RequestId>r1</RequestId></Error>`;
        res.writeHead(fault.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      const up = httpRequest({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        if (fault?.type === 'dropResponse') {
          // The object is written; the client never hears so (an ambiguous outcome, I4).
          upRes.resume();
          upRes.on('end', () => {
            puts.push({ key, status: 'dropped' });
            req.socket.destroy();
          });
          return;
        }
        if (isPutObject) puts.push({ key, status: upRes.statusCode ?? 0 });
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', () => req.socket.destroy());
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    faults,
    puts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Fixture {
  sink: Sink;
  admin: S3Client;
  proxy: Awaited<ReturnType<typeof startFaultProxy>>;
}

async function setup(t: ExecutionContext, extra: Record<string, unknown> = {}, ctx: { integrationId?: string; appKey?: string } = {}, options: S3SinkOptions = {}): Promise<Fixture> {
  const directory = await mkdtemp(join(tmpdir(), 'tributary-s3rver-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const { port } = await s3rver.run();
  t.teardown(() => s3rver.close());
  const proxy = await startFaultProxy(port);
  t.teardown(() => proxy.close());
  const admin = new S3Client({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true, credentials, requestHandler: new NodeHttpHandler() });
  t.teardown(() => admin.destroy());
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  const config = validateS3Config(
    {
      type: 's3',
      bucket,
      region: 'us-east-1',
      endpoint: proxy.url,
      forcePathStyle: true,
      credentials: { type: 'static', accessKeyId: { value: credentials.accessKeyId }, secretAccessKey: { value: credentials.secretAccessKey } },
      timeoutMs: 10_000,
      retry: { initialMs: 5, maxMs: 50, maxRetryAgeMs: 60_000 },
      ...extra,
    },
    { local: true },
  );
  const sink = await createS3Sink(config, testSinkContext({ integrationId: ctx.integrationId ?? 'it-s3', appKey: ctx.appKey ?? 'app-key-1' }), options);
  t.teardown(() => sink.close());
  return { sink, admin, proxy };
}

interface StoredObject {
  key: string;
  contentEncoding: string | undefined;
  contentType: string | undefined;
  metadata: Record<string, string>;
  lines: string[];
}

async function readObjects(admin: S3Client): Promise<StoredObject[]> {
  let contents;
  try {
    contents = (await admin.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [];
  } catch (err) {
    if ((err as Error).name === 'NoSuchBucket') return [];
    throw err;
  }
  const out: StoredObject[] = [];
  for (const c of contents) {
    const got = await admin.send(new GetObjectCommand({ Bucket: bucket, Key: c.Key! }));
    const text = gunzipSync(Buffer.from(await got.Body!.transformToByteArray())).toString('utf8');
    out.push({ key: c.Key!, contentEncoding: got.ContentEncoding, contentType: got.ContentType, metadata: got.Metadata ?? {}, lines: text.split('\n').filter(Boolean) });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

const idsIn = (objects: readonly StoredObject[]): string[] => objects.flatMap((o) => o.lines.map((l) => (JSON.parse(l) as { id: string }).id));

sinkCompliance(test, {
  name: 's3',
  transport: 'other',
  async setup(t) {
    const fx = await setup(t);
    return {
      sink: fx.sink,
      deliveredIds: async () => idsIn(await readObjects(fx.admin)),
      breakConfiguration: async () => {
        await fx.admin.send(new DeleteBucketCommand({ Bucket: bucket }));
      },
    };
  },
});

test('s3: one gzip NDJSON object per write under prefix/app=/integration=/dt=/hour=/p-first-last, read back with the SDK', async (t) => {
  const fx = await setup(t, { prefix: 'connect/raw' }, { integrationId: 'int-42', appKey: 'ISex_TTJRuarzs9-o_Gkhg' });
  const batch = makeRecords(40, { partition: 3 });
  batch.forEach((r, i) => (r.offset = String(1200 + i)));
  const result = await fx.sink.write(batch, never());
  t.true(result.outcomes.every((o) => o.status === 'delivered'));
  t.is(result.requests, 1);
  const objects = await readObjects(fx.admin);
  t.is(objects.length, 1);
  const o = objects[0]!;
  t.is(o.key, 'connect/raw/app=ISex_TTJRuarzs9-o_Gkhg/integration=int-42/dt=2024-05-01/hour=12/p00003-00000000000000001200-00000000000000001239.ndjson.gz');
  t.is(o.contentEncoding, 'gzip');
  t.is(o.contentType, 'application/x-ndjson');
  t.deepEqual(o.lines, batch.map((r) => r.value.toString('utf8')), 'the events byte for byte, in order, one per line');
  t.is(o.metadata['tributary-events'], '40');
  t.is(o.metadata['tributary-first-offset'], '1200');
  t.is(o.metadata['tributary-last-offset'], '1239');
});

test('s3: a write whose response is lost is retried onto the same key: exactly one object for the batch', async (t) => {
  const fx = await setup(t);
  fx.proxy.faults.push({ type: 'dropResponse' });
  const batch = makeRecords(25);
  const result = await fx.sink.write(batch, never());
  t.true(result.outcomes.every((o) => o.status === 'delivered'));
  t.true(result.retries >= 1);
  t.is(fx.proxy.puts[0]!.status, 'dropped', 'the first PUT landed but its answer was lost');
  t.is(new Set(fx.proxy.puts.map((p) => p.key)).size, 1, 'every attempt used one key');
  const objects = await readObjects(fx.admin);
  t.is(objects.length, 1, 'overwritten, not duplicated');
  t.deepEqual(idsIn(objects), batch.map((r) => r.eventId));
});

test('s3: the key depends on the records, not the clock: the same batch written later lands on the same key', async (t) => {
  const fx = await setup(t);
  const batch = makeRecords(5);
  await fx.sink.write(batch, never());
  await new Promise((r) => setTimeout(r, 1_100)); // a real clock must move past a second for this to mean anything
  await fx.sink.write(batch, never());
  t.is((await readObjects(fx.admin)).length, 1);
});

test('s3: records of several Kafka partitions go to one object per partition; an oversized write splits by maxBatchBytes', async (t) => {
  const fx = await setup(t, { maxBatchBytes: 4096 });
  const p0 = makeRecords(12, { partition: 0, padBytes: 300 });
  const p1 = makeRecords(3, { partition: 1 });
  const result = await fx.sink.write([...p0, ...p1], never());
  t.true(result.outcomes.every((o) => o.status === 'delivered'));
  const objects = await readObjects(fx.admin);
  t.true(objects.filter((o) => o.key.includes('/p00000-')).length >= 2, 'partition 0 split by size');
  t.is(objects.filter((o) => o.key.includes('/p00001-')).length, 1);
  t.deepEqual(idsIn(objects).sort(), [...p0, ...p1].map((r) => r.eventId).sort(), 'each event in exactly one object');
});

test('s3: SlowDown and 500 are retried with backoff, then delivered', async (t) => {
  const fx = await setup(t);
  fx.proxy.faults.push({ type: 'error', status: 503, code: 'SlowDown' }, { type: 'error', status: 500, code: 'InternalError' });
  const batch = makeRecords(6);
  const result = await fx.sink.write(batch, never());
  t.true(result.outcomes.every((o) => o.status === 'delivered'));
  t.is(result.retries, 2);
  t.deepEqual(idsIn(await readObjects(fx.admin)), batch.map((r) => r.eventId));
});

test('s3: any other 4xx rejects the whole object’s records (to the DLQ) with the status', async (t) => {
  const fx = await setup(t);
  fx.proxy.faults.push({ type: 'error', status: 400, code: 'InvalidArgument' });
  const result = await fx.sink.write(makeRecords(4), never());
  for (const o of result.outcomes) {
    t.is(o.status, 'rejected');
    if (o.status === 'rejected') {
      t.is(o.httpStatus, 400);
      t.is(o.error.kind, 'permanent');
    }
  }
  t.deepEqual(await readObjects(fx.admin), []);
});

test('s3: a missing bucket, AccessDenied and InvalidAccessKeyId halt as misconfiguration', async (t) => {
  const fx = await setup(t);
  fx.proxy.faults.push({ type: 'error', status: 403, code: 'AccessDenied' }, { type: 'error', status: 403, code: 'InvalidAccessKeyId' });
  const denied = await t.throwsAsync(fx.sink.write(makeRecords(2), never()));
  t.is((denied as TributaryError).code, 'sink_auth');
  const badKey = await t.throwsAsync(fx.sink.write(makeRecords(2), never()));
  t.is((badKey as TributaryError).code, 'sink_auth');
  await fx.admin.send(new DeleteBucketCommand({ Bucket: bucket }));
  const missing = await t.throwsAsync(fx.sink.write(makeRecords(2), never()));
  t.is(classify(missing), 'misconfiguration');
  t.is((missing as TributaryError).code, 'sink_not_found');
  const probe = await t.throwsAsync(fx.sink.healthcheck(never()));
  t.is((probe as TributaryError).code, 'sink_not_found');
});

const roleArn = 'arn:aws:iam::123456789012:role/tributary-writer';
// The base keys may only call STS: s3rver refuses them, so a stored object proves the role's keys signed it.
const baseKeys = { type: 'static', accessKeyId: { value: 'AKIABASEKEYONLYSTS' }, secretAccessKey: { value: 'base-secret' } };

test('s3: assumeRole calls STS once with the external id (signed by the base keys), writes with the role\'s credentials and reuses them', async (t) => {
  const sts = await startStsServer([{ roleArn, externalId: 'ext-7f3a', credentials }]);
  t.teardown(() => sts.close());
  const fx = await setup(t, { credentials: baseKeys, assumeRole: { roleArn, externalId: 'ext-7f3a' } }, { integrationId: 'int-42' }, { stsEndpoint: sts.url });
  await fx.sink.healthcheck(never());
  const batches = [makeRecords(5), makeRecords(7, { startOffset: 5 }), makeRecords(3, { startOffset: 12 })];
  for (const b of batches) t.true((await fx.sink.write(b, never())).outcomes.every((o) => o.status === 'delivered'));
  t.deepEqual(idsIn(await readObjects(fx.admin)).sort(), batches.flat().map((r) => r.eventId).sort(), 'every record stored, signed with the role\'s keys');
  t.is(sts.calls.length, 1, 'one AssumeRole for the healthcheck and three writes: the credentials are cached');
  t.like(sts.calls[0], { roleArn, externalId: 'ext-7f3a', sessionName: 'tributary-int-42', durationSeconds: 3_600, signedBy: 'AKIABASEKEYONLYSTS', status: 200 });
  // The control: the base keys alone are refused by the server.
  const baseOnly = await setup(t, { credentials: baseKeys });
  t.is(classify(await t.throwsAsync(baseOnly.sink.write(makeRecords(1), never()))), 'misconfiguration');
});

test('s3: a role whose trust policy refuses our external id halts the sink as misconfigured, naming the role and never a key', async (t) => {
  const sts = await startStsServer([{ roleArn, externalId: 'the-customers-id', credentials }]);
  t.teardown(() => sts.close());
  const fx = await setup(t, { credentials: baseKeys, assumeRole: { roleArn, externalId: 'a-wrong-id' } }, {}, { stsEndpoint: sts.url });
  const probe = await t.throwsAsync(fx.sink.healthcheck(never()));
  t.is(classify(probe), 'misconfiguration');
  t.regex(probe!.message, /tributary-writer/);
  const write = await t.throwsAsync(fx.sink.write(makeRecords(2), never()));
  t.is(classify(write), 'misconfiguration');
  for (const err of [probe!, write!]) t.false(/AKIABASEKEYONLYSTS|base-secret|S3RVER/.test(`${err.message} ${JSON.stringify((err as TributaryError).details ?? {})}`), 'no key in the error');
  t.deepEqual(await readObjects(fx.admin), [], 'nothing written');
  t.true(sts.calls.every((c) => c.status === 403 && c.externalId === 'a-wrong-id'));
});

test('s3: the sink asks the runner to let the broker gather a fetch for maxBatchBytes or maxBatchAgeMs', async (t) => {
  const fx = await setup(t, { maxBatchAgeMs: 60_000 });
  t.like(fx.sink.limits, { maxBatchEvents: 10_000, maxBatchBytes: 8 * 1024 * 1024, fetch: { minBytes: 8 * 1024 * 1024, maxWaitMs: 60_000 } });
});

// Through the real runner and broker: a trickle of events becomes a few objects, not one per
// fetch, and the quiet tail is written within the age bound although nothing else arrives.
for (const [ageMs, label] of [[100, 'an age of 100 ms (the node default wait applies)'], [4_000, 'an age of 4 s']] as const) {
  test(`s3 through the sink runner, ${label}: every event in exactly one object, the tail written within the age`, async (t) => {
    const integrationId = uniq('s3-age');
    const { kafka, admin, queue, produce } = await integrationTopics(t, integrationId, 1);
    const fx = await setup(t, { maxBatchAgeMs: ageMs }, { integrationId });
    const store = new StateStore(testDynamo(), uniq('s3-age-state'));
    await store.ensureTable();
    const state = new StateWriter(store, { integrationId, epoch: 1 });
    t.teardown(() => state.close());
    const runner = new SinkRunner({
      integrationId,
      kafka,
      admin,
      producer: queue,
      sink: fx.sink,
      dedup: new DedupWindow(10_000),
      state,
      logger: createLogger({ level: 'warn', name: 's3-age' }),
      sessionTimeoutMs: 30_000,
      fetchMaxWaitMs: 200,
    });
    await runner.start();
    t.teardown(() => runner.stop(5_000));
    // One event first, written before the bursts: the runner has joined its group and fetches
    // (start() returns before the join, and a slow join would gather the first bursts).
    await produce(1);
    const first = await eventually(async () => {
      const o = await readObjects(fx.admin);
      return idsIn(o).length >= 1 ? o : undefined;
    }, 30_000, 'the first event in S3');
    t.is(first.length, 1);
    // Six small bursts, 400 ms apart (2 s in all), then silence.
    for (let i = 0; i < 6; i++) {
      await produce(5);
      await new Promise((r) => setTimeout(r, 400));
    }
    const lastAt = Date.now();
    const all = await eventually(async () => {
      const o = await readObjects(fx.admin);
      return idsIn(o).length >= 31 ? o : undefined;
    }, 20_000, 'all 31 events in S3');
    const tailMs = Date.now() - lastAt;
    const ids = idsIn(all);
    t.is(ids.length, 31, 'each event in exactly one object');
    t.is(new Set(ids).size, 31);
    const objects = all.filter((o) => o.key !== first[0]!.key);
    t.log(`maxBatchAgeMs ${ageMs}: ${objects.length} objects for 6 bursts; tail in S3 ${tailMs} ms after the last event`);
    if (ageMs === 100) t.true(objects.length >= 4, 'without an age, about one object per burst');
    else {
      t.true(objects.length <= 2, 'held fetches gather the bursts');
      t.true(tailMs <= ageMs + 3_000, 'the quiet tail is not left unwritten');
    }
  });
}
