import test from 'ava';
import { InvalidArgumentError } from 'commander';
import { parseDurationMs, parsePort, parsePositiveInt } from '../../../src/cli/parse.js';

test('durations parse with units and reject junk', (t) => {
  t.is(parseDurationMs('60s'), 60_000);
  t.is(parseDurationMs('500ms'), 500);
  t.is(parseDurationMs('5m'), 300_000);
  t.is(parseDurationMs('2'), 2_000);
  for (const bad of ['', 'abc', '-1s', '10 parsecs', '1d']) t.throws(() => parseDurationMs(bad), { instanceOf: InvalidArgumentError });
});

test('ports and counts reject out-of-range values', (t) => {
  t.is(parsePort('0'), 0);
  t.is(parsePort('65535'), 65_535);
  for (const bad of ['65536', '-1', 'http', '1.5']) t.throws(() => parsePort(bad), { instanceOf: InvalidArgumentError });
  t.is(parsePositiveInt('3'), 3);
  t.throws(() => parsePositiveInt('0'), { instanceOf: InvalidArgumentError });
});
