// The event envelope in Kafka, both ways: a Connect event becomes a record (key = device
// channel, value = the exact Connect JSON line, ids and times in headers), and a consumed
// record becomes the EventRecord sinks receive. One module so the two never drift apart.
// With flag `source.packRecords` the source writes a *packed* record instead: the events of one
// batch that go to one partition, in order, in one record (format below); sinks read both kinds.
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import type { EventEnvelope } from '../connect/event.js';
import { ErrorCode, TributaryError } from '../errors.js';
import { allocRecordValue, releaseRecordValue } from '../kafka/kafkajs-encoder.js';
import { keyPartition } from '../kafka/partitioner.js';
import { headers as H } from '../kafka/topics.js';
import type { EventRecord } from '../sinks/types.js';

export interface ProduceContext {
  integrationId: string;
  correlationId: string;
  ingestedAt: string;
  /** The source's contiguous watermark when the batch was produced (every event ≤ it is in Kafka). */
  watermark?: string | undefined;
}

/** The envelope headers every event record carries (I3), in the events topic and the DLQ alike. */
export function envelopeHeaders(
  e: Pick<EventRecord, 'integrationId' | 'eventId' | 'connectOffset' | 'type' | 'occurred' | 'processed' | 'ingestedAt' | 'correlationId'>,
): IHeaders {
  return {
    [H.integrationId]: e.integrationId,
    [H.eventId]: e.eventId,
    [H.connectOffset]: e.connectOffset,
    [H.eventType]: e.type,
    [H.occurred]: e.occurred,
    [H.processed]: e.processed,
    [H.ingestedAt]: e.ingestedAt,
    [H.correlationId]: e.correlationId,
  };
}

export function toKafkaMessage(event: EventEnvelope, raw: Buffer | string, ctx: ProduceContext): Message {
  const { id: eventId, offset: connectOffset, type, occurred, processed } = event;
  return {
    key: event.channel,
    value: Buffer.isBuffer(raw) ? raw : Buffer.from(raw),
    headers: {
      ...envelopeHeaders({ ...ctx, eventId, connectOffset, type, occurred, processed }),
      ...(ctx.watermark === undefined ? {} : { [H.watermark]: ctx.watermark }),
    },
  };
}

/** How big a packed record may grow: a sink's chunk limits, so a pack is never split to deliver it. */
export interface PackLimits {
  maxEvents: number;
  /** Sum of the events' Connect JSON bytes (what a sink's `maxBatchBytes` counts). */
  maxBytes: number;
}

/** An event as the source packs it. */
export interface PackItem {
  event: EventEnvelope;
  raw: Buffer;
}

/*
 * A packed record's value: per event, in order, seven fields, each a 32-bit big-endian byte
 * length and then its bytes: event id, Connect offset, type, occurred, processed, key (the device
 * channel; length 0xFFFFFFFF for none), and the exact Connect JSON line. The record's headers are
 * the batch's (integration, ingested-at, correlation id, watermark), the pack's last Connect
 * offset (what readers of a partition's last record look for) and `tributary-pack-events`.
 */
const packFields = 7;
const noKey = 0xffffffff;

/**
 * The partition Kafka's default partitioner gives the event's own record (keyed by its device
 * channel), so per-device order is the same packed or not; an event without a channel spreads by its id.
 */
export function packPartition(event: EventEnvelope, partitions: number): number {
  return keyPartition(event.channel ?? event.id, partitions);
}

/**
 * A source batch as packed records: per partition (see `packPartition`) the events in their
 * batch order, cut into packs within `limits`. Kafka keeps each partition's packs in order, so
 * per-device order holds as with one record per event.
 */
export function toPackMessages(items: readonly PackItem[], ctx: ProduceContext, partitions: number, limits: PackLimits): Message[] {
  // Per partition its packs, in order; the last one is still open.
  const byPartition = new Map<number, { items: PackItem[]; bytes: number }[]>();
  for (const item of items) {
    const p = packPartition(item.event, partitions);
    let packs = byPartition.get(p);
    if (!packs) byPartition.set(p, (packs = []));
    let cur = packs[packs.length - 1];
    if (!cur || cur.items.length >= limits.maxEvents || cur.bytes + item.raw.length > limits.maxBytes) packs.push((cur = { items: [], bytes: 0 }));
    cur.items.push(item);
    cur.bytes += item.raw.length;
  }
  const out: Message[] = [];
  for (const [partition, packs] of byPartition) for (const pack of packs) out.push(packMessage(pack.items, ctx, partition));
  return out;
}

/**
 * Once Kafka acknowledged packs (`toPackMessages`), their values' buffers go back to the pool for
 * later packs. The caller must not read or send these messages again.
 */
export function releasePackMessages(messages: readonly Message[]): void {
  for (const m of messages) if (Buffer.isBuffer(m.value)) releaseRecordValue(m.value);
}

