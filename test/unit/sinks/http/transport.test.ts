// Response bodies shown to customers and the DLQ are cut at 1 KiB without splitting a character.
import test from 'ava';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { maxResponseKeptBytes, readBounded, truncateUtf8 } from '../../../../src/sinks/http/transport.js';

test('truncateUtf8 never exceeds the limit nor splits a character', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 600 }), fc.integer({ min: 0, max: 400 }), (s, max) => {
      const bytes = Buffer.from(s);
      const out = truncateUtf8(bytes, max);
      // A prefix of the whole text, within the limit: no half character turned into U+FFFD.
      return Buffer.byteLength(out) <= max && bytes.toString('utf8').startsWith(out);
    }),
  );
  t.is(truncateUtf8(Buffer.from('aé'), 2), 'a');
  t.is(truncateUtf8(Buffer.from('€€'), 5), '€');
});

test('readBounded keeps 1 KiB of a huge body and stops reading at 64 KiB', async (t) => {
  let produced = 0;
  const body = new Readable({
    read() {
      produced += 16 * 1024;
      this.push(produced > 10 * 1024 * 1024 ? null : Buffer.alloc(16 * 1024, 0x61));
    },
  });
  const kept = await readBounded(body as unknown as Readable & AsyncIterable<Buffer>);
  t.is(Buffer.byteLength(kept), maxResponseKeptBytes);
  t.true(produced <= 128 * 1024, `stopped early (${produced} bytes produced)`);
});
