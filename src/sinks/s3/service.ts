// The s3 Sink: each write() puts its records as one gzip NDJSON or Parquet object per Kafka partition (more
// only past the size limits) and resolves once S3 holds them; it never buffers across writes,
// because the caller commits offsets when write() resolves. Big objects come from the fetch:
// limits.fetch asks the broker to hold each fetch for maxBatchBytes or maxBatchAgeMs (capped by
// the runner), so what arrived meanwhile is one object; maxBatchEvents/maxBatchBytes cut it.
import { PutObjectCommand, S3Client, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import { abortError, systemClock, type Clock } from '../http/backoff.js';
import type { EventRecord, RecordOutcome, Sink, SinkContext, WriteResult } from '../types.js';
import { awsClientSetup, type AwsClientSeams } from '../aws/client-config.js';
import { sendAwsRequest } from '../aws/request-loop.js';
import type { S3Config } from './config.js';
import { healthcheckS3 } from './healthcheck.js';
import { buildObject, planObjects } from './request-builder.js';
import { retryLogLevel } from '../../observability/logger.js';

/** Seams for tests; production passes none of these. */
export interface S3SinkOptions extends AwsClientSeams {
  clock?: Clock;
  random?: () => number;
}

export async function createS3Sink(config: S3Config, ctx: SinkContext, options: S3SinkOptions = {}): Promise<Sink> {
  const setup = await awsClientSetup(config, ctx, options);
  const client = new S3Client({ ...setup.clientConfig, forcePathStyle: config.forcePathStyle });
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const log = ctx.logger.child({ sink: 's3', integrationId: ctx.integrationId, bucket: config.bucket });
  const where = { prefix: config.prefix, appKey: ctx.appKey, integrationId: ctx.integrationId };
  const encryption: Partial<PutObjectCommandInput> =
    config.serverSideEncryption?.type === 'aws:kms'
      ? { ServerSideEncryption: 'aws:kms', ...(config.serverSideEncryption.kmsKeyId ? { SSEKMSKeyId: config.serverSideEncryption.kmsKeyId } : {}) }
      : config.serverSideEncryption?.type === 'AES256'
        ? { ServerSideEncryption: 'AES256' }
        : {};

  async function write(batch: readonly EventRecord[], signal: AbortSignal): Promise<WriteResult> {
    if (signal.aborted) throw abortError(signal);
    const outcomes = new Array<RecordOutcome>(batch.length);
    const stats = { requests: 0, retries: 0, bytesSent: 0 };
    const deadline = clock.now() + config.retry.maxRetryAgeMs;
    for (const indices of planObjects(batch, config)) {
      const object = await buildObject(
        indices.map((i) => batch[i]!),
        where,
        config.format,
      );
      const input: PutObjectCommandInput = {
        Bucket: config.bucket,
        Key: object.key,
        Body: object.body,
        ContentType: object.contentType,
        ...(object.contentEncoding ? { ContentEncoding: object.contentEncoding } : {}),
        Metadata: object.metadata,
        ...encryption,
      };
      const result = await sendAwsRequest(
        (s) => {
          stats.requests++;
          return client.send(new PutObjectCommand(input), { abortSignal: s });
        },
        {
          what: `S3 PutObject s3://${config.bucket}/${object.key}`,
          backoff: config.retry,
          deadline,
          clock,
          random,
          onRetry: (e) => {
            stats.retries++;
            log[retryLogLevel(e.attempt)]({ event: 'sink.retry', stage: 'send', code: e.code, status: e.status, attempt: e.attempt, delayMs: e.delayMs, events: indices.length }, 's3 put failed; retrying the same key');
          },
        },
        signal,
      );
      if (result.outcome === 'delivered') {
        stats.bytesSent += object.body.length;
        for (const i of indices) outcomes[i] = { status: 'delivered' };
        log.debug({ event: 'sink.object_written', key: object.key, events: indices.length, bytes: object.body.length }, 's3 object written');
        continue;
      }
      log.warn({ event: 'sink.error', stage: 'send', code: result.error.code, status: result.error.status, events: indices.length, attempts: result.attempts, key: object.key }, 's3 refused an object; its records go to the DLQ');
      for (const i of indices) {
        outcomes[i] = {
          status: 'rejected',
          error: result.error,
          attempts: result.attempts,
          ...(result.error.status === undefined ? {} : { httpStatus: result.error.status }),
        };
      }
    }
    return { outcomes, ...stats };
  }

  return {
    limits: { maxBatchEvents: config.maxBatchEvents, maxBatchBytes: config.maxBatchBytes, fetch: { minBytes: config.maxBatchBytes, maxWaitMs: config.maxBatchAgeMs } },
    write,
    healthcheck: (signal) => healthcheckS3(client, config.bucket, signal),
    close: async () => {
      client.destroy();
      setup.close();
    },
  };
}
