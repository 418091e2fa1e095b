import test from 'ava';
import { positionsOf } from '../../../src/pipeline/sink-runner.js';

test('positionsOf: committed offsets where the group committed, the partition start elsewhere; pending when any partition holds more', (t) => {
  const ends = [
    { partition: 0, low: '0', high: '10' },
    { partition: 1, low: '5', high: '5' },
    { partition: 2, low: '3', high: '7' },
  ];
  const done = positionsOf(new Map([[0, 10n], [2, 7n]]), ends);
  t.deepEqual([...done.positions], [[0, 10n], [1, 5n], [2, 7n]]);
  t.false(done.pending, 'every partition read to its end (partition 1 never committed, but empty)');

  const more = positionsOf(new Map([[0, 10n], [2, -1n]]), ends);
  t.deepEqual(more.positions.get(2), 3n, 'no commit (-1): from the start of the partition');
  t.true(more.pending);
  t.true(positionsOf(new Map(), [{ partition: 0, low: '0', high: '1' }]).pending, 'a group that never committed, one record waiting');
});
