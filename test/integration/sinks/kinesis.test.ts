// The kinesis sink through the real AWS SDK against kinesalite (an in-process Kinesis
// implementation on loopback): the shared compliance suite, every event id read back exactly
// once, partition key = device channel, limits, and partial failures (FailedRecordCount with
// per-record ProvisionedThroughputExceededException) injected by a proxy in front of kinesalite.
import test, { type ExecutionContext } from 'ava';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { classify, TributaryError } from '../../../src/errors.js';
import { validateKinesisConfig } from '../../../src/sinks/kinesis/config.js';
import { createKinesisSink } from '../../../src/sinks/kinesis/service.js';
import { kinesisLimits } from '../../../src/sinks/kinesis/request-builder.js';
import type { Sink } from '../../../src/sinks/types.js';
import { makeRecords, sinkCompliance, testSinkContext } from '../../helpers/sink-compliance.js';

// kinesalite ships no types: its default export makes an http.Server.
const kinesalite = createRequire(import.meta.url)('kinesalite') as (options: object) => Server;

const never = (): AbortSignal => new AbortController().signal;
const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

interface PutLog {
  records: number;
  bytes: number;
  failed: number;
}

/**
 * A proxy in front of kinesalite. For PutRecords it can fail chosen records: it forwards only the
 * others and splices `{ErrorCode, ErrorMessage}` entries into the answer at the failed positions,
 * as Kinesis does (HTTP 200, FailedRecordCount > 0). Everything else passes through untouched.
 */
type WholeRequestFault = { status: number; type: string };

