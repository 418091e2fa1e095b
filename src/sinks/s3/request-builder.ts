// Pure: a batch in, S3 objects out. Keys are deterministic functions of the records (never of
// the wall clock), so a retried write overwrites its object instead of adding one (RELIABILITY T8).
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { encodeEvents } from '../encoding.js';
import type { EventRecord } from '../types.js';
import { encodeParquet } from './parquet-encoder.js';

export type S3Format = 'ndjson.gz' | 'parquet';

const gzip = promisify(gzipCb);

export interface TimePartition {
  /** YYYY-MM-DD, UTC. */
  dt: string;
  /** HH, UTC. */
  hour: string;
}

/**
 * The object's time partition: the first record's `occurred` (the event time analysts query
 * by), else `processed`, else `ingestedAt`; UTC. Never the upload time: a retry an hour later
 * must land on the same key.
 */
export function timePartition(first: Pick<EventRecord, 'occurred' | 'processed' | 'ingestedAt'>): TimePartition {
  for (const candidate of [first.occurred, first.processed, first.ingestedAt]) {
    const t = Date.parse(candidate);
    if (candidate && !Number.isNaN(t)) {
      const iso = new Date(t).toISOString();
      return { dt: iso.slice(0, 10), hour: iso.slice(11, 13) };
    }
  }
  return { dt: '1970-01-01', hour: '00' };
}

export interface ObjectKeyParts {
  prefix: string;
  appKey: string;
  integrationId: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  time: TimePartition;
  /** The key's suffix; ndjson.gz when omitted. */
  format?: S3Format;
}

/** Offsets are zero-padded to 20 digits (any int64) so keys list in offset order. */
const pad = (offset: string): string => offset.padStart(20, '0');

/** A Hive-style key value: anything outside [A-Za-z0-9._-] is percent-encoded, so no "/" or "=" slips in. */
export const keySegment = (value: string): string => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** `prefix/app=<appKey>/integration=<id>/dt=YYYY-MM-DD/hour=HH/p<partition>-<firstOffset>-<lastOffset>.<ndjson.gz|parquet>` */
export function objectKey(p: ObjectKeyParts): string {
  return (
    `${p.prefix}app=${keySegment(p.appKey)}/integration=${keySegment(p.integrationId)}/dt=${p.time.dt}/hour=${p.time.hour}/` +
    `p${String(p.partition).padStart(5, '0')}-${pad(p.firstOffset)}-${pad(p.lastOffset)}.${p.format ?? 'ndjson.gz'}`
  );
}

export interface ObjectLimits {
  maxBatchEvents: number;
  maxBatchBytes: number;
}

/**
 * Groups a batch into objects: records of one Kafka partition together (keys name one
 * partition), input order kept, each object within the limits by count and by event bytes. One
 * object per partition when the caller batched within the limits, as the sink runner does.
 * Bytes are event bytes (newlines not counted), as the runner counts them.
 */
export function planObjects(records: readonly Pick<EventRecord, 'partition' | 'value'>[], limits: ObjectLimits): number[][] {
  const byPartition = new Map<number, number[]>();
  records.forEach((r, i) => {
    const list = byPartition.get(r.partition);
    if (list) list.push(i);
    else byPartition.set(r.partition, [i]);
  });
  const objects: number[][] = [];
  for (const indices of byPartition.values()) {
    let current: number[] = [];
    let bytes = 0;
    for (const i of indices) {
      // Event bytes, as the sink runner counts them, so a batch it cut to maxBatchBytes stays one object.
      const size = records[i]!.value.length;
      if (current.length > 0 && (current.length >= limits.maxBatchEvents || bytes + size > limits.maxBatchBytes)) {
        objects.push(current);
        current = [];
        bytes = 0;
      }
      current.push(i);
      bytes += size;
    }
    if (current.length > 0) objects.push(current);
  }
  return objects;
}

export interface S3Object {
  key: string;
  /** gzip of the NDJSON lines, or the Parquet file. */
  body: Buffer;
  /** Uncompressed NDJSON bytes (for Parquet: the events' JSON bytes it holds). */
  rawBytes: number;
  contentType: string;
  contentEncoding: string | undefined;
  metadata: Record<string, string>;
}

/** Builds one object from records of a single partition. Async gzip runs on the libuv pool. */
export async function buildObject(
  records: readonly EventRecord[],
  where: { prefix: string; appKey: string; integrationId: string },
  format: S3Format = 'ndjson.gz',
): Promise<S3Object> {
  const first = records[0]!;
  const last = records[records.length - 1]!;
  const key = objectKey({ ...where, partition: first.partition, firstOffset: first.offset, lastOffset: last.offset, time: timePartition(first), format });
  const parquet = format === 'parquet';
  const ndjson = parquet ? undefined : encodeEvents(records, 'ndjson');
  const body = ndjson ? await gzip(ndjson) : encodeParquet(records);
  return {
    key,
    body,
    rawBytes: ndjson ? ndjson.length : records.reduce((n, r) => n + r.value.length, 0),
    contentType: parquet ? 'application/vnd.apache.parquet' : 'application/x-ndjson',
    contentEncoding: parquet ? undefined : 'gzip',
    metadata: {
      'tributary-events': String(records.length),
      'tributary-kafka-partition': String(first.partition),
      'tributary-first-offset': first.offset,
      'tributary-last-offset': last.offset,
    },
  };
}
