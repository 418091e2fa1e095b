import test from 'ava';
import { CookieJar } from '../../../../src/connect/client/cookie-jar.js';

test('stores name=value without attributes and echoes them as one Cookie header', (t) => {
  const jar = new CookieJar();
  t.is(jar.header(), undefined);
  t.is(jar.store(['SRV=abc123; Path=/', 'other=1; HttpOnly']), 2);
  t.is(jar.header(), 'SRV=abc123; other=1');
});

test('a later value replaces an earlier one; Max-Age=0 or an empty value deletes', (t) => {
  const jar = new CookieJar();
  jar.store('SRV=a');
  jar.store('SRV=b; Path=/');
  t.is(jar.header(), 'SRV=b');
  jar.store('SRV=gone; Max-Age=0');
  t.is(jar.header(), undefined);
  jar.store('SRV=c');
  jar.store('SRV=');
  t.is(jar.size, 0);
});

test('malformed headers are ignored', (t) => {
  const jar = new CookieJar();
  t.is(jar.store(['', 'novalue', '=x', ';']), 0);
  t.is(jar.store(undefined), 0);
  t.is(jar.header(), undefined);
});
