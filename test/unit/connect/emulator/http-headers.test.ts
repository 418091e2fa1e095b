import test from 'ava';
import { acceptsConnectNdjson, basicCredentials, bearerToken, cookieValue, sameSecret } from '../../../../src/connect/emulator/http-headers.js';

test('Accept is parsed leniently across the official clients', (t) => {
  for (const ok of [
    undefined,
    '',
    'application/vnd.urbanairship+x-ndjson; version=3;',
    'application/vnd.urbanairship+x-ndjson;version=3;',
    'application/vnd.urbanairship+x-ndjson; version=3',
    'application/vnd.urbanairship+x-json, application/vnd.urbanairship+x-ndjson;version=3;',
    'Application/VND.UrbanAirship+X-NDJSON; Version="3"',
    '*/*',
  ]) t.true(acceptsConnectNdjson(ok), String(ok));
  for (const bad of ['application/json', 'application/vnd.urbanairship+x-ndjson; version=2;']) t.false(acceptsConnectNdjson(bad), bad);
});

test('credentials and the SRV cookie are read leniently', (t) => {
  t.is(bearerToken('Bearer abc'), 'abc');
  t.is(bearerToken('bearer   abc '), 'abc');
  t.is(bearerToken('Basic abc'), undefined);
  t.deepEqual(basicCredentials(`Basic ${Buffer.from('key:se:cret').toString('base64')}`), { user: 'key', password: 'se:cret' });
  t.is(cookieValue('SRV=abc; Path=/', 'SRV'), 'abc');
  t.is(cookieValue(['other=1', 'a=b; SRV="q"'], 'SRV'), 'q');
  t.is(cookieValue(undefined, 'SRV'), undefined);
  t.true(sameSecret('x', 'x'));
  t.false(sameSecret('x', 'xy'));
  t.false(sameSecret(undefined, 'x'));
});
