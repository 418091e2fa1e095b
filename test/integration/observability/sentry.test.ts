// Sentry reporter against a local envelope receiver: one fingerprint for one bug across many
// integrations, the per-fingerprint rate limit, and no secret in anything that leaves the process.
import test from 'ava';
import { ErrorCode, TributaryError, fingerprint } from '../../../src/errors.js';
import { createFaultReporter } from '../../../src/observability/sentry.js';
import { startSentryReceiver } from '../../helpers/sentry-receiver.js';

const canary = 'CANARY-7f3e9b1c-do-not-leak';

function sameBug(i: number): TributaryError {
  // The message differs per integration (ids, numbers, URLs): the fingerprint must not.
  return new TributaryError(ErrorCode.bug, `cannot encode event ${i}00${i} for https://user:${canary}@sink-${i}.example.com/hook?token=${canary}`, {
    cause: new Error(`upstream said: Authorization: Bearer ${canary}`),
    details: { token: canary },
  });
}

test('twenty integrations failing with the same bug make events with one fingerprint, bounded by the rate limit', async (t) => {
  const rx = await startSentryReceiver();
  t.teardown(() => rx.close());
  const reporter = await createFaultReporter({ dsn: rx.dsn, environment: 'test', maxEventsPerFingerprintPerMinute: 5 }, { env: {} });
  t.true(reporter.enabled);
  const outcomes: string[] = [];
  for (let i = 0; i < 20; i++) {
    const error = sameBug(i);
    outcomes.push(
      reporter.captureFault({
        error,
        integrationId: `int-${i}`,
        appKey: `app-${i}`,
        tier: i % 3 === 0 ? 'large' : 'small',
        sinkType: 'webhook',
        errorClass: 'fatal',
        fingerprint: fingerprint(error, ['webhook']),
        extra: { apiKey: canary, note: `see https://x.example.com/?secret=${canary}` },
      }),
    );
  }
  t.is(outcomes.filter((o) => o === 'sent').length, 5);
  t.is(outcomes.filter((o) => o === 'rate_limited').length, 15);
  t.true(await reporter.close(5_000));
  const events = await rx.waitForEvents(5);
  await new Promise((r) => setTimeout(r, 300));
  t.is(rx.events().length, 5, 'the rate limit bounds what reaches Sentry');
  const fps = new Set(events.map((e) => JSON.stringify(e.fingerprint)));
  t.is(fps.size, 1, `one fingerprint, got ${[...fps].join(' / ')}`);
  const fp = events[0]!.fingerprint!;
  t.is(fp[0], 'fatal');
  t.is(fp[1], 'webhook');
  t.deepEqual(new Set(events.map((e) => e.tags?.class)), new Set(['fatal']));
  t.deepEqual(new Set(events.map((e) => e.tags?.sink)), new Set(['webhook']));
  t.is(new Set(events.map((e) => e.tags?.integration)).size, 5, 'each event names its integration in a tag');
  t.false(rx.rawText().includes(canary), 'the canary never appears in any envelope');
  t.true(rx.rawText().includes('sink-0.example.com/hook'), 'URLs keep host and path');
});

test('a different sink type or class is a different fingerprint; no DSN means a no-op reporter', async (t) => {
  const rx = await startSentryReceiver();
  t.teardown(() => rx.close());
  const reporter = await createFaultReporter({ dsn: rx.dsn, environment: 'test', maxEventsPerFingerprintPerMinute: 1 }, { env: {} });
  const err = new TributaryError(ErrorCode.sinkServer, 'HTTP 503 from https://a.example.com/x');
  const base = { integrationId: 'i', appKey: 'a', tier: 'small', fingerprint: fingerprint(err) };
  t.is(reporter.captureFault({ ...base, error: err, sinkType: 'webhook' }), 'sent');
  t.is(reporter.captureFault({ ...base, error: err, sinkType: 'webhook' }), 'rate_limited');
  t.is(reporter.captureFault({ ...base, error: err, sinkType: 's3' }), 'sent');
  t.is(reporter.captureFault({ ...base, error: err, sinkType: 's3', errorClass: 'fatal' }), 'sent');
  await reporter.close();
  const events = await rx.waitForEvents(3);
  t.is(new Set(events.map((e) => JSON.stringify(e.fingerprint))).size, 3);
  t.is(events.find((e) => e.tags?.class === 'retryable')?.level, 'warning');

  const off = await createFaultReporter({ environment: 'test', maxEventsPerFingerprintPerMinute: 5 }, { env: {} });
  t.false(off.enabled);
  t.is(off.captureFault({ ...base, error: err, sinkType: 'webhook' }), 'disabled');
  t.true(await off.close());
});
