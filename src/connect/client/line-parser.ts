// Turns one framed line into an event, a keep-alive, an OFFSET_UPDATE or a poison record.
// Pure: no I/O, no state beyond the offset context passed in.
import { ErrorCode } from '../../errors.js';
import { envelopeProblem, type ConnectEvent } from '../event.js';
import type { SplitItem } from './line-splitter.js';
import type { EventItem, OffsetUpdateItem, PoisonItem } from './stream-item.js';

export type ParsedLine = EventItem | OffsetUpdateItem | PoisonItem | { kind: 'keepAlive' };

/** Default cap on the raw bytes a poison record carries (the DLQ is not a dump). */
export const defaultPoisonRawBytes = 64 * 1024;

const decimal = /^\d{1,30}$/;

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
  const bytes = item.bytes;
  if (isBlank(bytes)) return { kind: 'keepAlive' };
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return poison(bytes, `not JSON: ${(err as Error).message.slice(0, 200)}`, afterOffset, poisonRawBytes);
  }
  // OFFSET_UPDATE may lack id/body/device (CONNECT_API.md §3), so it is recognised before the envelope check.
  if (isOffsetUpdate(value)) return { kind: 'offsetUpdate', offset: value.offset };
  const problem = envelopeProblem(value);
  if (problem !== undefined) return poison(bytes, problem, afterOffset, poisonRawBytes);
  const event = value as ConnectEvent;
  // Not copied: the caller owns `bytes` (readSession cuts lines from chunks nothing reuses).
  return { kind: 'event', event, raw: bytes, offset: event.offset };
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

function poison(bytes: Buffer, reason: string, afterOffset: string | undefined, cap: number): PoisonItem {
  return {
    kind: 'poison',
    code: ErrorCode.poisonLine,
    reason,
    raw: Buffer.from(bytes.subarray(0, cap)),
    length: bytes.length,
    afterOffset,
  };
}
