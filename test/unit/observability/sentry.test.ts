import test from 'ava';
import { ErrorCode, TributaryError, fingerprint } from '../../../src/errors.js';
import { FingerprintRateLimiter, scrubEvent, scrubText, scrubValue, sentryFingerprint } from '../../../src/observability/sentry.js';

test('scrubText strips URL userinfo and query, bearer values and key=value secrets', (t) => {
  const s = scrubText('POST https://bob:pw@api.example.com/v1/x?api_key=S1&y=2 failed; Authorization: Bearer S2; token=S3 routingKey: S4');
  for (const secret of ['S1', 'S2', 'S3', 'S4', 'bob', 'pw@']) t.false(s.includes(secret), `${secret} in ${s}`);
  t.true(s.includes('https://api.example.com/v1/x'));
});

test('scrubValue drops secret-named keys at any depth', (t) => {
  t.deepEqual(scrubValue({ a: 1, token: 'x', nested: { Authorization: 'y', ok: 'see https://h/p?secret=z' } }), { a: 1, nested: { ok: 'see https://h/p' } });
});

test('scrubEvent keeps no request headers, cookies, bodies or query strings', (t) => {
  const e = scrubEvent({
    request: { url: 'https://u:p@h.example.com/a?b=c', method: 'POST', headers: { authorization: 'x' }, cookies: { s: '1' }, data: 'body' },
    exception: { values: [{ type: 'Error', value: 'at https://h/?token=q' }] },
  });
  t.deepEqual(e.request, { url: 'https://h.example.com/a', method: 'POST' });
  t.is(e.exception!.values![0]!.value, 'at https://h/');
});

test('one bug across integrations is one fingerprint; the limiter admits N per fingerprint per minute', (t) => {
  const fps = [1, 2, 3].map((i) => {
    const error = new TributaryError(ErrorCode.bug, `boom in event ${i}${i} at https://x${i}.example.com/`);
    return sentryFingerprint({ error, sinkType: 'webhook', fingerprint: fingerprint(error, ['webhook']) }).join('|');
  });
  t.is(new Set(fps).size, 1);
  const l = new FingerprintRateLimiter(2);
  t.deepEqual([l.allow('a', 0), l.allow('a', 1), l.allow('a', 2), l.allow('b', 3), l.allow('a', 60_000)], [true, true, false, true, true]);
});
