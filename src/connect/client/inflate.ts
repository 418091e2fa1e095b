// gunzip of a Connect body on the event loop itself (minizlib: Node's zlib binding, synchronous),
// pulled one network chunk at a time, so a slow caller still stops the socket reads.
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
const maxInputSlice = 16 * 1024;

/**
 * Yields the decompressed chunks (each ≤ `chunkBytes`) of a gzip byte stream. Ends when the
 * source ends and the gzip member is complete. Throws zlib's error (with its `code`) on corrupt
 * or truncated input, after what earlier steps decoded; the failing step yields nothing, and the
 * client re-reads those lines from its confirmed offset. `onCompressed` sees every network chunk.
 */
export async function* gunzipChunks(
  source: AsyncIterable<Uint8Array>,
  onCompressed: (chunk: Uint8Array) => void,
  chunkBytes: number,
): AsyncGenerator<Buffer, void, undefined> {
  // chunkSize is passed through to node:zlib; minizlib's own option type does not list it.
  const gunzip = new Gunzip({ chunkSize: chunkBytes } as ConstructorParameters<typeof Gunzip>[0]);
  let out: Buffer[] = [];
  let failure: unknown;
  gunzip.on('data', (chunk: Buffer) => out.push(chunk));
  gunzip.on('error', (err: unknown) => {
    failure ??= err;
  });
  const take = () => {
    const taken = out;
    out = [];
    return taken;
  };
  try {
    for await (const chunk of source) {
      onCompressed(chunk);
      for (let at = 0; at < chunk.length; at += maxInputSlice) {
        gunzip.write(Buffer.from(chunk.buffer, chunk.byteOffset + at, Math.min(maxInputSlice, chunk.length - at)));
        yield* take();
        if (failure !== undefined) throw failure;
      }
    }
    // Finishing checks the member is whole: a body cut before the gzip trailer fails here.
    gunzip.end();
    yield* take();
    if (failure !== undefined) throw failure;
  } finally {
    gunzip.close();
  }
}
