import test from 'ava';
import fc from 'fast-check';
import { ErrorCode } from '../../../../src/errors.js';
import { parseLine } from '../../../../src/connect/client/line-parser.js';
import { eventLine } from './fake-transport.js';

const line = (s: string) => ({ kind: 'line' as const, bytes: Buffer.from(s) });

test('an event keeps its exact raw bytes (big integers survive) and its offset', (t) => {
  const text = eventLine(42).replace('"value":42', '"value":123456789012345678901234567890');
  const p = parseLine(line(text), '41');
  t.is(p.kind, 'event');
  if (p.kind !== 'event') return;
  t.is(p.offset, '42');
  t.is(p.raw.toString(), text);
  t.is(p.event.type, 'CUSTOM');
});

test('blank and whitespace-only lines are keep-alives', (t) => {
  for (const s of ['', ' ', '\t ']) t.is(parseLine(line(s), undefined).kind, 'keepAlive');
});

test('OFFSET_UPDATE is surfaced separately even without id, device or body', (t) => {
  const p = parseLine(line('{"type":"OFFSET_UPDATE","offset":"99","occurred":"2024-01-01T00:00:00.000Z","processed":"2024-01-01T00:00:00.000Z"}'), '7');
  t.deepEqual(p, { kind: 'offsetUpdate', offset: '99' });
});

test('unparsable or envelope-invalid lines are poison with reason, capped raw and offset context', (t) => {
  const bad = parseLine(line('{"id":'), '17');
  t.like(bad, { kind: 'poison', code: ErrorCode.poisonLine, afterOffset: '17', length: 6 });
  if (bad.kind === 'poison') t.regex(bad.reason, /not JSON/);
  const noOffset = parseLine(line(JSON.stringify({ id: 'x', type: 'OPEN', occurred: 'a', processed: 'b' })), undefined);
  t.like(noOffset, { kind: 'poison', reason: 'missing or non-string "offset"', afterOffset: undefined });
  const numeric = parseLine(line(eventLine(5).replace('"offset":"5"', '"offset":5')), '4');
  t.like(numeric, { kind: 'poison' });
  const capped = parseLine(line(`x${'y'.repeat(5000)}`), '1', 100);
  if (capped.kind === 'poison') {
    t.is(capped.raw.length, 100);
    t.is(capped.length, 5001);
  } else t.fail();
});

test('an oversized item becomes an oversized-line poison record with its head', (t) => {
  const p = parseLine({ kind: 'oversized', head: Buffer.from('{"id":"aaa'), length: 64 * 1024 * 1024 }, '3');
  t.like(p, { kind: 'poison', code: ErrorCode.poisonOversizedLine, length: 64 * 1024 * 1024, afterOffset: '3' });
});

test('arbitrary JSON never throws: it is an event, an update, a keep-alive or poison', (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.json(), fc.string()), (s) => {
      const p = parseLine(line(s.replace(/\n/g, ' ')), '1');
      return ['event', 'offsetUpdate', 'keepAlive', 'poison'].includes(p.kind);
    }),
  );
  t.pass();
});
