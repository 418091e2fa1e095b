// The gzip body of a 200 stream: each write is compressed and sync-flushed so every complete
// line reaches the client at once, with socket backpressure, trickling and raw-byte access for faults.
import type { ServerResponse } from 'node:http';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { constants, createGzip, type Gzip } from 'node:zlib';

/** A gzip member's fixed header as Node writes it (no name, no extra field). */
const gzipHeaderBytes = 10;

export interface GzipLineWriterOptions {
  /** Send `bytes` at a time, one write every `everyMs`. */
  trickle?: { bytes: number; everyMs: number } | undefined;
  level?: number | undefined;
}

export class GzipLineWriter {
  private readonly gzip: Gzip;
  private pending: Buffer[] = [];
  private gzipError: Error | undefined;
  private gone = false;
  /** Set while the socket is over its high-water mark after the last write. */
  private draining: Promise<void> | undefined;
  /** Compressed bytes handed to the socket. */
  bytesSent = 0;

  constructor(private readonly res: ServerResponse, private readonly options: GzipLineWriterOptions = {}) {
    // 64 KiB output chunks: a 256 KiB batch is 4 thread-pool round trips instead of 16.
    this.gzip = createGzip({ level: options.level ?? constants.Z_DEFAULT_COMPRESSION, chunkSize: 64 * 1024 });
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
   * Compresses `text` (complete lines), sync-flushes, and sends the bytes. Backpressure from
   * this write is waited out before the next one, so the caller prepares and compresses the
   * next batch while the socket drains this one: at most one batch waits besides the socket's.
   */
  async write(text: string | Buffer): Promise<void> {
    if (this.closed) return;
    await this.sendRaw(await this.compress(text));
  }

  /** Compresses and sync-flushes `text` and returns the bytes without sending them (faults alter them). */
  async compress(text: string | Buffer): Promise<Buffer> {
    if (this.gzipError) throw this.gzipError;
    this.gzip.write(text);
    await new Promise<void>((resolve) => this.gzip.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    // The flush callback can run before the last 'data' event is emitted; one turn lets it land.
    await nextTurn();
    return this.take();
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
    await this.sendRaw(this.take());
    this.res.end();
  }

  /** Stops without finishing the gzip member: `end` closes the HTTP response cleanly, `reset` destroys the socket. */
  abandon(mode: 'end' | 'reset'): void {
    this.gzip.close();
    if (mode === 'reset') this.res.destroy();
    else if (!this.closed) this.res.end();
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
