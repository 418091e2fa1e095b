// The kinesis Sink: PutRecords within Kinesis's limits, partition key = device channel; only the
// records a response marks failed (FailedRecordCount, per-record throttling) are resent.
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { ErrorCode, TributaryError } from '../../errors.js';
import { abortError, systemClock, type Clock } from '../http/backoff.js';
import type { EventRecord, RecordOutcome, Sink, SinkContext, WriteResult } from '../types.js';
import { awsClientSetup, type AwsClientSeams } from '../aws/client-config.js';
import { putWithPartialRetries, type EntryResult } from '../aws/put-records-loop.js';
import type { KinesisConfig } from './config.js';
import { healthcheckKinesis } from './healthcheck.js';
import { kinesisEntry, kinesisLimits, planKinesisRequests } from './request-builder.js';
import { retryLogLevel } from '../../observability/logger.js';

/** Seams for tests; production passes none of these. */
export interface KinesisSinkOptions extends AwsClientSeams {
  clock?: Clock;
  random?: () => number;
}

export async function createKinesisSink(config: KinesisConfig, ctx: SinkContext, options: KinesisSinkOptions = {}): Promise<Sink> {
  const setup = await awsClientSetup(config, ctx, options);
  // The SDK's default handler for Kinesis is HTTP/2 (for SubscribeToShard); PutRecords is plain
  // request/response, and the shared keep-alive HTTP/1.1 handler serves it (and kinesalite) well.
  const client = new KinesisClient(setup.clientConfig);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const stream = config.streamName;
  const log = ctx.logger.child({ sink: 'kinesis', integrationId: ctx.integrationId, stream });
  const what = `Kinesis PutRecords to ${stream}`;

  async function write(batch: readonly EventRecord[], signal: AbortSignal): Promise<WriteResult> {
    if (signal.aborted) throw abortError(signal);
    const outcomes = new Array<RecordOutcome>(batch.length);
    const stats = { requests: 0, retries: 0 };
    if (batch.length === 0) return { outcomes, ...stats, bytesSent: 0 };
    const entries = batch.map(kinesisEntry);
    const plan = planKinesisRequests(entries);
    for (const i of plan.oversized) {
      const error = new TributaryError(ErrorCode.sinkTooLarge, `event ${batch[i]!.eventId} is ${entries[i]!.size} bytes with its partition key; Kinesis takes at most ${kinesisLimits.maxEntryBytes} per record`);
      log.warn({ event: 'sink.error', stage: 'encode', code: error.code, eventId: batch[i]!.eventId, bytes: entries[i]!.size }, 'kinesis record too large; it goes to the DLQ');
      outcomes[i] = { status: 'rejected', error, attempts: 0 };
    }
    const deadline = clock.now() + config.retry.maxRetryAgeMs;
    const put = async (indices: readonly number[], s: AbortSignal): Promise<EntryResult[]> => {
      const out = await client.send(
        new PutRecordsCommand({ StreamName: stream, Records: indices.map((i) => ({ Data: entries[i]!.data, PartitionKey: entries[i]!.partitionKey })) }),
        { abortSignal: s },
      );
      return (out.Records ?? []).map((r): EntryResult => (r.ErrorCode ? { ok: false, errorCode: r.ErrorCode, errorMessage: r.ErrorMessage } : { ok: true }));
    };
    // Requests go one after another, so a device's events reach their shard in order unless a
    // record is resent after a partial failure (PutRecords gives no per-key ordering on resends).
    for (const indices of plan.requests) {
      await putWithPartialRetries(
        indices,
        {
          what,
          put,
          retry: config.retry,
          deadline,
          clock,
          random,
          onRetry: (e) => log[retryLogLevel(e.attempt)]({ event: 'sink.retry', stage: 'send', code: e.code, attempt: e.attempt, delayMs: e.delayMs, events: e.records }, 'kinesis records failed; resending those'),
        },
        outcomes,
        stats,
        signal,
      );
    }
    let bytesSent = 0;
    outcomes.forEach((o, i) => {
      if (o.status === 'delivered') bytesSent += entries[i]!.size;
      else log.warn({ event: 'sink.error', stage: 'send', code: o.error.code, eventId: batch[i]!.eventId, attempts: o.attempts }, 'kinesis refused a record; it goes to the DLQ');
    });
    return { outcomes, ...stats, bytesSent };
  }

  return {
    limits: { maxBatchEvents: config.maxBatchEvents, maxBatchBytes: config.maxBatchBytes },
    write,
    healthcheck: (signal) => healthcheckKinesis(client, stream, signal),
    close: async () => {
      client.destroy();
      setup.close();
    },
  };
}