async function startFaultProxy(upstreamPort: number): Promise<{ url: string; puts: PutLog[]; failRecords(match: (data: Buffer) => boolean, calls: number): void; failRequests(...faults: WholeRequestFault[]): void; close(): Promise<void> }> {
  const puts: PutLog[] = [];
  let fault: { match: (data: Buffer) => boolean; calls: number } | undefined;
  /** The next PutRecords calls answered as a whole with a Kinesis JSON error (nothing forwarded). */
  const requestFaults: WholeRequestFault[] = [];
  const forward = (method: string, path: string, headers: Record<string, string | string[] | undefined>, body: Buffer) =>
    new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: upstreamPort, method, path, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 500, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        let body = Buffer.concat(chunks);
        const isPut = req.headers['x-amz-target'] === 'Kinesis_20131202.PutRecords';
        let failedAt: number[] = [];
        let all: { Data: string; PartitionKey: string }[] = [];
        if (isPut) {
          const parsed = JSON.parse(body.toString('utf8')) as { StreamName: string; Records: { Data: string; PartitionKey: string }[] };
          all = parsed.Records;
          const log: PutLog = { records: all.length, bytes: all.reduce((n, r) => n + Buffer.from(r.Data, 'base64').length + Buffer.byteLength(r.PartitionKey), 0), failed: 0 };
          puts.push(log);
          if (fault && fault.calls > 0) {
            fault.calls -= 1;
            const f = fault;
            failedAt = all.flatMap((r, i) => (f.match(Buffer.from(r.Data, 'base64')) ? [i] : []));
            log.failed = failedAt.length;
            body = Buffer.from(JSON.stringify({ ...parsed, Records: all.filter((_, i) => !failedAt.includes(i)) }));
          }
        }
        const headers = { ...req.headers };
        delete headers.host;
        const whole = isPut ? requestFaults.shift() : undefined;
        if (whole) {
          puts[puts.length - 1]!.failed = all.length;
          const answer = Buffer.from(JSON.stringify({ __type: whole.type, message: `injected ${whole.type}` }));
          res.writeHead(whole.status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': answer.length, 'x-amzn-errortype': whole.type });
          res.end(answer);
          return;
        }
        if (isPut && failedAt.length === all.length && all.length > 0) {
          const answer = Buffer.from(JSON.stringify({ FailedRecordCount: all.length, Records: all.map(() => ({ ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard shardId-000000000000' })) }));
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': answer.length });
          res.end(answer);
          return;
        }
        const up = await forward(req.method ?? 'POST', req.url ?? '/', headers, body);
        let out = up.body;
        if (isPut && failedAt.length > 0 && up.status === 200) {
          const got = JSON.parse(up.body.toString('utf8')) as { FailedRecordCount: number; Records: object[] };
          const merged: object[] = [];
          let k = 0;
          for (let i = 0; i < all.length; i++) {
            merged.push(failedAt.includes(i) ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard shardId-000000000000' } : got.Records[k++]!);
          }
          out = Buffer.from(JSON.stringify({ ...got, FailedRecordCount: got.FailedRecordCount + failedAt.length, Records: merged }));
        }
        const resHeaders: Record<string, string | string[] | undefined> = { ...up.headers, 'content-length': String(out.length) };
        delete resHeaders['transfer-encoding'];
        res.writeHead(up.status, resHeaders);
        res.end(out);
      })().catch((err: unknown) => {
        res.writeHead(502);
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    puts,
    failRecords: (match, calls) => {
      fault = { match, calls };
    },
    failRequests: (...faults) => {
      requestFaults.push(...faults);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Fixture {
  sink: Sink;
  admin: KinesisClient;
  stream: string;
  puts: PutLog[];
  failRecords(match: (data: Buffer) => boolean, calls: number): void;
  failRequests(...faults: WholeRequestFault[]): void;
}

async function startKinesalite(t: ExecutionContext): Promise<number> {
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

async function setup(t: ExecutionContext, extra: Record<string, unknown> = {}): Promise<Fixture> {
  const port = await startKinesalite(t);
  const proxy = await startFaultProxy(port);
  t.teardown(() => proxy.close());
  const admin = new KinesisClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, credentials, requestHandler: new NodeHttpHandler() });
  t.teardown(() => admin.destroy());
  const stream = `events-${Math.random().toString(36).slice(2, 8)}`;
  await admin.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }));
  await waitFor(async () => (await admin.send(new DescribeStreamCommand({ StreamName: stream }))).StreamDescription?.StreamStatus === 'ACTIVE');
  const config = validateKinesisConfig(
    {
      type: 'kinesis',
      streamName: stream,
      region: 'us-east-1',
      endpoint: proxy.url,
      credentials: { type: 'static', accessKeyId: { value: credentials.accessKeyId }, secretAccessKey: { value: credentials.secretAccessKey } },
      timeoutMs: 10_000,
      retry: { initialMs: 5, maxMs: 50, maxRetryAgeMs: 60_000 },
      ...extra,
    },
    { local: true },
  );
  const sink = await createKinesisSink(config, testSinkContext());
  t.teardown(() => sink.close());
  return { sink, admin, stream, puts: proxy.puts, failRecords: proxy.failRecords, failRequests: proxy.failRequests };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface ReadRecord {
  shardId: string;
  partitionKey: string;
  id: string;
  data: string;
}

/** Every record in the stream, shard by shard, from TRIM_HORIZON. */
async function readAll(admin: KinesisClient, stream: string): Promise<ReadRecord[]> {
  let shards;
  try {
    shards = (await admin.send(new DescribeStreamCommand({ StreamName: stream }))).StreamDescription?.Shards ?? [];
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return [];
    throw err;
  }
  const out: ReadRecord[] = [];
  for (const shard of shards) {
    let iterator = (await admin.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    while (iterator) {
      const page = await admin.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of page.Records ?? []) {
        const data = Buffer.from(r.Data!).toString('utf8');
        out.push({ shardId: shard.ShardId!, partitionKey: r.PartitionKey!, id: (JSON.parse(data) as { id: string }).id, data });
      }
      if (!page.Records?.length || page.MillisBehindLatest === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return out;
}

sinkCompliance(test, {
  name: 'kinesis',
  transport: 'other',
  async setup(t) {
    const fx = await setup(t);
    return {
      sink: fx.sink,
      deliveredIds: async () => (await readAll(fx.admin, fx.stream)).map((r) => r.id),
      breakConfiguration: async () => {
        await fx.admin.send(new DeleteStreamCommand({ StreamName: fx.stream }));
        await waitFor(async () => {
          try {
            await fx.admin.send(new DescribeStreamCommand({ StreamName: fx.stream }));
            return false;
          } catch {
            return true;
          }
        });
      },
    };
  },
});

test('kinesis: each event is one record, read back exactly once, keyed by device channel in device order', async (t) => {
  const fx = await setup(t);
  const batch = makeRecords(200);
  const noKey = makeRecords(3, { startOffset: 9_000 }).map((r) => ({ ...r, key: null }));
  const result = await fx.sink.write([...batch, ...noKey], never());
  t.true(result.outcomes.every((o) => o.status === 'delivered'));
  const read = await readAll(fx.admin, fx.stream);
  t.is(read.length, 203);
  t.deepEqual(read.map((r) => r.id).sort(), [...batch, ...noKey].map((r) => r.eventId).sort());
  const byId = new Map(read.map((r) => [r.id, r]));
  for (const r of batch) {
    t.is(byId.get(r.eventId)!.partitionKey, r.key!, 'partition key = channel');
    t.is(byId.get(r.eventId)!.data, r.value.toString('utf8'), 'data = the event JSON byte for byte');
  }
  for (const r of noKey) t.is(byId.get(r.eventId)!.partitionKey, r.eventId, 'no channel: the event id');
  // One channel lives in one shard, and within it in the order the sink was given.
  for (const channel of new Set(batch.map((r) => r.key!))) {
    const sent = batch.filter((r) => r.key === channel).map((r) => r.eventId);
    const got = read.filter((r) => r.partitionKey === channel);
    t.is(new Set(got.map((r) => r.shardId)).size, 1);
    t.deepEqual(got.map((r) => r.id), sent);
  }
});

test('kinesis: a partial failure (FailedRecordCount, per-record throughput exceeded) resends only the failed records; each id once', async (t) => {
  const fx = await setup(t);
  const batch = makeRecords(80);
  const unlucky = new Set(batch.filter((_, i) => i % 5 === 2).map((r) => r.eventId));
  fx.failRecords((d) => unlucky.has((JSON.parse(d.toString('utf8')) as { id: string }).id), 2);
  const result = await fx.sink.write(batch, never());
  t.true(result.outcomes.every((o) => o.status === 'delivered'));
  t.deepEqual(fx.puts.map((p) => p.records), [80, unlucky.size, unlucky.size]);
  t.deepEqual(fx.puts.map((p) => p.failed), [unlucky.size, unlucky.size, 0]);
  t.is(result.retries, 2);
  const read = await readAll(fx.admin, fx.stream);
  t.is(read.length, batch.length, 'no duplicates');
  t.deepEqual(read.map((r) => r.id).sort(), batch.map((r) => r.eventId).sort());
});

test('kinesis: requests stay within 500 records and 5 MiB; a record over 1 MiB goes to the DLQ unsent', async (t) => {
  const fx = await setup(t);
  const small = makeRecords(1_100);
  const padded = makeRecords(400, { padBytes: 30_000, startOffset: 5_000 });
  const huge = makeRecords(1, { padBytes: 1024 * 1024, startOffset: 9_000 });
  const batch = [...small, ...huge, ...padded];
  const result = await fx.sink.write(batch, never());
  const o = result.outcomes[small.length]!;
  t.is(o.status, 'rejected');
  if (o.status === 'rejected') t.is(o.error.code, 'sink_too_large');
  t.is(result.outcomes.filter((x) => x.status === 'delivered').length, batch.length - 1);
  t.true(fx.puts.every((p) => p.records <= kinesisLimits.maxEntries && p.bytes <= kinesisLimits.maxRequestBytes));
  t.true(fx.puts.some((p) => p.records === 500));
  t.true(fx.puts.some((p) => p.bytes > 4 * 1024 * 1024));
  t.is((await readAll(fx.admin, fx.stream)).length, batch.length - 1);
});

test('kinesis: whole-request throttling and server errors are retried with backoff, then delivered once', async (t) => {
  const fx = await setup(t);
  fx.failRequests(
    { status: 400, type: 'LimitExceededException' },
    { status: 503, type: 'ServiceUnavailableException' },
    { status: 500, type: 'InternalFailure' },
  );
  const batch = makeRecords(40);
  const result = await fx.sink.write(batch, never());
  t.true(result.outcomes.every((o) => o.status === 'delivered'));
  t.is(result.retries, 3);
  t.deepEqual(fx.puts.map((p) => p.failed), [40, 40, 40, 0]);
  t.deepEqual((await readAll(fx.admin, fx.stream)).map((r) => r.id).sort(), batch.map((r) => r.eventId).sort(), 'each id once');
});

test('kinesis: credentials refused (AccessDeniedException, UnrecognizedClientException) halt as misconfiguration; nothing is written', async (t) => {
  for (const type of ['AccessDeniedException', 'UnrecognizedClientException']) {
    const fx = await setup(t);
    fx.failRequests({ status: 400, type });
    const err = await t.throwsAsync(fx.sink.write(makeRecords(3), never()));
    t.is(classify(err), 'misconfiguration', type);
    t.is((err as TributaryError).code, 'sink_auth', type);
    t.is((await readAll(fx.admin, fx.stream)).length, 0);
  }
});

test('kinesis: a record Kinesis keeps refusing is dead-lettered once the retry age passes; the others are delivered once', async (t) => {
  const fx = await setup(t, { retry: { initialMs: 5, maxMs: 20, maxRetryAgeMs: 300 } });
  const batch = makeRecords(20);
  const stuck = batch[7]!.eventId;
  fx.failRecords((d) => (JSON.parse(d.toString('utf8')) as { id: string }).id === stuck, Number.MAX_SAFE_INTEGER);
  const result = await fx.sink.write(batch, never());
  const o = result.outcomes[7]!;
  t.is(o.status, 'rejected');
  if (o.status === 'rejected') t.is(o.error.code, 'sink_retries_exhausted');
  t.is(result.outcomes.filter((x) => x.status === 'delivered').length, 19);
  t.deepEqual((await readAll(fx.admin, fx.stream)).map((r) => r.id).sort(), batch.filter((r) => r.eventId !== stuck).map((r) => r.eventId).sort());
});

test('kinesis: a missing stream halts as misconfiguration (sink_not_found)', async (t) => {
  const fx = await setup(t);
  await fx.admin.send(new DeleteStreamCommand({ StreamName: fx.stream }));
  await waitFor(async () => {
    try {
      await fx.admin.send(new DescribeStreamCommand({ StreamName: fx.stream }));
      return false;
    } catch {
      return true;
    }
  });
  const err = await t.throwsAsync(fx.sink.write(makeRecords(3), never()));
  t.is(classify(err), 'misconfiguration');
  t.is((err as TributaryError).code, 'sink_not_found');
  t.is(classify(await t.throwsAsync(fx.sink.healthcheck(never()))), 'misconfiguration');
});
