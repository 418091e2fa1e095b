// What crosses between the reading thread and a line-parse thread: the lines as one byte array
// and their lengths (transferred, not copied), and per line a kind code with its strings.
// Pure, so the encoding is tested without threads.
import type { LineClass } from './line-parser.js';

export interface ParseRequest {
  id: number;
  /** The lines, back to back, without their LFs. */
  bytes: Uint8Array;
  lengths: Uint32Array;
}

export interface ParseResponse {
  id: number;
  /** Per line: 0 keep-alive, 1 event, 2 OFFSET_UPDATE, 3 invalid. */
  kinds: Uint8Array;
  /** Per event six (id, type, offset, occurred, processed, channel); per OFFSET_UPDATE its offset; per invalid line the reason. */
  strings: (string | null)[];
}

const keepAlive = 0;
const event = 1;
const offsetUpdate = 2;
const invalid = 3;

/** The lines as one transferable byte array and their lengths. */
export function encodeLines(id: number, lines: readonly Uint8Array[]): ParseRequest {
  let total = 0;
  const lengths = new Uint32Array(lines.length);
  for (let i = 0; i < lines.length; i++) total += lengths[i] = lines[i]!.length;
  // Its own ArrayBuffer (never a pool slice), so it can be transferred whole.
  const bytes = new Uint8Array(new ArrayBuffer(total));
  let at = 0;
  for (const line of lines) {
    bytes.set(line, at);
    at += line.length;
  }
  return { id, bytes, lengths };
}

export function encodeClasses(classes: readonly LineClass[]): Omit<ParseResponse, 'id'> {
  const kinds = new Uint8Array(classes.length);
  const strings: (string | null)[] = [];
  classes.forEach((c, i) => {
    switch (c.kind) {
      case 'keepAlive':
        kinds[i] = keepAlive;
        break;
      case 'event': {
        kinds[i] = event;
        const e = c.envelope;
        strings.push(e.id, e.type, e.offset, e.occurred, e.processed, e.channel);
        break;
      }
      case 'offsetUpdate':
        kinds[i] = offsetUpdate;
        strings.push(c.offset);
        break;
      case 'invalid':
        kinds[i] = invalid;
        strings.push(c.reason);
        break;
    }
  });
  return { kinds, strings };
}

const keepAliveClass: LineClass = Object.freeze({ kind: 'keepAlive' });

/** The classes of a response; throws when it does not hold what its kinds say (a bug, not input). */
export function decodeClasses(res: Pick<ParseResponse, 'kinds' | 'strings'>): LineClass[] {
  const { kinds, strings } = res;
  const out: LineClass[] = new Array(kinds.length);
  let s = 0;
  const str = (): string => {
    const v = strings[s++];
    if (typeof v !== 'string') throw new TypeError(`line-parse response: string ${s - 1} is ${v === null ? 'null' : typeof v}`);
    return v;
  };
  for (let i = 0; i < kinds.length; i++) {
    switch (kinds[i]) {
      case keepAlive:
        out[i] = keepAliveClass;
        break;
      case event: {
        // The same shape (and property order) as `envelopeOf` gives.
        const envelope = { id: str(), type: str(), offset: str(), occurred: str(), processed: str(), channel: strings[s++] ?? null };
        out[i] = { kind: 'event', envelope };
        break;
      }
      case offsetUpdate:
        out[i] = { kind: 'offsetUpdate', offset: str() };
        break;
      case invalid:
        out[i] = { kind: 'invalid', reason: str() };
        break;
      default:
        throw new TypeError(`line-parse response: unknown kind ${kinds[i]} at line ${i}`);
    }
  }
  if (s !== strings.length) throw new TypeError(`line-parse response: ${strings.length - s} strings left over`);
  return out;
}
