// Pure: a batch in, PutRecords entries and requests out. A record's data is the event's JSON
// text exactly as read; its partition key is the device channel, so one device's events share a shard.
import type { EventRecord } from '../types.js';
import { planRequests, type RequestLimits, type RequestPlan } from '../aws/chunking.js';

/**
 * Kinesis Data Streams quotas for PutRecords: 500 records and 5 MiB per call, 1 MiB per record;
 * a record's size counts its data and its partition key.
 */
export const kinesisLimits: RequestLimits = {
  maxEntries: 500,
  maxRequestBytes: 5 * 1024 * 1024,
  maxEntryBytes: 1024 * 1024,
};

/** Kinesis partition keys are 1-256 Unicode characters. */
export const maxPartitionKeyChars = 256;

export interface KinesisEntry {
  data: Buffer;
  partitionKey: string;
  /** Bytes counted against the limits: data plus the UTF-8 partition key. */
  size: number;
}

/** The device channel (the Kafka key); the event id when there is none or it is too long. */
export function partitionKeyFor(record: Pick<EventRecord, 'key' | 'eventId'>): string {
  const key = record.key;
  if (key && [...key].length <= maxPartitionKeyChars) return key;
  return record.eventId;
}

export function kinesisEntry(record: EventRecord): KinesisEntry {
  const partitionKey = partitionKeyFor(record);
  return { data: record.value, partitionKey, size: record.value.length + Buffer.byteLength(partitionKey) };
}

export function planKinesisRequests(entries: readonly KinesisEntry[], limits: RequestLimits = kinesisLimits): RequestPlan {
  return planRequests(entries.map((e) => e.size), limits);
}
