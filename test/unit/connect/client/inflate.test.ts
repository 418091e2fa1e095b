import test from 'ava';
import { gzipSync } from 'node:zlib';
import { Gunzipper, maxInputSlice } from '../../../../src/connect/client/inflate.js';
import { eventLine, gzipFlushed } from './fake-transport.js';

/** Feeds `bytes` in slices of `netChunk` (at most maxInputSlice, as the read session does), then ends. */
function inflate(bytes: Buffer, chunkBytes = 64 * 1024, netChunk = 4096) {
  const g = new Gunzipper(chunkBytes);
  const out: Buffer[] = [];
  let compressed = 0;
  try {
    for (let at = 0; at < bytes.length && g.failure === undefined; at += netChunk) {
      const slice = bytes.subarray(at, Math.min(at + netChunk, bytes.length));
      compressed += slice.length;
      out.push(...g.write(slice));
    }
    if (g.failure === undefined) out.push(...g.end());
    return { out, compressed, error: g.failure };
  } finally {
    g.close();
  }
}

test('any input slicing inflates to the same bytes, in chunks of at most chunkBytes', async (t) => {
  const text = Array.from({ length: 300 }, (_, i) => eventLine(i + 1)).join('\n') + '\n';
  const gz = gzipSync(text);
  for (const netChunk of [1, 7, 4096, maxInputSlice]) {
    const r = inflate(gz, 4096, netChunk);
    t.is(r.error, undefined);
    t.is(Buffer.concat(r.out).toString(), text);
    t.is(r.compressed, gz.length);
    t.true(r.out.every((c) => c.length <= 4096));
  }
});

test('a truncated body fails with Z_BUF_ERROR after the lines before the cut; corrupt bytes with Z_DATA_ERROR', async (t) => {
  const lines = Array.from({ length: 20 }, (_, i) => eventLine(i + 1));
  const gz = await gzipFlushed(lines);
  const cut = inflate(gz.subarray(0, gz.length - 40), 64 * 1024, 64);
  t.is((cut.error as { code?: string }).code, 'Z_BUF_ERROR');
  t.true(Buffer.concat(cut.out).toString().startsWith(`${lines.slice(0, 15).join('\n')}\n`));
  const bad = Buffer.from(gz);
  bad[gz.length - 6] = bad[gz.length - 6]! ^ 0xff; // inside the CRC32 trailer
  const corrupt = inflate(bad);
  t.is((corrupt.error as { code?: string }).code, 'Z_DATA_ERROR');
});
