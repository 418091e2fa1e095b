// Pure: records in, one Parquet file (snappy, one row group) out, in the Connect envelope schema
// of docs/sinks/s3.md. JSON members (device, body) are copied as their exact text, never
// re-serialised, so big numbers survive as they do in the NDJSON format.
import { parquetWriteBuffer } from 'hyparquet-writer';
import { deviceChannel, type ConnectEvent } from '../../connect/event.js';
import type { EventRecord } from '../types.js';

type SchemaElement = NonNullable<Parameters<typeof parquetWriteBuffer>[0]['schema']>[number];

const utc = { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } as const;
const string = (name: string, required = false): SchemaElement => ({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: required ? 'REQUIRED' : 'OPTIONAL' });
const timestamp = (name: string): SchemaElement => ({ name, type: 'INT64', converted_type: 'TIMESTAMP_MICROS', logical_type: utc, repetition_type: 'OPTIONAL' });

/** The columns, in file order; docs/sinks/s3.md has the same table (a unit test compares them). */
export const parquetColumns = [
  { element: string('id', true), description: 'Connect event id (UUID)' },
  { element: string('type', true), description: 'Connect event type (OPEN, CUSTOM, …)' },
  { element: string('offset', true), description: 'Connect offset, a decimal string (may exceed 64 bits)' },
  { element: timestamp('occurred'), description: 'when the event happened (UTC, microseconds)' },
  { element: timestamp('processed'), description: 'when Airship processed it (UTC, microseconds)' },
  { element: timestamp('ingested_at'), description: 'when Tributary wrote it to Kafka (UTC, microseconds)' },
  { element: string('channel'), description: "the device's channel id (`device.channel` or the platform's `*_channel`)" },
  { element: string('device_type'), description: '`device.device_type` (IOS, ANDROID, WEB, …)' },
  { element: string('named_user_id'), description: '`device.named_user_id`' },
  { element: string('device'), description: 'the whole `device` object as JSON text (attributes included)' },
  { element: string('body'), description: 'the `body` object as JSON text, exactly as Connect sent it' },
  { element: { name: 'kafka_partition', type: 'INT32', repetition_type: 'REQUIRED' } as SchemaElement, description: 'Kafka partition of the events topic' },
  { element: { name: 'kafka_offset', type: 'INT64', repetition_type: 'REQUIRED' } as SchemaElement, description: 'Kafka offset within that partition' },
] as const;

/** One event's row; exported for tests and for readers that want the same mapping. */
export interface ParquetRow {
  id: string;
  type: string;
  offset: string;
  occurred: bigint | null;
  processed: bigint | null;
  ingested_at: bigint | null;
  channel: string | null;
  device_type: string | null;
  named_user_id: string | null;
  device: string | null;
  body: string | null;
  kafka_partition: number;
  kafka_offset: bigint;
}

/** ISO 8601 (…Z or ±hh:mm, up to nanoseconds) to epoch microseconds; null when unparseable. */
export function isoToMicros(iso: string): bigint | null {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  if (!m) return null;
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(seconds)) return null;
  const fraction = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return BigInt(seconds) * 1_000n + BigInt(fraction);
}

/**
 * The exact text of each top-level member of a JSON object, by name. Assumes valid JSON (the
 * source validated every event); a value's text runs from its first to its last character.
 */
export function topLevelMembers(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = text.indexOf('{') + 1;
  const n = text.length;
  const ws = () => {
    while (i < n && /\s/.test(text[i]!)) i++;
  };
  const skipString = () => {
    i++;
    while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
  };
  while (i > 0 && i < n) {
    ws();
    if (text[i] !== '"') break;
    const keyStart = i;
    skipString();
    const key = JSON.parse(text.slice(keyStart, i)) as string;
    ws();
    i++; // ':'
    ws();
    const start = i;
    let depth = 0;
    while (i < n) {
      const c = text[i]!;
      if (c === '"') {
        skipString();
        if (depth === 0) break;
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0) break;
        depth--;
        if (depth === 0) {
          i++;
          break;
        }
      } else if (depth === 0 && c === ',') break;
      i++;
    }
    out.set(key, text.slice(start, i).trimEnd());
    ws();
    if (text[i] === ',') i++;
    else break;
  }
  return out;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function parquetRow(r: EventRecord): ParquetRow {
  const text = r.value.toString('utf8');
  const members = topLevelMembers(text);
  let device: Record<string, unknown> | undefined;
  const deviceText = members.get('device');
  if (deviceText?.startsWith('{')) {
    try {
      device = JSON.parse(deviceText) as Record<string, unknown>;
    } catch {
      device = undefined;
    }
  }
  return {
    id: r.eventId,
    type: r.type,
    offset: r.connectOffset,
    occurred: isoToMicros(r.occurred),
    processed: isoToMicros(r.processed),
    ingested_at: isoToMicros(r.ingestedAt),
    channel: device ? deviceChannel({ device } as ConnectEvent) : null,
    device_type: str(device?.device_type),
    named_user_id: str(device?.named_user_id),
    device: deviceText ?? null,
    body: members.get('body') ?? null,
    kafka_partition: r.partition,
    kafka_offset: BigInt(r.offset),
  };
}

/** The file: snappy-compressed pages, statistics on (Athena/Spark skip row groups by them). */
export function encodeParquet(records: readonly EventRecord[]): Buffer {
  const rows = records.map(parquetRow);
  const schema: SchemaElement[] = [{ name: 'root', num_children: parquetColumns.length }, ...parquetColumns.map((c) => c.element)];
  const buffer = parquetWriteBuffer({
    schema,
    columnData: parquetColumns.map((c) => ({ name: c.element.name, data: rows.map((row) => row[c.element.name as keyof ParquetRow]) })),
    codec: 'SNAPPY',
    rowGroupSize: Math.max(1, rows.length),
    createdBy: 'tributary (hyparquet-writer)',
  });
  return Buffer.from(buffer);
}
