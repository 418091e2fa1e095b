import test from 'ava';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { createGunzip, gzipSync } from 'node:zlib';
import { LineSplitter, splitLines, type SplitItem } from '../../../../src/connect/client/line-splitter.js';

/** Splits `bytes` at the given cut points (sorted, deduplicated, clamped). */
function chunkAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

function render(items: SplitItem[]): string[] {
  return items.map((i) => (i.kind === 'line' ? `L:${i.bytes.toString('latin1')}` : `O:${i.length}:${i.head.toString('latin1')}`));
}

function splitAll(chunks: Uint8Array[], maxLineBytes: number, headBytes = 4): { items: SplitItem[]; tail: number; peak: number } {
  const s = new LineSplitter({ maxLineBytes, headBytes });
  const items: SplitItem[] = [];
  let peak = 0;
  for (const c of chunks) {
    items.push(...s.push(c));
    peak = Math.max(peak, s.bufferedBytes);
  }
  return { items, tail: s.end(), peak };
}

/** A reference splitter over the whole input at once. */
function reference(bytes: Uint8Array, maxLineBytes: number, headBytes: number): string[] {
  const text = Buffer.from(bytes).toString('latin1');
  const parts = text.split('\n');
  parts.pop(); // the partial tail (or '' after a final LF) is never a line
  return parts.map((p) => {
    if (p.length > maxLineBytes) return `O:${p.length}:${p.slice(0, Math.min(headBytes, maxLineBytes))}`;
    return `L:${p.endsWith('\r') ? p.slice(0, -1) : p}`;
  });
}

const bytesWithNewlines = fc
  .array(fc.oneof(fc.constant(0x0a), fc.constant(0x0d), fc.integer({ min: 0, max: 255 })), { maxLength: 400 })
  .map((a) => Uint8Array.from(a));

test('any chunking of the same bytes frames the same lines, oversized items and tail', (t) => {
  fc.assert(
    fc.property(bytesWithNewlines, fc.array(fc.nat(400)), fc.integer({ min: 1, max: 40 }), (bytes, cuts, max) => {
      const whole = splitAll([bytes], max);
      const pieces = splitAll(chunkAt(bytes, cuts), max);
      const expected = reference(bytes, max, 4);
      return (
        JSON.stringify(render(whole.items)) === JSON.stringify(expected) &&
        JSON.stringify(render(pieces.items)) === JSON.stringify(expected) &&
        whole.tail === pieces.tail
      );
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test('pending bytes never exceed the cap, whatever the chunking', (t) => {
  fc.assert(
    fc.property(bytesWithNewlines, fc.array(fc.nat(400)), fc.integer({ min: 1, max: 40 }), (bytes, cuts, max) => {
      return splitAll(chunkAt(bytes, cuts), max).peak <= max;
    }),
  );
  t.pass();
});

test('any chunking of the gzip bytes gives the same lines through createGunzip', async (t) => {
  const lines = fc.array(fc.string({ unit: 'grapheme', maxLength: 60 }).map((s) => s.replace(/[\r\n]/g, '')), { maxLength: 40 });
  await fc.assert(
    fc.asyncProperty(lines, fc.array(fc.nat(3000), { maxLength: 30 }), async (ls, cuts) => {
      const text = ls.map((l) => `${l}\n`).join('');
      const gz = gzipSync(text);
      const gunzip = Readable.from(chunkAt(gz, cuts), { objectMode: false }).pipe(createGunzip({ chunkSize: 1024 }));
      const got: string[] = [];
      for await (const item of splitLines(gunzip, { maxLineBytes: 1024 })) {
        if (item.kind === 'line') got.push(item.bytes.toString('utf8'));
      }
      t.deepEqual(got, ls);
    }),
    { numRuns: 150 },
  );
});

test('a CRLF line loses its CR; a lone CR inside a line stays', (t) => {
  const { items } = splitAll([Buffer.from('a\r\nb\rc\n\r\n')], 100);
  t.deepEqual(render(items), ['L:a', 'L:b\rc', 'L:']);
});

test('a 64 MB line is skipped in bounded memory and reported with its head and length', (t) => {
  const s = new LineSplitter({ maxLineBytes: 1024 * 1024, headBytes: 1024 });
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const items: SplitItem[] = [...s.push(Buffer.from('{"ok":1}\n'))];
  let peak = 0;
  for (let i = 0; i < 1024; i++) {
    items.push(...s.push(chunk));
    peak = Math.max(peak, s.bufferedBytes);
  }
  items.push(...s.push(Buffer.from('\n{"ok":2}\n')));
  t.true(peak <= 1024 * 1024, `peak buffered ${peak}`);
  t.is(items.length, 3);
  const [first, big, last] = items;
  t.is(first?.kind === 'line' && first.bytes.toString(), '{"ok":1}');
  t.is(big?.kind, 'oversized');
  if (big?.kind === 'oversized') {
    t.is(big.length, 64 * 1024 * 1024);
    t.is(big.head.length, 1024);
    t.true(big.head.every((b) => b === 0x61));
  }
  t.is(last?.kind === 'line' && last.bytes.toString(), '{"ok":2}');
});

test('a line exactly at the cap is kept; one byte more is oversized', (t) => {
  const { items } = splitAll([Buffer.from('abcd\nabcde\n')], 4, 2);
  t.deepEqual(render(items), ['L:abcd', 'O:5:ab']);
});

test('a partial tail is discarded at the end and reported by length, never as a line', (t) => {
  const s = new LineSplitter({ maxLineBytes: 100 });
  t.deepEqual(render(s.push(Buffer.from('{"a":1}\n{"id":'))), ['L:{"a":1}']);
  t.is(s.end(), 6);
  t.deepEqual(s.push(Buffer.from('x\n')).map((i) => i.kind === 'line' && i.bytes.toString()), ['x']);
});

test('a held partial line is a copy: reusing the caller\'s chunk does not change it', (t) => {
  const s = new LineSplitter({ maxLineBytes: 100 });
  const chunk = Buffer.from('abc');
  s.push(chunk);
  chunk.fill(0x7a);
  t.deepEqual(render(s.push(Buffer.from('d\n'))), ['L:abcd']);
});
