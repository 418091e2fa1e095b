// Bounded LF line framing over the gunzipped byte stream: complete lines only, a line over
// the cap becomes an "oversized" item (head + length) and is skipped in constant memory.

/** One framed unit: a complete line (LF stripped, a trailing CR tolerated) or an oversized one. */
export type SplitItem =
  | { kind: 'line'; bytes: Buffer }
  | { kind: 'oversized'; head: Buffer; length: number };

export interface LineSplitterOptions {
  /** Longest line kept, in bytes before the LF (the CR of a CRLF counts). Default 1 MiB. */
  maxLineBytes?: number;
  /** Bytes of an oversized line's start kept for the poison record. Default 1 KiB. */
  headBytes?: number;
}

export const defaultMaxLineBytes = 1024 * 1024;
export const defaultHeadBytes = 1024;

const LF = 0x0a;
const CR = 0x0d;

/**
 * A push-based splitter: `push(chunk)` returns the items the chunk completes. Pending bytes
 * never exceed `maxLineBytes`; past that the splitter keeps only `headBytes` and a count.
 * `end()` reports whether a partial tail was discarded — it is never returned as a line,
 * because a line without its LF may be cut mid-event (truncated stream, S1).
 */
export class LineSplitter {
  private readonly maxLineBytes: number;
  private readonly headBytes: number;
  private pending: Buffer[] = [];
  private pendingLength = 0;
  /** Set while skipping an oversized line up to its LF. */
  private skipHead: Buffer | undefined;
  private skipLength = 0;

  constructor(options: LineSplitterOptions = {}) {
    this.maxLineBytes = options.maxLineBytes ?? defaultMaxLineBytes;
    this.headBytes = Math.min(options.headBytes ?? defaultHeadBytes, this.maxLineBytes);
  }

  /** Bytes currently held for an incomplete line (bounded by maxLineBytes). */
  get bufferedBytes(): number {
    return this.pendingLength + (this.skipHead?.length ?? 0);
  }

  push(chunk: Uint8Array): SplitItem[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: SplitItem[] = [];
    let pos = 0;
    while (pos < buf.length) {
      const nl = buf.indexOf(LF, pos);
      if (nl === -1) {
        this.hold(buf.subarray(pos));
        break;
      }
      this.complete(buf.subarray(pos, nl), out);
      pos = nl + 1;
    }
    return out;
  }

  /** Ends the stream: drops any partial tail. Returns its length (0 when there was none). */
  end(): number {
    const dropped = this.skipHead ? this.skipLength : this.pendingLength;
    this.reset();
    return dropped;
  }

  private hold(rest: Buffer): void {
    if (this.skipHead) {
      this.skipLength += rest.length;
      return;
    }
    if (this.pendingLength + rest.length > this.maxLineBytes) {
      this.startSkipping(rest);
      return;
    }
    // Copied: the caller may reuse its chunk, and holding a small slice must not pin a big one.
    this.pending.push(Buffer.from(rest));
    this.pendingLength += rest.length;
  }

  private complete(segment: Buffer, out: SplitItem[]): void {
    if (this.skipHead) {
      out.push({ kind: 'oversized', head: this.skipHead, length: this.skipLength + segment.length });
      this.reset();
      return;
    }
    const length = this.pendingLength + segment.length;
    if (length > this.maxLineBytes) {
      out.push({ kind: 'oversized', head: this.headOf(segment), length });
      this.reset();
      return;
    }
    let line = this.pending.length === 0 ? segment : Buffer.concat([...this.pending, segment], length);
    this.pending = [];
    this.pendingLength = 0;
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    out.push({ kind: 'line', bytes: line });
  }

  /** Keeps the first headBytes of pending + rest, forgets the rest of the line. */
  private startSkipping(rest: Buffer): void {
    this.skipHead = this.headOf(rest);
    this.skipLength = this.pendingLength + rest.length;
    this.pending = [];
    this.pendingLength = 0;
  }

  /** A copy of the first headBytes of pending + rest, without concatenating the whole line. */
  private headOf(rest: Buffer): Buffer {
    const parts: Buffer[] = [];
    let have = 0;
    for (const part of [...this.pending, rest]) {
      if (have >= this.headBytes) break;
      const take = part.subarray(0, this.headBytes - have);
      parts.push(take);
      have += take.length;
    }
    return Buffer.concat(parts, have);
  }

  private reset(): void {
    this.pending = [];
    this.pendingLength = 0;
    this.skipHead = undefined;
    this.skipLength = 0;
  }
}

/** Async-iterator form over a byte source, for tests and simple consumers. */
export async function* splitLines(source: AsyncIterable<Uint8Array>, options: LineSplitterOptions = {}): AsyncGenerator<SplitItem> {
  const splitter = new LineSplitter(options);
  for await (const chunk of source) yield* splitter.push(chunk);
  splitter.end();
}
