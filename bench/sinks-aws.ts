// AWS sink throughput: events/s one sink instance delivers to its loopback server, for ~1 KB
// events, each sink for a fixed time, beside the webhook sink to a loopback receiver in the same
// run. Servers: s3rver (S3), test/helpers/firehose-server.ts (Firehose), kinesalite (Kinesis).
// Usage: node --import tsx bench/sinks-aws.ts [--seconds 10]; prints a markdown table.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createFirehoseSink } from '../src/sinks/firehose/service.js';
import { validateFirehoseConfig } from '../src/sinks/firehose/config.js';
import { createKinesisSink } from '../src/sinks/kinesis/service.js';
import { validateKinesisConfig } from '../src/sinks/kinesis/config.js';
import { createS3Sink } from '../src/sinks/s3/service.js';
import { validateS3Config } from '../src/sinks/s3/config.js';
import type { EventRecord, Sink } from '../src/sinks/types.js';
import { createWebhookSink } from '../src/sinks/webhook/service.js';
import { validateWebhookConfig } from '../src/sinks/webhook/config.js';
import { startFirehoseServer } from '../test/helpers/firehose-server.js';
import { startHttpReceiver } from '../test/helpers/http-receiver.js';
import { makeRecords, testSinkContext } from '../test/helpers/sink-compliance.js';
import { benchCommand, parseIntIn } from './args.js';

const { seconds } = benchCommand('bench:sinks-aws', 'the S3, Firehose and Kinesis sinks against local servers, beside the webhook sink')
  .option('--seconds <n>', 'seconds per sink', parseIntIn(1, 600), 10)
  .parse()
  .opts<{ seconds: number }>();
const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as new (o: object) => { run(): Promise<AddressInfo>; close(): Promise<void> };
const kinesalite = require('kinesalite') as (o: object) => Server;
const credentials = { type: 'static', accessKeyId: { value: 'S3RVER' }, secretAccessKey: { value: 'S3RVER' } };
const local = { local: true };

/** ~1 KB events (random padding, so gzip cannot make them free). */
const pool = makeRecords(20_000, { padBytes: 780 });
const eventBytes = Math.round(pool.reduce((n, r) => n + r.value.length, 0) / pool.length);

interface Row {
  sink: string;
  server: string;
  batch: number;
  events: number;
  ms: number;
  requests: number;
}

/** Writes batches as the sink runner cuts them (its limits) back to back for `seconds`; offsets keep rising. */
async function drive(name: string, server: string, sink: Sink): Promise<Row> {
  const batchSize = Math.min(sink.limits.maxBatchEvents, Math.floor(sink.limits.maxBatchBytes / eventBytes), pool.length);
  let offset = 0;
  let events = 0;
  let requests = 0;
  const signal = new AbortController().signal;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    const batch: EventRecord[] = [];
    for (let i = 0; i < batchSize; i++) batch.push({ ...pool[(offset + i) % pool.length]!, offset: String(offset + i) });
    offset += batchSize;
    const result = await sink.write(batch, signal);
    if (!result.outcomes.every((o) => o.status === 'delivered')) throw new Error(`${name}: not every record was delivered`);
    events += batch.length;
    requests += result.requests;
  }
  return { sink: name, server, batch: batchSize, events, ms: performance.now() - started, requests };
}

const rows: Row[] = [];
const ctx = testSinkContext({ integrationId: 'bench', appKey: 'bench' });

{
  const rx = await startHttpReceiver();
  const sink = await createWebhookSink(validateWebhookConfig({ type: 'webhook', url: rx.url, maxBatchEvents: 500 }, local), ctx);
  rows.push(await drive('webhook (ndjson)', 'http-receiver', sink));
  await sink.close();
  await rx.close();
}
{
  const dir = mkdtempSync(join(tmpdir(), 'bench-s3rver-'));
  const s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir });
  const { port } = await s3rver.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const admin = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestHandler: new NodeHttpHandler() });
  await admin.send(new CreateBucketCommand({ Bucket: 'bench-bucket' }));
  const sink = await createS3Sink(validateS3Config({ type: 's3', bucket: 'bench-bucket', region: 'us-east-1', endpoint, forcePathStyle: true, credentials }, local), ctx);
  rows.push(await drive('s3 (gzip objects)', 's3rver', sink));
  await sink.close();
  admin.destroy();
  await s3rver.close();
  rmSync(dir, { recursive: true, force: true });
}
{
  const server = await startFirehoseServer({ streams: ['bench'] });
  const sink = await createFirehoseSink(validateFirehoseConfig({ type: 'firehose', deliveryStreamName: 'bench', region: 'us-east-1', endpoint: server.url, credentials }, local), ctx);
  rows.push(await drive('firehose', 'firehose-server', sink));
  await sink.close();
  await server.close();
}
{
  const server = kinesalite({ createStreamMs: 0, shardLimit: 100 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const admin = new KinesisClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, requestHandler: new NodeHttpHandler() });
  await admin.send(new CreateStreamCommand({ StreamName: 'bench', ShardCount: 4 }));
  while ((await admin.send(new DescribeStreamSummaryCommand({ StreamName: 'bench' }))).StreamDescriptionSummary?.StreamStatus !== 'ACTIVE') await new Promise((r) => setTimeout(r, 20));
  const sink = await createKinesisSink(validateKinesisConfig({ type: 'kinesis', streamName: 'bench', region: 'us-east-1', endpoint, credentials }, local), ctx);
  rows.push(await drive('kinesis', 'kinesalite (in-process)', sink));
  await sink.close();
  admin.destroy();
  await new Promise((r) => server.close(r));
}

console.log(`\n${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ~${eventBytes} B events, ${seconds} s per sink, one write() at a time\n`);
console.log('| sink | loopback server | events/write | events | requests | events/s | MB/s (event bytes) |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const perSecond = (r.events / r.ms) * 1000;
  console.log(`| ${r.sink} | ${r.server} | ${r.batch} | ${r.events} | ${r.requests} | ${Math.round(perSecond).toLocaleString('en-US')} | ${((perSecond * eventBytes) / 1e6).toFixed(1)} |`);
}
