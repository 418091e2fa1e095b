import test from 'ava';
import { FaultBoard } from '../../../../src/connect/emulator/faults.js';
import { parseFault } from '../../../../src/connect/emulator/options.js';

test('a status fault answers exactly count requests, the app before every app', (t) => {
  const board = new FaultBoard();
  board.set('*', parseFault({ status: { code: 503, count: 1 } }));
  board.set('a', parseFault({ status: { code: 429, count: 2, retryAfterSeconds: 5 } }));
  t.like(board.takeStatus('a'), { code: 429, retryAfterSeconds: 5 });
  t.like(board.takeStatus('a'), { code: 429 });
  t.like(board.takeStatus('a'), { code: 503 });
  t.is(board.takeStatus('a'), undefined);
  t.is(board.takeStatus('b'), undefined);
  t.deepEqual(board.snapshot(), {});
});

test('stream faults merge every-app and app knobs and lapse after `connections` streams', (t) => {
  const board = new FaultBoard();
  board.set('*', parseFault({ closeAfterEvents: 9, trickle: { everyMs: 5 } }));
  board.set('a', parseFault({ closeAfterEvents: 2, connections: 2, duplicateProbability: 0.5 }));
  t.deepEqual(board.takeStreamFaults('a'), { closeAfterEvents: 2, trickle: { bytes: 1, everyMs: 5 } });
  t.deepEqual(board.takeStreamFaults('a'), { closeAfterEvents: 2, trickle: { bytes: 1, everyMs: 5 } });
  t.deepEqual(board.takeStreamFaults('a'), { closeAfterEvents: 9, trickle: { bytes: 1, everyMs: 5 } });
  t.is(board.effective('a').duplicateProbability, 0.5, 'non-stream knobs stay');
  board.clear();
  t.deepEqual(board.takeStreamFaults('a'), {});
});
