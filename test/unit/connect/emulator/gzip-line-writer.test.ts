// The emulator's gzip framing (its own header and trailer around raw deflate): byte for byte what
// Node's gzip writes for the same writes, and, when spliceable, a valid member whatever mix of
// live writes, kept batches and keep-alives it sends.
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { constants, createGunzip, createGzip, gunzipSync } from 'node:zlib';
import test from 'ava';
import fc from 'fast-check';
import { compressBatch, GzipLineWriter } from '../../../../src/connect/emulator/gzip-line-writer.js';

/** What the writer needs of a response: writes collected, never backpressured. */
class CollectingResponse extends EventEmitter {
  readonly chunks: Buffer[] = [];
  destroyed = false;
  writableEnded = false;
  write(bytes: Buffer): boolean {
    this.chunks.push(Buffer.from(bytes));
    return true;
  }
  end(): void {
    this.writableEnded = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  get body(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

const asResponse = (r: CollectingResponse) => r as unknown as ServerResponse;

/** Node's own gzip over the same writes, each sync-flushed, then ended. */
async function nodeGzip(writes: readonly string[], level: number): Promise<Buffer> {
  const gzip = createGzip({ level });
  const out: Buffer[] = [];
  gzip.on('data', (c: Buffer) => out.push(c));
  for (const w of writes) {
    gzip.write(w);
    await new Promise<void>((r) => gzip.flush(constants.Z_SYNC_FLUSH, () => r()));
  }
  await new Promise<void>((r) => gzip.end(() => r()));
  await new Promise<void>((r) => (gzip.readableEnded ? r() : gzip.once('end', () => r())));
  return Buffer.concat(out);
}

const line = fc.string({ unit: 'grapheme', maxLength: 300 }).map((s) => `${s.replace(/\n/g, ' ')}\n`);
const writes = fc.array(fc.array(line, { minLength: 1, maxLength: 5 }).map((ls) => ls.join('')), { maxLength: 12 });

test('the same bytes as Node\'s gzip for the same sync-flushed writes, at levels 0, 1, 6 and 9', async (t) => {
  await fc.assert(
    fc.asyncProperty(writes, fc.constantFrom(0, 1, 6, 9), async (texts, level) => {
      const res = new CollectingResponse();
      const writer = new GzipLineWriter(asResponse(res), { level });
      for (const text of texts) await writer.write(text);
      await writer.end();
      t.deepEqual(res.body, await nodeGzip(texts, level));
      t.true(res.writableEnded);
    }),
    { numRuns: 40 },
  );
});

test('spliceable: any mix of live writes, kept batches and keep-alives is one valid member holding them in order', async (t) => {
  const part = fc.oneof(
    line.map((text) => ({ kind: 'write' as const, text })),
    fc.array(line, { minLength: 1, maxLength: 20 }).map((lines) => ({ kind: 'batch' as const, lines })),
    fc.constant({ kind: 'keepAlive' as const }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(part, { maxLength: 15 }), fc.constantFrom(1, 6), fc.boolean(), async (parts, level, sendTwice) => {
      const res = new CollectingResponse();
      const writer = new GzipLineWriter(asResponse(res), { level, spliceable: true });
      const expected: string[] = [];
      for (const p of parts) {
        if (p.kind === 'write') {
          await writer.write(p.text);
          expected.push(p.text);
        } else if (p.kind === 'keepAlive') {
          await writer.keepAlive();
          expected.push('\n');
        } else {
          const batch = compressBatch(p.lines.map((l) => Buffer.from(l)), level);
          // A kept batch goes to many streams: sending it twice must not change it.
          for (let i = 0; i < (sendTwice ? 2 : 1); i++) {
            await writer.sendCompressed(batch);
            expected.push(...p.lines);
          }
        }
      }
      await writer.end();
      // gunzipSync checks the trailer's CRC-32 and length against what it inflated.
      t.is(gunzipSync(res.body).toString(), expected.join(''));
    }),
    { numRuns: 60 },
  );
});

test('a member ended before any write is still whole, and every write is readable before the end', async (t) => {
  const empty = new CollectingResponse();
  await new GzipLineWriter(asResponse(empty), { spliceable: true }).end();
  t.is(gunzipSync(empty.body).length, 0);

  const res = new CollectingResponse();
  const writer = new GzipLineWriter(asResponse(res), { level: 1, spliceable: true });
  await writer.write('{"a":1}\n');
  await writer.sendCompressed(compressBatch([Buffer.from('{"b":2}\n'), Buffer.from('{"c":3}\n')], 1));
  // Mid-stream, with no trailer yet: a streaming inflater already yields every line.
  const gunzip = createGunzip();
  let text = '';
  gunzip.on('data', (c: Buffer) => (text += c.toString()));
  gunzip.write(res.body);
  await new Promise<void>((r) => gunzip.flush(() => r()));
  t.is(text, '{"a":1}\n{"b":2}\n{"c":3}\n');
  gunzip.destroy();
});

test('keep-alives: a spliceable writer sends the same few bytes each time; any other writer compresses the line', async (t) => {
  const res = new CollectingResponse();
  const writer = new GzipLineWriter(asResponse(res), { level: 1, spliceable: true });
  await writer.write('{"a":1}\n');
  const sent = () => res.chunks[res.chunks.length - 1]!;
  await writer.keepAlive();
  const first = sent();
  await writer.keepAlive();
  t.deepEqual(sent(), first);
  t.true(first.length <= 8, `${first.length} bytes`);
  await writer.end();
  t.is(gunzipSync(res.body).toString(), '{"a":1}\n\n\n');

  const plain = new CollectingResponse();
  const live = new GzipLineWriter(asResponse(plain), { level: 1 });
  await live.keepAlive();
  await live.end();
  t.deepEqual(plain.body, await nodeGzip(['\n'], 1));
});

test('only a spliceable writer sends kept batches', async (t) => {
  const writer = new GzipLineWriter(asResponse(new CollectingResponse()), { level: 1 });
  await t.throwsAsync(writer.sendCompressed(compressBatch([Buffer.from('x\n')], 1)), { message: /spliceable/ });
});
