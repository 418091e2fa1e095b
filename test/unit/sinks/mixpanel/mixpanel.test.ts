// Mixpanel: config validation, the event and body builders, and reading strict-mode failed_records.
import test from 'ava';
import { gunzipSync } from 'node:zlib';
import { mapConnectEvent } from '../../../../src/sinks/analytics/connect-mapping.js';
import { ConfigError } from '../../../../src/errors.js';
import { validateMixpanelConfig } from '../../../../src/sinks/mixpanel/config.js';
import { buildMixpanelBody, encodeMixpanelEvent, interpretMixpanelAnswer, mixpanelInsertId, toMixpanelEvent } from '../../../../src/sinks/mixpanel/request-builder.js';
import { exampleRecord } from '../analytics/connect-fixtures.js';

test('config: defaults; a service account needs projectId; bad values named by path', (t) => {
  const c = validateMixpanelConfig({ type: 'mixpanel', auth: { type: 'projectToken', token: { ref: 'env:MP_TOKEN' } } }, { local: false });
  t.like(c, { region: 'us', gzip: true, maxEventsPerRequest: 1000 });
  const err = t.throws(() =>
    validateMixpanelConfig({ type: 'mixpanel', auth: { type: 'serviceAccount', username: 'a:b', secret: { value: 'x' } }, projectId: 'abc', region: 'jp' }, { local: false }),
  ) as ConfigError;
  const paths = err.issues.map((i) => i.path);
  t.true(paths.includes('sink.auth.username'));
  t.true(paths.includes('sink.projectId'));
  t.true(paths.includes('sink.region'));
  const inline = t.throws(() => validateMixpanelConfig({ type: 'mixpanel', auth: { type: 'serviceAccount', username: 'sa', secret: { value: 'x' } }, projectId: '1' }, { local: false })) as ConfigError;
  t.deepEqual(inline.issues.map((i) => i.path), ['sink.auth.secret']);
});

test('event: time in ms, distinct_id, $insert_id, $device_id, $user_id and the device properties', (t) => {
  const m = mapConnectEvent(exampleRecord('SCREEN_VIEWED'));
  if (!m.ok) return t.fail(m.reason);
  const ev = toMixpanelEvent(m.event);
  t.is(ev.event, 'Airship SCREEN_VIEWED');
  t.like(ev.properties, {
    time: Date.parse('2016-05-23T17:34:40.525Z'),
    distinct_id: 'david',
    $insert_id: 'a8c66fc6-210c-11e6-a195-90e2ba211bf8',
    $device_id: 'aa218218-aad4-4a0c-bc6e-7ad6f9507a44',
    $user_id: 'david',
    $os: 'Android',
    $app_version_string: '373',
    $model: 'Nexus 6P',
    viewed_screen: 'MessageActivity',
    duration: 5788,
  });
  const anon = mapConnectEvent(exampleRecord('OPEN'));
  if (!anon.ok) return t.fail();
  t.is(toMixpanelEvent(anon.event).properties.distinct_id, '$device:2918fcc9-66dc-4c18-8905-c882ba2fd011');
});

test('event: a non-UUID id is hashed to a valid $insert_id; too many properties are refused', (t) => {
  t.is(mixpanelInsertId('00000152-4639-25e7-024b-457f821dd465'), '00000152-4639-25e7-024b-457f821dd465');
  t.regex(mixpanelInsertId('a very long id with spaces that is not allowed by mixpanel'), /^[0-9a-f]{36}$/);
  const m = mapConnectEvent(exampleRecord('OPEN'));
  if (!m.ok) return t.fail();
  const many = { ...m.event, properties: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`p${i}`, i])) };
  const r = encodeMixpanelEvent(many);
  t.false(r.ok);
});

test('body: a JSON array, gzipped when asked', async (t) => {
  const plain = await buildMixpanelBody(['{"a":1}', '{"b":2}'], false);
  t.deepEqual(JSON.parse(plain.body.toString()), [{ a: 1 }, { b: 2 }]);
  const zipped = await buildMixpanelBody(['{"a":1}'], true);
  t.deepEqual(JSON.parse(gunzipSync(zipped.body).toString()), [{ a: 1 }]);
  t.is(zipped.payloadBytes, 9);
});

test('answers: failed_records reject exactly those (insert id over index); the others were imported', (t) => {
  const events = [{ insertId: 'a' }, { insertId: 'b' }, { insertId: 'c' }, { insertId: 'd' }];
  const body = JSON.stringify({
    code: 400,
    error: 'some data points in the request failed validation',
    num_records_imported: 2,
    failed_records: [
      { index: 0, insert_id: 'c', field: 'properties.time', message: "'properties.time' is invalid" },
      { index: 3, field: 'event', message: 'missing' },
    ],
  });
  const v = interpretMixpanelAnswer({ status: 400, body }, events);
  t.is(v.kind, 'partial');
  if (v.kind !== 'partial') return;
  t.true(v.othersIngested);
  t.deepEqual([...v.rejected.keys()].sort(), [2, 3]);
  t.regex(v.rejected.get(2)!, /properties\.time/);
  t.is(interpretMixpanelAnswer({ status: 400, body: '{"code":400,"error":"bad"}' }, events).kind, 'bisect');
  t.is(interpretMixpanelAnswer({ status: 422, body: '' }, events).kind, 'bisect');
});
