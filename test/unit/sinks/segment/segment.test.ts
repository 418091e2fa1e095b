// Segment: config validation and the track message and batch builders.
import test from 'ava';
import { mapConnectEvent } from '../../../../src/sinks/analytics/connect-mapping.js';
import { ConfigError } from '../../../../src/errors.js';
import { validateSegmentConfig } from '../../../../src/sinks/segment/config.js';
import { buildSegmentBody, encodeSegmentTrack, interpretSegmentAnswer, segmentEnvelopeBytes, toSegmentTrack } from '../../../../src/sinks/segment/request-builder.js';
import { exampleRecord } from '../analytics/connect-fixtures.js';

test('config: defaults and bad values named by path', (t) => {
  const c = validateSegmentConfig({ type: 'segment', writeKey: { ref: 'env:SEG' } }, { local: false });
  t.like(c, { region: 'us', maxEventsPerRequest: 500, timeoutMs: 30_000 });
  const err = t.throws(() => validateSegmentConfig({ type: 'segment', writeKey: { value: 'w' }, timeoutMs: 5, retry: { initialMs: 100, maxMs: 10 } }, { local: false })) as ConfigError;
  t.deepEqual(err.issues.map((i) => i.path), ['sink.timeoutMs']);
  const later = t.throws(() => validateSegmentConfig({ type: 'segment', writeKey: { value: 'w' }, retry: { initialMs: 100, maxMs: 10 }, baseUrl: 'https://proxy.example.com/seg?x=1' }, { local: false })) as ConfigError;
  t.deepEqual(later.issues.map((i) => i.path).sort(), ['sink.baseUrl', 'sink.retry.maxMs', 'sink.writeKey']);
});

test('message: a track call with userId, anonymousId = channel, context, ISO timestamp, messageId = Connect id', (t) => {
  const m = mapConnectEvent(exampleRecord('CUSTOM'));
  if (!m.ok) return t.fail(m.reason);
  t.deepEqual(toSegmentTrack(m.event), {
    type: 'track',
    event: 'purchase',
    userId: 'ada',
    anonymousId: '9c0ffee0-1111-2222-3333-444455556666',
    properties: m.event.properties,
    context: {
      library: { name: 'tributary' },
      app: { version: '5.2.0' },
      device: { id: '9c0ffee0-1111-2222-3333-444455556666', model: 'iPhone15,2', type: 'ios' },
      os: { name: 'iOS', version: '17.4' },
      network: { carrier: 'Acme' },
      locale: 'en-US',
      timezone: 'Europe/London',
    },
    timestamp: '2024-05-01T12:00:00.000Z',
    messageId: '3f1c2a9e-8d4b-4c7e-9a1f-2b3c4d5e6f70',
  });
});

test('message: an id longer than 100 characters cannot be a messageId', (t) => {
  const m = mapConnectEvent(exampleRecord('OPEN'));
  if (!m.ok) return t.fail();
  t.false(encodeSegmentTrack({ ...m.event, insertId: 'x'.repeat(101) }).ok);
});

test('body: {"batch":[…],"sentAt"}; the envelope size is what chunking assumes; refusals are bisected', (t) => {
  const body = buildSegmentBody(['{"a":1}'], '2024-01-01T00:00:00.000Z');
  t.deepEqual(JSON.parse(body.toString()), { batch: [{ a: 1 }], sentAt: '2024-01-01T00:00:00.000Z' });
  t.is(buildSegmentBody([], new Date().toISOString()).length, segmentEnvelopeBytes);
  t.is(interpretSegmentAnswer().kind, 'bisect');
});
