// The event envelope in Kafka, both ways: a Connect event becomes a record (key = device
// channel, value = the exact Connect JSON line, ids and times in headers), and a consumed
// record becomes the EventRecord sinks receive. One module so the two never drift apart.
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { deviceChannel, type ConnectEvent } from '../connect/event.js';
import { ErrorCode, TributaryError } from '../errors.js';
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

export function toKafkaMessage(event: ConnectEvent, raw: Buffer | string, ctx: ProduceContext): Message {
  const { id: eventId, offset: connectOffset, type, occurred, processed } = event;
  return {
    key: deviceChannel(event),
    value: Buffer.isBuffer(raw) ? raw : Buffer.from(raw),
    headers: {
      ...envelopeHeaders({ ...ctx, eventId, connectOffset, type, occurred, processed }),
      ...(ctx.watermark === undefined ? {} : { [H.watermark]: ctx.watermark }),
    },
  };
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
