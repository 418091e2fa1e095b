// Turns one framed line into an event, a keep-alive, an OFFSET_UPDATE or a poison record.
// Pure: no I/O, no state beyond the offset context passed in.
//
// In two steps, so the costly one can run on another thread (line-parse-threads.ts):
// `classifyLine` parses the JSON and checks the envelope, needing only the line's bytes;
// `lineItem` makes the item the client yields, with the raw bytes and offset context the
// reading thread holds.
import { ErrorCode } from '../../errors.js';
import { envelopeOf, envelopeProblem, type ConnectEvent, type EventEnvelope } from '../event.js';
import type { SplitItem } from './line-splitter.js';
import type { EventItem, OffsetUpdateItem, PoisonItem } from './stream-item.js';

export type ParsedLine = EventItem | OffsetUpdateItem | PoisonItem | { kind: 'keepAlive' };

/** What a line is, from its bytes alone. */
export type LineClass =
  | { kind: 'keepAlive' }
  | { kind: 'event'; envelope: EventEnvelope }
  | { kind: 'offsetUpdate'; offset: string }
  | { kind: 'invalid'; reason: string };

/** Default cap on the raw bytes a poison record carries (the DLQ is not a dump). */
export const defaultPoisonRawBytes = 64 * 1024;

const decimal = /^\d{1,30}$/;
const keepAlive: { kind: 'keepAlive' } = Object.freeze({ kind: 'keepAlive' });

export function parseLine(item: SplitItem, afterOffset: string | undefined, poisonRawBytes = defaultPoisonRawBytes): ParsedLine {
  if (item.kind === 'oversized') {
    return {
      kind: 'poison',
      code: ErrorCode.poisonOversizedLine,
      reason: `line of ${item.length} bytes exceeds the line size cap`,
      raw: item.head,
      length: item.length,
      afterOffset,
    };
  }
  return lineItem(classifyLine(item.bytes), item.bytes, afterOffset, poisonRawBytes);
}

/** Parses the line's JSON and checks the envelope (CONNECT_API.md §3–4). */
export function classifyLine(bytes: Buffer): LineClass {
  if (isBlank(bytes)) return keepAlive;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return { kind: 'invalid', reason: `not JSON: ${(err as Error).message.slice(0, 200)}` };
  }
  // OFFSET_UPDATE may lack id/body/device (CONNECT_API.md §3), so it is recognised before the envelope check.
  if (isOffsetUpdate(value)) return { kind: 'offsetUpdate', offset: value.offset };
  const problem = envelopeProblem(value);
  if (problem !== undefined) return { kind: 'invalid', reason: problem };
  return { kind: 'event', envelope: envelopeOf(value as ConnectEvent) };
}

/** The item for a classified line: `bytes` is the line, `afterOffset` the last good event offset before it. */
export function lineItem(c: LineClass, bytes: Buffer, afterOffset: string | undefined, poisonRawBytes = defaultPoisonRawBytes): ParsedLine {
  switch (c.kind) {
    case 'keepAlive':
      return keepAlive;
    case 'offsetUpdate':
      return { kind: 'offsetUpdate', offset: c.offset };
    case 'event':
      // Not copied: the caller owns `bytes` (readSession cuts lines from chunks nothing reuses).
      return { kind: 'event', event: c.envelope, raw: bytes, offset: c.envelope.offset };
    case 'invalid':
      return {
        kind: 'poison',
        code: ErrorCode.poisonLine,
        reason: c.reason,
        raw: Buffer.from(bytes.subarray(0, poisonRawBytes)),
        length: bytes.length,
        afterOffset,
      };
  }
}

function isOffsetUpdate(v: unknown): v is { offset: string } {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as { type?: unknown; offset?: unknown };
  return o.type === 'OFFSET_UPDATE' && typeof o.offset === 'string' && decimal.test(o.offset);
}

/** A keep-alive is an empty line; whitespace-only lines are treated the same (lenient). */
function isBlank(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  }
  return true;
}
