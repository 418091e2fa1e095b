// What crosses between the reading thread and a line-parse thread: the lines as one byte array
// and their lengths (transferred, not copied), and per line a kind code with its strings.
// Pure, so the encoding is tested without threads.
import type { LineClass } from './line-parser.js';
import type { SplitItem } from './line-splitter.js';

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

/**
 * A busy gzip stream decoded on a parse thread (`LineParseThreads.openStream`): the thread keeps
 * the stream's gunzip and line splitter, and is sent its compressed bytes as they arrive.
 */
export interface StreamRequest {
  kind: 'stream';
  id: number;
  stream: number;
  /** `data`: inflate `bytes`; `end`: the body ended (the gzip member must be whole); `close`: forget the stream (no answer). */
  op: 'data' | 'end' | 'close';
  /** With `data`: compressed bytes (transferred). */
  bytes?: Uint8Array;
  /** With the stream's first request: how it is framed. */
  framing?: { chunkBytes: number; maxLineBytes: number; headBytes: number };
}

export interface StreamResponse {
  kind: 'stream';
  id: number;
  /** The framed items' bytes back to back: each line, or an oversized line's head. */
  bytes: Uint8Array;
  /** Per framed item: its bytes in `bytes`. */
  lengths: Uint32Array;
  /** Per framed item: -1 for a line, else the length of the oversized line it stands for. */
  oversized: Float64Array;
  /** The lines' classes (lines only, in order), as `encodeClasses` gives them. */
  kinds: Uint8Array;
  strings: (string | null)[];
  /** Decompressed bytes this request produced. */
  decompressed: number;
  /** The splitter holds part of a line (a stream closed now would drop it). */
  partial: boolean;
  /** zlib's error (the member is corrupt or, at `end`, cut short): nothing after it is decoded. */
  failure?: { message: string; code?: string | undefined } | undefined;
}

/** Framed items as one transferable byte array with their lengths and kinds. */
export function encodeItems(items: readonly SplitItem[]): Pick<StreamResponse, 'bytes' | 'lengths' | 'oversized'> {
  const lengths = new Uint32Array(items.length);
  const oversized = new Float64Array(items.length);
  let total = 0;
  items.forEach((item, i) => {
    const bytes = item.kind === 'line' ? item.bytes : item.head;
    lengths[i] = bytes.length;
    oversized[i] = item.kind === 'line' ? -1 : item.length;
    total += bytes.length;
  });
  const bytes = new Uint8Array(new ArrayBuffer(total));
  let at = 0;
  for (const item of items) {
    const b = item.kind === 'line' ? item.bytes : item.head;
    bytes.set(b, at);
    at += b.length;
  }
  return { bytes, lengths, oversized };
}

/** The framed items of a response, each a slice of its one buffer; throws on a malformed one (a bug, not input). */
export function decodeItems(res: Pick<StreamResponse, 'bytes' | 'lengths' | 'oversized'>): SplitItem[] {
  const { lengths, oversized } = res;
  if (lengths.length !== oversized.length) throw new TypeError(`stream response: ${lengths.length} lengths for ${oversized.length} items`);
  const buf = Buffer.from(res.bytes.buffer, res.bytes.byteOffset, res.bytes.byteLength);
  const out: SplitItem[] = new Array(lengths.length);
  let at = 0;
  for (let i = 0; i < lengths.length; i++) {
    const end = at + lengths[i]!;
    if (end > buf.length) throw new TypeError(`stream response: item ${i} ends past its bytes`);
    const bytes = buf.subarray(at, end);
    out[i] = oversized[i]! < 0 ? { kind: 'line', bytes } : { kind: 'oversized', head: bytes, length: oversized[i]! };
    at = end;
  }
  if (at !== buf.length) throw new TypeError(`stream response: ${buf.length - at} bytes after its items`);
  return out;
}
