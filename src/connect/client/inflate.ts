// gunzip of a Connect body on the event loop itself (minizlib: Node's zlib binding, synchronous),
// fed one network chunk at a time by the read session, which decides when to read the next.
//
// Why not node:zlib's stream: it inflates on the libuv thread pool, one round trip per chunk.
// Measured on 2 CPUs (BENCHMARKS.md, "Connect client"): over HTTP that hand-off cost as much CPU
// as the parsing it fed, and with a thousand mostly idle streams every keep-alive line paid a
// thread-pool round trip of its own.
import { Gunzip } from 'minizlib';

/**
 * Compressed bytes are inflated at most this many at a time. Deflate expands by 1032:1 at most,
 * so one write yields ≤ ~16 MiB even for a hostile stream: memory stays bounded per stream.
 */
export const maxInputSlice = 16 * 1024;

/**
 * A synchronous gunzip of one gzip member. `write` takes at most `maxInputSlice` bytes and
 * returns the decompressed chunks (each ≤ `chunkBytes`) they completed; `end` checks the member
 * is whole. On corrupt or truncated input `failure` holds zlib's error (with its `code`) once the
 * failing call's output is returned: what decoded before it stands, and the client re-reads what
 * follows from its confirmed offset.
 */
export class Gunzipper {
  private readonly gunzip: Gunzip;
  private out: Buffer[] = [];
  private failed: unknown;

  constructor(chunkBytes: number) {
    // chunkSize is passed through to node:zlib; minizlib's own option type does not list it.
    this.gunzip = new Gunzip({ chunkSize: chunkBytes } as ConstructorParameters<typeof Gunzip>[0]);
    this.gunzip.on('data', (chunk: Buffer) => this.out.push(chunk));
    this.gunzip.on('error', (err: unknown) => {
      this.failed ??= err;
    });
  }

  /** zlib's error, once input failed to inflate; nothing written after it is decoded. */
  get failure(): unknown {
    return this.failed;
  }

  write(slice: Buffer): Buffer[] {
    this.gunzip.write(slice);
    return this.take();
  }

  /** Finishing checks the member is whole: a body cut before the gzip trailer fails here. */
  end(): Buffer[] {
    this.gunzip.end();
    return this.take();
  }

  close(): void {
    this.gunzip.close();
  }

  private take(): Buffer[] {
    const taken = this.out;
    this.out = [];
    return taken;
  }
}
