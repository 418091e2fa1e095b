// The firehose Sink: PutRecordBatch within Firehose's limits; only the records a response marks
// failed are resent (RELIABILITY.md T7); a record over 1,000 KiB goes to the DLQ unsent.
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { ErrorCode, TributaryError } from '../../errors.js';
import { abortError, systemClock, type Clock } from '../http/backoff.js';
import type { EventRecord, RecordOutcome, Sink, SinkContext, WriteResult } from '../types.js';
import { awsClientSetup, type AwsClientSeams } from '../aws/client-config.js';
import { putWithPartialRetries, type EntryResult } from '../aws/put-records-loop.js';
import type { FirehoseConfig } from './config.js';
import { healthcheckFirehose } from './healthcheck.js';
import { firehoseLimits, firehoseRecordData, planFirehoseRequests } from './request-builder.js';
import { retryLogLevel } from '../../observability/logger.js';

/** Seams for tests; production passes none of these. */
export interface FirehoseSinkOptions extends AwsClientSeams {
  clock?: Clock;
  random?: () => number;
}

export async function createFirehoseSink(config: FirehoseConfig, ctx: SinkContext, options: FirehoseSinkOptions = {}): Promise<Sink> {
  const setup = await awsClientSetup(config, ctx, options);
  const client = new FirehoseClient(setup.clientConfig);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const stream = config.deliveryStreamName;
  const log = ctx.logger.child({ sink: 'firehose', integrationId: ctx.integrationId, deliveryStream: stream });
  const what = `Firehose PutRecordBatch to ${stream}`;

  async function write(batch: readonly EventRecord[], signal: AbortSignal): Promise<WriteResult> {
    if (signal.aborted) throw abortError(signal);
    const outcomes = new Array<RecordOutcome>(batch.length);
    const stats = { requests: 0, retries: 0 };
    if (batch.length === 0) return { outcomes, ...stats, bytesSent: 0 };
    const data = batch.map(firehoseRecordData);
    const plan = planFirehoseRequests(data);
    for (const i of plan.oversized) {
      const error = new TributaryError(ErrorCode.sinkTooLarge, `event ${batch[i]!.eventId} is ${data[i]!.length} bytes; Firehose takes at most ${firehoseLimits.maxEntryBytes} per record`);
      log.warn({ event: 'sink.error', stage: 'encode', code: error.code, eventId: batch[i]!.eventId, bytes: data[i]!.length }, 'firehose record too large; it goes to the DLQ');
      outcomes[i] = { status: 'rejected', error, attempts: 0 };
    }
    const deadline = clock.now() + config.retry.maxRetryAgeMs;
    const put = async (indices: readonly number[], s: AbortSignal): Promise<EntryResult[]> => {
      const out = await client.send(
        new PutRecordBatchCommand({ DeliveryStreamName: stream, Records: indices.map((i) => ({ Data: data[i]! })) }),
        { abortSignal: s },
      );
      return (out.RequestResponses ?? []).map((r): EntryResult => (r.ErrorCode ? { ok: false, errorCode: r.ErrorCode, errorMessage: r.ErrorMessage } : { ok: true }));
    };
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
          onRetry: (e) => log[retryLogLevel(e.attempt)]({ event: 'sink.retry', stage: 'send', code: e.code, attempt: e.attempt, delayMs: e.delayMs, events: e.records }, 'firehose records failed; resending those'),
        },
        outcomes,
        stats,
        signal,
      );
    }
    let bytesSent = 0;
    outcomes.forEach((o, i) => {
      if (o.status === 'delivered') bytesSent += data[i]!.length;
      else log.warn({ event: 'sink.error', stage: 'send', code: o.error.code, eventId: batch[i]!.eventId, attempts: o.attempts }, 'firehose refused a record; it goes to the DLQ');
    });
    return { outcomes, ...stats, bytesSent };
  }

  return {
    limits: { maxBatchEvents: config.maxBatchEvents, maxBatchBytes: config.maxBatchBytes },
    write,
    healthcheck: (signal) => healthcheckFirehose(client, stream, signal),
    close: async () => {
      client.destroy();
      setup.close();
    },
  };
}
