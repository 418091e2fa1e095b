// The gzip body of a 200 stream: each write is compressed and flushed so every complete line
// reaches the client at once, with socket backpressure, trickling and raw-byte access for faults.
//
// The gzip member is framed here (header, CRC-32 and length trailer) around a raw deflate stream,
// so a batch compressed once can be sent again to another stream (`sendCompressed`): with
// `spliceable`, every write ends with a full flush, after which the deflate stream refers to
// nothing before it, and a block compressed on its own (`compressBatch`) can sit between any two
// writes. An app's cached batches use this (docs/emulator.md, `cacheBatches`).
import type { ServerResponse } from 'node:http';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { constants, crc32, createDeflateRaw, deflateRawSync, type DeflateRaw } from 'node:zlib';

/**
 * A gzip member's fixed header as zlib writes it (Node's gzip): deflate, no flags, no mtime, the
 * extra-flags byte by level (2 for 9, 4 for the fastest levels 0 and 1), Unix.
 */
function gzipHeader(level: number): Buffer {
  const xfl = level === 9 ? 2 : level >= 0 && level < 2 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, xfl, 0x03]);
}
const gzipHeaderBytes = 10;

export interface GzipLineWriterOptions {
  /** Send `bytes` at a time, one write every `everyMs`. */
  trickle?: { bytes: number; everyMs: number } | undefined;
  level?: number | undefined;
  /** Full-flush every write, so blocks from `compressBatch` can be sent between writes. */
  spliceable?: boolean | undefined;
}

/** Lines compressed on their own, to be sent by any spliceable writer (`sendCompressed`). */
export interface CompressedBatch {
  /** Raw deflate blocks ending in a sync flush: no reference before their start, not final. */
  deflated: Buffer;
  /** The uncompressed lines, for the member's CRC-32 and length. */
  lines: readonly Buffer[];
}

/** Compresses `lines` into a block any spliceable writer can send (synchronous: once per batch, then cached). */
export function compressBatch(lines: readonly Buffer[], level?: number): CompressedBatch {
  return { deflated: deflateRawSync(Buffer.concat(lines), { level: level ?? constants.Z_DEFAULT_COMPRESSION, finishFlush: constants.Z_SYNC_FLUSH }), lines };
}

/** A keep-alive line compressed on its own, per level: what every spliceable writer sends for one. */
const keepAliveBlocks = new Map<number, CompressedBatch>();

function keepAliveBlock(level: number): CompressedBatch {
  let block = keepAliveBlocks.get(level);
  if (!block) keepAliveBlocks.set(level, (block = compressBatch([Buffer.from('\n')], level)));
  return block;
}

export class GzipLineWriter {
  private readonly gzip: DeflateRaw;
  private readonly flushKind: number;
  private readonly header: Buffer;
  private readonly level: number;
  private pending: Buffer[] = [];
  /** CRC-32 and length (mod 2^32) of everything compressed so far: the member's trailer. */
  private crc = 0;
  private size = 0;
  private headerSent = false;
  private gzipError: Error | undefined;
  private gone = false;
  /** Set while the socket is over its high-water mark after the last write. */
  private draining: Promise<void> | undefined;
  /** Compressed bytes handed to the socket. */
  bytesSent = 0;

  constructor(private readonly res: ServerResponse, private readonly options: GzipLineWriterOptions = {}) {
    // 64 KiB output chunks: a 256 KiB batch is 4 thread-pool round trips instead of 16.
    const level = options.level ?? constants.Z_DEFAULT_COMPRESSION;
    this.level = level;
    this.header = gzipHeader(level);
    this.gzip = createDeflateRaw({ level, chunkSize: 64 * 1024 });
    this.flushKind = options.spliceable ? constants.Z_FULL_FLUSH : constants.Z_SYNC_FLUSH;
    this.gzip.on('data', (chunk: Buffer) => this.pending.push(chunk));
    this.gzip.on('error', (err) => {
      this.gzipError = err;
    });
    res.once('close', () => {
      this.gone = true;
    });
  }

