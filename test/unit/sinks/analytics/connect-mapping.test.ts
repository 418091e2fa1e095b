// The Connect → analytics mapping over every CONNECT_API.md example, and its edge cases.
import test from 'ava';
import { mapConnectEvent, type AnalyticsEvent } from '../../../../src/sinks/analytics/connect-mapping.js';
import { connectExamples, exampleRecord, type ExampleType } from './connect-fixtures.js';

const mapped = (type: ExampleType): AnalyticsEvent => {
  const r = mapConnectEvent(exampleRecord(type));
  if (!r.ok) throw new Error(r.reason);
  return r.event;
};

test('every example with a channel maps, with insert id = Connect id and time = occurred in ms', (t) => {
  for (const type of Object.keys(connectExamples) as ExampleType[]) {
    const ev = mapped(type);
    const raw = JSON.parse(connectExamples[type]) as { id: string; occurred: string };
    t.is(ev.insertId, raw.id, type);
    t.is(ev.timeMs, Date.parse(raw.occurred), type);
    t.is(ev.properties.airship_event_type, type);
  }
});

test('an event with neither named user nor channel (PUSH_BODY as §4 describes it) is rejected with a reason', (t) => {
  // The verbatim §4 example carries an ios_channel, so it maps; without a device it cannot.
  t.true(mapConnectEvent(exampleRecord('PUSH_BODY')).ok);
  const raw = JSON.parse(connectExamples.PUSH_BODY) as Record<string, unknown>;
  delete raw.device;
  const r = mapConnectEvent({ ...exampleRecord('PUSH_BODY'), value: Buffer.from(JSON.stringify(raw)) });
  t.false(r.ok);
  if (!r.ok) t.regex(r.reason, /no user or device id/);
});

test('CUSTOM: the event name is body.name, custom properties at the top level, the big value kept as a string', (t) => {
  const ev = mapped('CUSTOM');
  t.is(ev.name, 'purchase');
  t.is(ev.userId, 'ada');
  t.is(ev.deviceId, '9c0ffee0-1111-2222-3333-444455556666');
  t.like(ev.properties, { sku: 'A-1', price: 9.99, value: '12345678901234567890', interaction_id: 'home', interaction_type: 'ua_mcrap', session_id: 's-1', airship_contact_id: 'c-123', airship_platform: 'iOS' });
  t.deepEqual(ev.properties.tags, ['x', 'y']);
  t.false('name' in ev.properties);
  t.deepEqual(ev.device, { platform: 'iOS', appVersion: '5.2.0', deviceModel: 'iPhone15,2', osVersion: '17.4', carrier: 'Acme', timezone: 'Europe/London', language: 'en', country: 'US', locale: 'en-US' });
});

test('non-CUSTOM types are named "Airship <TYPE>" and their bodies flattened with dotted keys', (t) => {
  const open = mapped('OPEN');
  t.is(open.name, 'Airship OPEN');
  t.is(open.properties['triggering_push.push_id'], '757d58f7-7a47-5d01-70d2-c943b762df0c');
  t.is(open.properties['last_delivered.push_id'], '0392c335-c655-b0f0-2685-32244920ff41');
  t.is(open.device.platform, 'iOS');
  t.is(open.userId, undefined);

  const tags = mapped('TAG_CHANGE');
  t.is(tags.userId, 'willis');
  t.deepEqual(tags.properties['add.device'], ['I_like_horses']);
  t.is(tags.device.platform, 'Android');

  const screen = mapped('SCREEN_VIEWED');
  t.like(screen.properties, { duration: 5788, viewed_screen: 'MessageActivity', previous_screen: 'MainActivity' });
  t.like(screen.device, { appVersion: '373', deviceModel: 'Nexus 6P', sdkVersion: '7.0.1' });

  t.is(mapped('IN_APP_MESSAGE_RESOLUTION').properties.variant_id, '0', 'strings stay strings');
  t.is(mapped('IN_APP_MESSAGE_EXPIRATION').properties.type, 'EXPIRED');
  t.is(mapped('SEND').device.platform, 'Amazon');
  t.like(mapped('LOCATION').properties, { latitude: '0.5030746732390502', foreground: true });
  t.deepEqual(Object.keys(mapped('UNINSTALL').properties).sort(), ['airship_channel_id', 'airship_event_type', 'airship_platform']);
});

test('ATTRIBUTE_OPERATION: set/remove become attribute changes; platform from device_type', (t) => {
  const ev = mapped('ATTRIBUTE_OPERATION');
  t.deepEqual(ev.attributes, { set: { loyalty_tier: 'gold' }, remove: ['trial'] });
  t.is(ev.device.platform, 'Web');
  t.is(ev.channelKey, 'channel');
});

test('the prefix is configurable, a user-only event maps, and unparsable text is rejected', (t) => {
  const r = mapConnectEvent(exampleRecord('OPEN'), { eventNamePrefix: 'UA ' });
  t.true(r.ok && r.event.name === 'UA OPEN');
  const base = exampleRecord('OPEN');
  const userOnly = mapConnectEvent({ ...base, value: Buffer.from('{"id":"x","type":"CLOSE","occurred":"2020-01-01T00:00:00.000Z","user":{"named_user_id":"u-1"},"body":{"session_id":"s"}}') });
  t.true(userOnly.ok && userOnly.event.userId === 'u-1' && userOnly.event.deviceId === undefined);
  const bad = mapConnectEvent({ ...base, value: Buffer.from('{not json') });
  t.false(bad.ok);
  const badTime = mapConnectEvent({ ...base, value: Buffer.from('{"id":"x","type":"OPEN","occurred":"yesterday","device":{"channel":"c"}}'), occurred: 'yesterday' });
  t.false(badTime.ok);
});

test('deep objects become JSON text past the flattening depth; custom properties win over body fields', (t) => {
  const base = exampleRecord('CUSTOM');
  const r = mapConnectEvent({
    ...base,
    value: Buffer.from('{"id":"x","type":"CUSTOM","occurred":"2020-01-01T00:00:00.000Z","device":{"channel":"c"},"body":{"name":"n","session_id":"airship","properties":{"session_id":"mine","a":{"b":{"c":{"d":1}}},"list":[{"k":1}]}}}'),
  });
  t.true(r.ok);
  if (!r.ok) return;
  t.is(r.event.properties.session_id, 'mine');
  t.is(r.event.properties['a.b.c'], '{"d":1}');
  t.is(r.event.properties.list, '[{"k":1}]');
});