function packMessage(items: readonly PackItem[], ctx: ProduceContext, partition: number): Message {
  let size = 0;
  const fields: (string | null)[] = [];
  for (const { event, raw } of items) {
    fields.push(event.id, event.offset, event.type, event.occurred, event.processed, event.channel);
    for (let k = fields.length - 6; k < fields.length; k++) size += 4 + (fields[k] === null ? 0 : Buffer.byteLength(fields[k]!));
    size += 4 + raw.length;
  }
  // With room around it, so kafkajs's record encoder takes it over instead of copying it (kafkajs-encoder.ts).
  const value = allocRecordValue(size);
  let at = 0;
  let f = 0;
  for (const { raw } of items) {
    for (let k = 0; k < 6; k++, f++) {
      const text = fields[f]!;
      if (text === null) {
        value.writeUInt32BE(noKey, at);
        at += 4;
        continue;
      }
      const n = value.write(text, at + 4);
      value.writeUInt32BE(n, at);
      at += 4 + n;
    }
    value.writeUInt32BE(raw.length, at);
    raw.copy(value, at + 4);
    at += 4 + raw.length;
  }
  const last = items[items.length - 1]!.event;
  return {
    partition,
    key: null,
    value,
    headers: {
      [H.integrationId]: ctx.integrationId,
      [H.connectOffset]: last.offset,
      [H.ingestedAt]: ctx.ingestedAt,
      [H.correlationId]: ctx.correlationId,
      [H.packEvents]: String(items.length),
      ...(ctx.watermark === undefined ? {} : { [H.watermark]: ctx.watermark }),
    },
  };
}

/** The events of a packed record, as sinks see them (each `value` a slice of the record's). */
export function fromPackMessage(integrationId: string, partition: number, m: KafkaMessage): EventRecord[] {
  const where = `packed record ${partition}/${m.offset}`;
  const count = Number(header(m.headers, H.packEvents));
  const value = m.value;
  if (!Number.isSafeInteger(count) || count < 1 || !value) throw new TributaryError(ErrorCode.poisonLine, `${where} has no events or a bad ${H.packEvents} header`);
  const ingestedAt = header(m.headers, H.ingestedAt) ?? '';
  const correlationId = header(m.headers, H.correlationId) ?? '';
  const out: EventRecord[] = [];
  // Each field's bytes as [start, end) in `value`; a missing key starts at -1. The text fields
  // are decoded straight from the record's buffer: only the Connect line becomes a slice.
  const start = new Int32Array(packFields);
  const end = new Int32Array(packFields);
  const text = (k: number) => value.toString('utf8', start[k], end[k]);
  let at = 0;
  for (let e = 0; e < count; e++) {
    for (let k = 0; k < packFields; k++) {
      if (at + 4 > value.length) throw new TributaryError(ErrorCode.poisonLine, `${where} ends inside event ${e + 1} of ${count}`);
      const n = value.readUInt32BE(at);
      at += 4;
      if (n === noKey && k === 5) {
        start[k] = -1;
        continue;
      }
      if (at + n > value.length) throw new TributaryError(ErrorCode.poisonLine, `${where} ends inside event ${e + 1} of ${count}`);
      start[k] = at;
      end[k] = at += n;
    }
    const eventId = text(0);
    const connectOffset = text(1);
    if (!eventId || !/^\d+$/.test(connectOffset)) throw new TributaryError(ErrorCode.poisonLine, `${where}: event ${e + 1} of ${count} lacks an id or a Connect offset`);
    out.push({
      integrationId,
      eventId,
      connectOffset,
      type: text(2) || 'UNKNOWN',
      occurred: text(3),
      processed: text(4),
      ingestedAt,
      correlationId,
      value: value.subarray(start[6], end[6]),
      key: start[5] === -1 ? null : text(5),
      partition,
      offset: m.offset,
    });
  }
  if (at !== value.length) throw new TributaryError(ErrorCode.poisonLine, `${where} holds ${value.length - at} bytes after its ${count} events`);
  return out;
}

/** The events of any consumed record: one, or all of a packed record's. */
/** How many events a record carries without decoding it: a packed record's header count (1 when unreadable: the DLQ's), else 1. */
export function eventCount(m: KafkaMessage): number {
  const packed = header(m.headers, H.packEvents);
  if (packed === undefined) return 1;
  const n = Number(packed);
  return Number.isSafeInteger(n) && n >= 1 ? n : 1;
}

export function eventsOf(integrationId: string, partition: number, m: KafkaMessage): EventRecord[] {
  return m.headers?.[H.packEvents] === undefined ? [fromKafkaMessage(integrationId, partition, m)] : fromPackMessage(integrationId, partition, m);
}

export function header(h: IHeaders | undefined, name: string): string | undefined {
  const v = h?.[name];
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.length ? String(v[v.length - 1]) : undefined;
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

/** A consumed record as sinks see it. A record without the envelope headers is a bug upstream. */
export function fromKafkaMessage(integrationId: string, partition: number, m: KafkaMessage): EventRecord {
  const eventId = header(m.headers, H.eventId);
  const connectOffset = header(m.headers, H.connectOffset);
  if (!eventId || !connectOffset || !m.value) {
    throw new TributaryError(ErrorCode.poisonLine, `record ${partition}/${m.offset} lacks the event envelope headers`);
  }
  return {
    integrationId,
    eventId,
    connectOffset,
    type: header(m.headers, H.eventType) ?? 'UNKNOWN',
    occurred: header(m.headers, H.occurred) ?? '',
    processed: header(m.headers, H.processed) ?? '',
    ingestedAt: header(m.headers, H.ingestedAt) ?? '',
    correlationId: header(m.headers, H.correlationId) ?? '',
    value: m.value,
    key: m.key ? m.key.toString() : null,
    partition,
    offset: m.offset,
  };
}
