// Event framing shared by every sink that writes lines or arrays of events (webhook, file).
// The events' JSON text passes through byte for byte: never re-serialised, so big integers survive.
import type { EventRecord } from './types.js';

export type EventFraming = 'ndjson' | 'json-array';

/** The records as NDJSON (one event per line, each line ending in \n) or one JSON array. */
const newline = Buffer.from('\n');
const comma = Buffer.from(',');
const open = Buffer.from('[');
const close = Buffer.from(']');

export function encodeEvents(records: readonly EventRecord[], framing: EventFraming): Buffer {
  // Shared separators: Buffer.concat copies them, so one instance serves every event.
  const parts: Buffer[] = [];
  if (framing === 'json-array') parts.push(open);
  records.forEach((r, i) => {
    if (framing === 'json-array' && i > 0) parts.push(comma);
    parts.push(oneLine(r.value));
    if (framing === 'ndjson') parts.push(newline);
  });
  if (framing === 'json-array') parts.push(close);
  return Buffer.concat(parts);
}

// A raw CR or LF in JSON text can only be whitespace between tokens (inside strings they must be
// escaped), so turning it into a space keeps the value identical and the line framing intact.
function oneLine(value: Buffer): Buffer {
  if (!value.includes(0x0a) && !value.includes(0x0d)) return value;
  const copy = Buffer.from(value);
  for (let i = 0; i < copy.length; i++) if (copy[i] === 0x0a || copy[i] === 0x0d) copy[i] = 0x20;
  return copy;
}
