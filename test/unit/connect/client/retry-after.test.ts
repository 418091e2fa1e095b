import test from 'ava';
import { parseRetryAfter } from '../../../../src/connect/client/retry-after.js';

const now = Date.parse('2024-05-01T12:00:00Z');

test('delay-seconds become milliseconds', (t) => {
  t.is(parseRetryAfter('0', now), 0);
  t.is(parseRetryAfter('7', now), 7000);
  t.is(parseRetryAfter(' 120 ', now), 120_000);
  t.is(parseRetryAfter(['3', '9'], now), 3000);
  t.is(parseRetryAfter('1.5', now), 1500);
});

test('an HTTP date becomes the time until it, never negative', (t) => {
  t.is(parseRetryAfter('Wed, 01 May 2024 12:00:30 GMT', now), 30_000);
  t.is(parseRetryAfter('Wed, 01 May 2024 11:00:00 GMT', now), 0);
});

test('absent or garbage values are undefined', (t) => {
  for (const v of [undefined, '', '  ', '-5', 'soon', '1e3', 'NaN']) t.is(parseRetryAfter(v, now), undefined, String(v));
});
