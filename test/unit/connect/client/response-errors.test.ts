import test from 'ava';
import { classify, ErrorCode } from '../../../../src/errors.js';
import { errorForStatus, maxErrorTextChars, serverErrorText } from '../../../../src/connect/client/response-errors.js';

const body = (error: string) => JSON.stringify({ ok: false, error, error_code: 40_301 });

test('400, 401, 402 and 403 are misconfiguration errors carrying the server text', (t) => {
  const cases = [
    [400, ErrorCode.connectBadRequest],
    [401, ErrorCode.connectAuth],
    [402, ErrorCode.connectConcurrency],
    [403, ErrorCode.connectNotEntitled],
  ] as const;
  for (const [status, code] of cases) {
    const e = errorForStatus(status, {}, body(`reason ${status}`));
    t.is(e.code, code);
    t.is(e.kind, 'misconfiguration');
    t.is(classify(e), 'misconfiguration');
    t.is(e.status, status);
    t.true(e.message.includes(`reason ${status} (error_code 40301)`), e.message);
    t.is(e.details?.serverText, `reason ${status} (error_code 40301)`);
  }
});

test('429 is transient and carries Retry-After', (t) => {
  const e = errorForStatus(429, { 'retry-after': '12' }, '');
  t.is(e.code, ErrorCode.connectRateLimited);
  t.is(e.kind, 'retryable');
  t.is(e.retryAfterMs, 12_000);
});

test('5xx and 408 are transient server errors; a 503 may carry Retry-After', (t) => {
  for (const s of [500, 502, 503, 504, 408]) t.is(errorForStatus(s, {}, 'x').code, ErrorCode.connectServer);
  t.is(errorForStatus(503, { 'retry-after': '2' }, '').retryAfterMs, 2000);
  t.is(errorForStatus(500, {}, '').retryAfterMs, undefined);
});

test('other statuses (404, 406, 301) are bad requests: retrying will not fix a wrong URL', (t) => {
  for (const s of [404, 406, 301, 418]) {
    const e = errorForStatus(s, {}, 'nope');
    t.is(e.code, ErrorCode.connectBadRequest);
    t.is(e.kind, 'misconfiguration');
  }
});

test('server text: JSON error field preferred, raw text otherwise, whitespace collapsed, truncated', (t) => {
  t.is(serverErrorText('{"ok":false,"error":"bad token"}'), 'bad token');
  t.is(serverErrorText('{"ok":false,"error":"x","details":{"path":"filters"}}'), 'x: {"path":"filters"}');
  t.is(serverErrorText('Requested event types to which client is not entitled\n COMPLIANCE'), 'Requested event types to which client is not entitled COMPLIANCE');
  t.is(serverErrorText('{not json'), '{not json');
  const long = serverErrorText('y'.repeat(10_000));
  t.is(long.length, maxErrorTextChars + 1);
  t.true(long.endsWith('…'));
});
