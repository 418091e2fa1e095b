import test from 'ava';
import { DedupWindow } from '../../../src/pipeline/dedup-window.js';

test('reports a repeat within the window and forgets the oldest beyond capacity', (t) => {
  const w = new DedupWindow(3);
  t.false(w.seen('a'));
  t.true(w.seen('a'));
  w.seen('b');
  w.seen('c');
  w.seen('d'); // evicts a
  t.is(w.size, 3);
  t.false(w.seen('a'));
  t.true(w.seen('d'));
  w.forget('d');
  t.false(w.seen('d'));
  t.throws(() => new DedupWindow(0));
});
