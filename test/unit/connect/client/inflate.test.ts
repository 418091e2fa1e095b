import test from 'ava';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { gunzipChunks } from '../../../../src/connect/client/inflate.js';
import { eventLine, gzipFlushed } from './fake-transport.js';

async function inflate(bytes: Buffer, chunkBytes = 64 * 1024, netChunk = 4096) {
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += netChunk) parts.push(bytes.subarray(at, at + netChunk));
  const out: Buffer[] = [];
  let compressed = 0;
  try {
    for await (const c of gunzipChunks(Readable.from(parts), (c) => (compressed += c.length), chunkBytes)) out.push(c);
    return { out, compressed, error: undefined as unknown };
  } catch (error) {
    return { out, compressed, error };
  }
}

test('any network chunking inflates to the same bytes, in chunks of at most chunkBytes', async (t) => {
  const text = Array.from({ length: 300 }, (_, i) => eventLine(i + 1)).join('\n') + '\n';
  const gz = gzipSync(text);
  for (const netChunk of [1, 7, 4096, 50_000, gz.length]) {
    const r = await inflate(gz, 4096, netChunk);
    t.is(r.error, undefined);
    t.is(Buffer.concat(r.out).toString(), text);
    t.is(r.compressed, gz.length);
    t.true(r.out.every((c) => c.length <= 4096));
  }
});

test('a truncated body fails with Z_BUF_ERROR after the lines before the cut; corrupt bytes with Z_DATA_ERROR', async (t) => {
  const lines = Array.from({ length: 20 }, (_, i) => eventLine(i + 1));
  const gz = await gzipFlushed(lines);
  const cut = await inflate(gz.subarray(0, gz.length - 40), 64 * 1024, 64);
  t.is((cut.error as { code?: string }).code, 'Z_BUF_ERROR');
  t.true(Buffer.concat(cut.out).toString().startsWith(`${lines.slice(0, 15).join('\n')}\n`));
  const bad = Buffer.from(gz);
  bad[gz.length - 6] = bad[gz.length - 6]! ^ 0xff; // inside the CRC32 trailer
  const corrupt = await inflate(bad);
  t.is((corrupt.error as { code?: string }).code, 'Z_DATA_ERROR');
});
