// The status table and Retry-After parsing: one place decides what every status means.
import test from 'ava';
import fc from 'fast-check';
import { ErrorCode, classify, TributaryError } from '../../../../src/errors.js';
import { createRetryLogic, defaultDecision, parseRetryAfter, type HttpOutcome } from '../../../../src/sinks/http/retry-logic.js';

test('the default table: 2xx delivered, 429/5xx retry, 413 too large, 400/422 rejected, 401/403/404/3xx misconfigured', (t) => {
  const expect: [number, HttpOutcome, ErrorCode][] = [
    [200, 'delivered', ErrorCode.sinkRejected], [202, 'delivered', ErrorCode.sinkRejected], [204, 'delivered', ErrorCode.sinkRejected],
    [429, 'retry', ErrorCode.sinkRateLimited], [408, 'retry', ErrorCode.sinkTimeout], [500, 'retry', ErrorCode.sinkServer],
    [502, 'retry', ErrorCode.sinkServer], [503, 'retry', ErrorCode.sinkServer], [504, 'retry', ErrorCode.sinkServer],
    [413, 'tooLarge', ErrorCode.sinkTooLarge], [400, 'rejected', ErrorCode.sinkRejected], [422, 'rejected', ErrorCode.sinkRejected],
    [409, 'rejected', ErrorCode.sinkRejected], [401, 'misconfigured', ErrorCode.sinkAuth], [403, 'misconfigured', ErrorCode.sinkAuth],
    [404, 'misconfigured', ErrorCode.sinkNotFound], [410, 'misconfigured', ErrorCode.sinkNotFound], [301, 'misconfigured', ErrorCode.sinkRedirect],
    [307, 'misconfigured', ErrorCode.sinkRedirect], [308, 'misconfigured', ErrorCode.sinkRedirect], [405, 'misconfigured', ErrorCode.sinkMisconfigured],
    [501, 'misconfigured', ErrorCode.sinkMisconfigured], [100, 'retry', ErrorCode.sinkServer], [599, 'retry', ErrorCode.sinkServer],
  ];
  for (const [status, outcome, code] of expect) {
    const d = defaultDecision(status);
    t.is(d.outcome, outcome, `${status}`);
    if (outcome !== 'delivered') t.is(d.code, code, `${status}`);
  }
});

test('every decision code has the kind its outcome implies', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 100, max: 599 }), (status) => {
      const d = defaultDecision(status);
      if (d.outcome === 'delivered') return true;
      const kind = classify(new TributaryError(d.code, 'x'));
      return (
        (d.outcome === 'retry' && kind === 'retryable') ||
        ((d.outcome === 'rejected' || d.outcome === 'tooLarge') && kind === 'permanent') ||
        (d.outcome === 'misconfigured' && kind === 'misconfiguration')
      );
    }),
  );
  t.pass();
});

test('a sink can override single statuses', (t) => {
  const logic = createRetryLogic({ 409: { outcome: 'delivered', code: ErrorCode.sinkRejected }, 404: { outcome: 'retry', code: ErrorCode.sinkServer } });
  t.is(logic.decide(409).outcome, 'delivered');
  t.is(logic.decide(404).outcome, 'retry');
  t.is(logic.decide(400).outcome, 'rejected');
});

test('Retry-After: delay-seconds and HTTP-dates; garbage is ignored', (t) => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  t.is(parseRetryAfter('120', now), 120_000);
  t.is(parseRetryAfter(' 0 ', now), 0);
  t.is(parseRetryAfter('Wed, 01 May 2024 12:00:30 GMT', now), 30_000);
  t.is(parseRetryAfter('Wed, 01 May 2024 11:00:00 GMT', now), 0, 'a past date means now');
  t.is(parseRetryAfter(['5', '9'], now), 5_000);
  for (const bad of [undefined, '', '-1', '1.5', 'soon', 'Wed, 99 Foo']) t.is(parseRetryAfter(bad, now), undefined, String(bad));
});
