import test from 'ava';
import { retryLogLevel } from '../../../src/observability/logger.js';

test('the first retry and every 10th are warnings, the rest debug', (t) => {
  const levels = Array.from({ length: 30 }, (_, i) => retryLogLevel(i + 1));
  const warned = levels.flatMap((l, i) => (l === 'warn' ? [i + 1] : []));
  t.deepEqual(warned, [1, 10, 20, 30]);
  t.is(retryLogLevel(0), 'warn', 'an unnumbered first attempt is never hidden');
});
