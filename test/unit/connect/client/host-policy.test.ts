import test from 'ava';
import { ErrorCode, TributaryError } from '../../../../src/errors.js';
import { checkEndpoint, connectHosts } from '../../../../src/connect/client/host-policy.js';

const strict = { allowAnyHost: false, allowedHosts: connectHosts };

test('the Airship Connect hosts over https are allowed', (t) => {
  t.is(checkEndpoint('https://connect.urbanairship.com/api/events', strict).hostname, 'connect.urbanairship.com');
  t.is(checkEndpoint('https://CONNECT.asnapieu.com/api/events/', strict).hostname, 'connect.asnapieu.com');
});

test('other hosts, http, and URLs with credentials are refused unless allowAnyHost', (t) => {
  for (const url of ['https://evil.example/api/events', 'http://connect.urbanairship.com/api/events', 'https://127.0.0.1/api/events', 'https://u:p@connect.urbanairship.com/', 'not a url']) {
    const e = t.throws(() => checkEndpoint(url, strict), { instanceOf: TributaryError });
    t.is(e?.code, ErrorCode.connectHostNotAllowed);
    t.false(e?.message.includes('u:p'), 'credentials are not echoed');
  }
});

test('allowAnyHost admits loopback over http, still not other schemes', (t) => {
  const local = { allowAnyHost: true, allowedHosts: connectHosts };
  t.is(checkEndpoint('http://127.0.0.1:4567/api/events', local).port, '4567');
  t.throws(() => checkEndpoint('ftp://127.0.0.1/x', local), { instanceOf: TributaryError });
});
