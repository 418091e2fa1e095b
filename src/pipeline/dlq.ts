// Dead-letter records: what failed, why, and enough context to replay it. The original bytes
// are kept as the value; the error travels in headers (bounded, never secrets).
import type { IHeaders, Message } from 'kafkajs';
import { classify, type TributaryError } from '../errors.js';
import { headers as H } from '../kafka/topics.js';
import type { EventRecord, RecordOutcome } from '../sinks/types.js';
import { envelopeHeaders } from './event-record.js';

export const MAX_DLQ_BODY = 1024;

export type DlqStage = 'receive' | 'transform' | 'send';

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n)}…`;
}

/** A record the sink rejected: original value and key, plus the sink's verdict. */
export function dlqFromRejected(record: EventRecord, outcome: Extract<RecordOutcome, { status: 'rejected' }>): Message {
  const h: IHeaders = {
    ...envelopeHeaders(record),
    ...errorHeaders(outcome.error, 'send', outcome.attempts),
    [H.originalPartition]: String(record.partition),
    [H.originalOffset]: record.offset,
  };
  if (outcome.httpStatus !== undefined) h[H.responseStatus] = String(outcome.httpStatus);
  if (outcome.responseBody) h[H.responseBody] = truncate(outcome.responseBody, MAX_DLQ_BODY);
  return { key: record.key, value: record.value, headers: h };
}

/** A line from Connect that could not become an event (malformed, oversized, bad envelope). */
export function dlqFromPoisonLine(
  integrationId: string,
  raw: Buffer | string,
  error: TributaryError,
  context: { afterOffset: string | undefined; correlationId: string; maxBytes?: number },
): Message {
  const max = context.maxBytes ?? 64 * 1024;
  const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
  return {
    key: null,
    value: buf.length > max ? buf.subarray(0, max) : buf,
    headers: {
      [H.integrationId]: integrationId,
      [H.correlationId]: context.correlationId,
      ...(context.afterOffset ? { 'tributary-after-offset': context.afterOffset } : {}),
      ...(buf.length > max ? { 'tributary-truncated-from': String(buf.length) } : {}),
      ...errorHeaders(error, 'receive', 1),
    },
  };
}

function errorHeaders(error: TributaryError, stage: DlqStage, attempts: number): IHeaders {
  return {
    [H.errorClass]: classify(error),
    [H.errorCode]: error.code,
    [H.reason]: truncate(error.message, 500),
    [H.attempts]: String(attempts),
    [H.stage]: stage,
    [H.dlqAt]: new Date().toISOString(),
  };
}
