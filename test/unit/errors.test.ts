import test from 'ava';
import { ErrorCode, TributaryError, classify, fingerprint } from '../../src/errors.js';

test('classify walks the cause chain and the most severe kind wins', (t) => {
  const net = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  t.is(classify(net), 'retryable');
  const wrapped = new TributaryError(ErrorCode.sinkServer, '503', { cause: net });
  t.is(classify(wrapped), 'retryable');
  const auth = new TributaryError(ErrorCode.sinkAuth, '401');
  t.is(classify(new TributaryError(ErrorCode.sinkServer, 'outer', { cause: auth })), 'misconfiguration');
  t.is(classify(new Error('something odd')), 'fatal');
  t.is(classify('a string'), 'fatal');
  t.is(classify(Object.assign(new Error('leader moved'), { retriable: true })), 'retryable');
});

test('fingerprints ignore ids and numbers so repeats aggregate', (t) => {
  const a = new TributaryError(ErrorCode.sinkServer, 'HTTP 503 from https://a.example/x after 3 tries for 1f0c6e4e-1b1f-4d1c-9f6e-2a4b5c6d7e8f');
  const b = new TributaryError(ErrorCode.sinkServer, 'HTTP 502 from https://b.example/y after 7 tries for 00000000-1b1f-4d1c-9f6e-2a4b5c6d7e8f');
  t.is(fingerprint(a, ['webhook']), fingerprint(b, ['webhook']));
  t.not(fingerprint(a, ['webhook']), fingerprint(new TributaryError(ErrorCode.sinkAuth, 'HTTP 503'), ['webhook']));
});
