// Amplitude: config validation, the event and body builders, and reading its 400/429 answers.
import test from 'ava';
import { mapConnectEvent } from '../../../../src/sinks/analytics/connect-mapping.js';
import { ConfigError } from '../../../../src/errors.js';
import { validateAmplitudeConfig } from '../../../../src/sinks/amplitude/config.js';
import { buildAmplitudeBody, interpretAmplitudeAnswer, toAmplitudeEvent } from '../../../../src/sinks/amplitude/request-builder.js';
import { exampleRecord } from '../analytics/connect-fixtures.js';

const issuesOf = (raw: unknown, local = false): string[] => {
  try {
    validateAmplitudeConfig(raw, { local });
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
};

test('config: defaults, and bad values named by their sink.* path', (t) => {
  const c = validateAmplitudeConfig({ type: 'amplitude', apiKey: { ref: 'env:AMP' } }, { local: false });
  t.like(c, { region: 'us', maxEventsPerRequest: 1000, minIdLength: 1, throttlePauseMs: 30_000, eventNamePrefix: 'Airship ' });
  t.like(c.adaptiveConcurrency, { minLimit: 1, maxLimit: 8, initialLimit: 2 });
  const issues = issuesOf({
    type: 'amplitude',
    apiKey: { value: 'inline' },
    region: 'mars',
    maxEventsPerRequest: 5000,
    baseUrl: 'http://127.0.0.1:9/x',
    adaptiveConcurrency: { minLimit: 4, maxLimit: 2 },
    extra: 1,
  });
  t.true(issues.some((i) => i.startsWith('sink.region:')));
  t.true(issues.some((i) => i.startsWith('sink.maxEventsPerRequest:')));
  t.true(issues.some((i) => i === 'sink.extra: unknown key'));
  const second = issuesOf({ type: 'amplitude', apiKey: { value: 'inline' }, baseUrl: 'http://127.0.0.1:9/x', adaptiveConcurrency: { minLimit: 4, maxLimit: 2, initialLimit: 3 } });
  t.true(second.some((i) => /^sink\.baseUrl: must be https/.test(i)));
  t.true(second.some((i) => i.startsWith('sink.apiKey: inline secret values')));
  t.true(second.some((i) => i.startsWith('sink.adaptiveConcurrency.maxLimit:')));
  t.deepEqual(issuesOf({ type: 'amplitude', apiKey: { value: 'k' }, baseUrl: 'http://127.0.0.1:9' }, true), [], 'loopback http in local mode');
});

test('event: the documented HTTP V2 fields from a Connect CUSTOM event', (t) => {
  const m = mapConnectEvent(exampleRecord('CUSTOM'));
  if (!m.ok) return t.fail(m.reason);
  const ev = toAmplitudeEvent(m.event);
  t.like(ev, {
    user_id: 'ada',
    device_id: '9c0ffee0-1111-2222-3333-444455556666',
    event_type: 'purchase',
    time: Date.parse('2024-05-01T12:00:00.000Z'),
    insert_id: '3f1c2a9e-8d4b-4c7e-9a1f-2b3c4d5e6f70',
    platform: 'iOS',
    os_name: 'ios',
    os_version: '17.4',
    device_model: 'iPhone15,2',
    carrier: 'Acme',
    app_version: '5.2.0',
    language: 'en',
    country: 'US',
  });
  t.is(ev.event_properties.value, '12345678901234567890');
  t.is(ev.user_properties, undefined);
});

test('event: ATTRIBUTE_OPERATION sets and unsets user properties', (t) => {
  const m = mapConnectEvent(exampleRecord('ATTRIBUTE_OPERATION'));
  if (!m.ok) return t.fail(m.reason);
  t.deepEqual(toAmplitudeEvent(m.event).user_properties, { $set: { loyalty_tier: 'gold' }, $unset: { trial: '-' } });
});

test('body: api_key, the events as encoded, options.min_id_length', (t) => {
  const body = JSON.parse(buildAmplitudeBody('k"1', ['{"a":1}', '{"b":2}'], 1).toString()) as unknown;
  t.deepEqual(body, { api_key: 'k"1', events: [{ a: 1 }, { b: 2 }], options: { min_id_length: 1 } });
});

const events = [{ userId: 'u1', deviceId: 'd1' }, { deviceId: 'd2' }, { userId: 'u3' }, { deviceId: 'd4' }];

test('answers: a 400 with invalid and missing fields names exactly those events; nothing was ingested', (t) => {
  const v = interpretAmplitudeAnswer(
    { status: 400, headers: {}, body: JSON.stringify({ code: 400, error: 'Request missing required field', events_with_invalid_fields: { time: [1, 3] }, events_with_missing_fields: { event_type: [3, 99] } }) },
    events,
    0,
    30_000,
  );
  t.is(v.kind, 'partial');
  if (v.kind !== 'partial') return;
  t.false(v.othersIngested);
  t.deepEqual([...v.rejected.keys()].sort(), [1, 3]);
  t.is(v.rejected.get(3), 'invalid field time; missing field event_type');
});

test('answers: a 400 naming the API key is a misconfiguration; an unreadable 400 is bisected', (t) => {
  t.is(interpretAmplitudeAnswer({ status: 400, headers: {}, body: '{"code":400,"error":"Invalid API key: abc"}' }, events, 0, 1).kind, 'misconfigured');
  t.is(interpretAmplitudeAnswer({ status: 400, headers: {}, body: '{"code":400,"missing_field":"api_key"}' }, events, 0, 1).kind, 'misconfigured');
  const v = interpretAmplitudeAnswer({ status: 400, headers: {}, body: 'oops' }, events, 0, 1);
  t.true(v.kind === 'partial' && v.rejected.size === 0, 'no indices: the sender bisects');
  t.is(interpretAmplitudeAnswer({ status: 422, headers: {}, body: '{}' }, events, 0, 1).kind, 'bisect');
});

test('answers: a 429 refuses users and devices over their daily quota and pauses the rest (Retry-After or the 30 s default)', (t) => {
  const body = JSON.stringify({ code: 429, exceeded_daily_quota_users: { u3: 500001 }, exceeded_daily_quota_devices: { d2: 500001 }, throttled_users: { u1: 31 }, throttled_events: [0, 1, 2] });
  const v = interpretAmplitudeAnswer({ status: 429, headers: {}, body }, events, 0, 30_000);
  t.is(v.kind, 'throttled');
  if (v.kind !== 'throttled') return;
  t.deepEqual([...v.refused.keys()].sort(), [1, 2]);
  t.is(v.delayMs, 30_000);
  const withHeader = interpretAmplitudeAnswer({ status: 429, headers: { 'retry-after': '7' }, body: '{}' }, events, 0, 30_000);
  t.true(withHeader.kind === 'throttled' && withHeader.delayMs === 7_000 && withHeader.refused.size === 0);
});