  /** True once the client went away or the response ended. */
  get closed(): boolean {
    return this.gone || this.res.destroyed || this.res.writableEnded;
  }

  /**
   * Compresses `text` (complete lines), flushes (sync, or full when spliceable), and sends the
   * bytes. Backpressure from this write is waited out before the next one, so the caller prepares
   * and compresses the next batch while the socket drains this one: at most one batch waits
   * besides the socket's.
   */
  async write(text: string | Buffer): Promise<void> {
    if (this.closed) return;
    await this.sendRaw(await this.compress(text));
  }

  /** Compresses and flushes `text` and returns the bytes without sending them (faults alter them). */
  async compress(text: string | Buffer): Promise<Buffer> {
    if (this.gzipError) throw this.gzipError;
    const bytes = typeof text === 'string' ? Buffer.from(text) : text;
    this.count(bytes);
    this.gzip.write(bytes);
    await new Promise<void>((resolve) => this.gzip.flush(this.flushKind, () => resolve()));
    // The flush callback can run before the last 'data' event is emitted; one turn lets it land.
    await nextTurn();
    return this.withHeader(this.take());
  }

  /**
   * Sends a keep-alive line. A spliceable writer sends the same bytes every time, compressed once
   * per level: no deflate call and no thread-pool round trip per keep-alive, which a thousand idle
   * streams otherwise pay every second on the machine the node under test shares.
   */
  async keepAlive(): Promise<void> {
    if (this.options.spliceable) await this.sendCompressed(keepAliveBlock(this.level));
    else await this.write('\n');
  }

  /** Sends a block from `compressBatch` (only between the writes of a spliceable writer). */
  async sendCompressed(batch: CompressedBatch): Promise<void> {
    if (!this.options.spliceable) throw new Error('sendCompressed needs a spliceable writer');
    if (this.closed) return;
    if (this.gzipError) throw this.gzipError;
    for (const line of batch.lines) this.count(line);
    await this.sendRaw(this.withHeader(batch.deflated));
  }

  /** Where the deflate data of `compressed` starts (after the gzip header in the first write). */
  deflateStart(): number {
    return this.bytesSent === 0 ? gzipHeaderBytes : 0;
  }

  async sendRaw(bytes: Buffer): Promise<void> {
    const trickle = this.options.trickle;
    if (!trickle) {
      await this.send(bytes);
      return;
    }
    for (let at = 0; at < bytes.length && !this.closed; at += trickle.bytes) {
      await this.send(bytes.subarray(at, at + trickle.bytes));
      await sleep(trickle.everyMs);
    }
  }

  /** Finishes the gzip member (trailer) and the response. */
  async end(): Promise<void> {
    if (this.closed) {
      this.gzip.close();
      return;
    }
    const ended = new Promise<void>((resolve) => this.gzip.once('end', () => resolve()));
    this.gzip.end();
    await ended;
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    trailer.writeUInt32LE(this.size >>> 0, 4);
    await this.sendRaw(this.withHeader(Buffer.concat([this.take(), trailer])));
    this.res.end();
  }

  /** Stops without finishing the gzip member: `end` closes the HTTP response cleanly, `reset` destroys the socket. */
  abandon(mode: 'end' | 'reset'): void {
    this.gzip.close();
    if (mode === 'reset') this.res.destroy();
    else if (!this.closed) this.res.end();
  }

  private count(bytes: Buffer): void {
    this.crc = crc32(bytes, this.crc);
    this.size = (this.size + bytes.length) % 0x1_0000_0000;
  }

  /** The member's header goes before the first bytes compressed. */
  private withHeader(bytes: Buffer): Buffer {
    if (this.headerSent) return bytes;
    this.headerSent = true;
    return Buffer.concat([this.header, bytes]);
  }

  private take(): Buffer {
    const out = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    return out;
  }

  private async send(bytes: Buffer): Promise<void> {
    if (this.draining) await this.draining;
    if (this.closed || bytes.length === 0) return;
    this.bytesSent += bytes.length;
    if (this.res.write(bytes)) return;
    this.draining = new Promise<void>((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        this.draining = undefined;
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }
}
