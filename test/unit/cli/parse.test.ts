import test from 'ava';
import { InvalidArgumentError } from 'commander';
import { parseDurationMs, parseIntIn, parseJsonObject, parseListOf, parseNumberIn, parsePort, parsePositiveInt } from '../../../src/cli/parse.js';

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

test('ranges, JSON objects and lists reject bad values with the value named', (t) => {
  const tenants = parseIntIn(1, 5_000);
  t.is(tenants('1000'), 1_000);
  for (const bad of ['0', '5001', '1.5', 'abc', '', '1e3']) t.throws(() => tenants(bad), { instanceOf: InvalidArgumentError, message: /from 1 to 5000/ });
  const rate = parseNumberIn(0, 1_000);
  t.is(rate('0.02'), 0.02);
  t.is(rate('0'), 0);
  for (const bad of ['-0.1', '1000.5', 'NaN', 'Infinity', '', 'x']) t.throws(() => rate(bad), { instanceOf: InvalidArgumentError });
  t.deepEqual(parseJsonObject('{"sink.parkWhenIdle":true}'), { 'sink.parkWhenIdle': true });
  for (const bad of ['{', '[]', 'null', '"x"', '3']) t.throws(() => parseJsonObject(bad), { instanceOf: InvalidArgumentError });
  const scenarios = parseListOf(['s1', 's2', 's3']);
  t.deepEqual(scenarios('s1, s3'), ['s1', 's3']);
  t.throws(() => scenarios('s1,s9'), { instanceOf: InvalidArgumentError, message: /unknown: s9/ });
  t.throws(() => scenarios(','), { instanceOf: InvalidArgumentError, message: /empty list/ });
});
