// Pure: a batch in, PutRecordBatch requests out. Each record is one event as an NDJSON line (the
// event's JSON text + "\n"), so the objects Firehose concatenates into S3 stay line-delimited.
import { encodeEvents } from '../encoding.js';
import type { EventRecord } from '../types.js';
import { planRequests, type RequestLimits, type RequestPlan } from '../aws/chunking.js';

/**
 * Amazon Data Firehose quotas for PutRecordBatch: 500 records and 4 MiB per call, 1,000 KiB
 * per record before base64 encoding.
 */
export const firehoseLimits: RequestLimits = {
  maxEntries: 500,
  maxRequestBytes: 4 * 1024 * 1024,
  maxEntryBytes: 1000 * 1024,
};

/** One Firehose record's data: the event's JSON text and a newline. */
export function firehoseRecordData(record: EventRecord): Buffer {
  return encodeEvents([record], 'ndjson');
}

/** The requests for these encoded records, and the records too large for Firehose at all. */
export function planFirehoseRequests(data: readonly Buffer[], limits: RequestLimits = firehoseLimits): RequestPlan {
  return planRequests(data.map((d) => d.length), limits);
}
