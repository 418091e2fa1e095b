import test from 'ava';
import { gzipSync } from 'node:zlib';
import { eventIdsOf, integrationOfPath, startWebhookReceiver } from '../../../src/devtools/webhook-receiver.js';
import { signPayload } from '../../../src/sinks/webhook/request-builder.js';

test('counts events, unique ids and duplicates per integration; gzip and JSON arrays', async (t) => {
  const rx = await startWebhookReceiver();
  t.teardown(() => rx.close());
  const a = await fetch(rx.urlFor('one'), { method: 'POST', body: '{"id":"a"}\n{"id":"b"}\n' });
  t.is(a.status, 200);
  const b = await fetch(rx.urlFor('one'), { method: 'POST', body: gzipSync('[{"id":"b"},{"id":"c"}]'), headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' } });
  t.is(b.status, 200);
  await fetch(rx.urlFor('two'), { method: 'POST', body: '{"id":"z"}\n' });
  t.like(rx.tally('one'), { requests: 2, accepted: 2, events: 4, unique: 3, duplicates: 1, refused: 0 });
  t.deepEqual([...rx.ids('one')].sort(), ['a', 'b', 'c']);
  t.deepEqual(rx.tallies().map((x) => x.integration), ['one', 'two']);
});

test('checks the signature when a secret is set', async (t) => {
  const rx = await startWebhookReceiver({ signingSecret: 'sekrit' });
  t.teardown(() => rx.close());
  const body = Buffer.from('{"id":"a"}\n');
  const ts = Math.floor(Date.now() / 1000);
  const ok = await fetch(rx.urlFor('i'), { method: 'POST', body, headers: { 'x-tributary-timestamp': String(ts), 'x-tributary-signature': signPayload('sekrit', ts, body) } });
  t.is(ok.status, 200);
  const bad = await fetch(rx.urlFor('i'), { method: 'POST', body, headers: { 'x-tributary-timestamp': String(ts), 'x-tributary-signature': signPayload('other', ts, body) } });
  t.is(bad.status, 401);
  const none = await fetch(rx.urlFor('i'), { method: 'POST', body });
  t.is(none.status, 401);
  t.like(rx.tally('i'), { accepted: 1, refused: 2, badSignature: 2, unique: 1 });
});

test('down answers 503 for one integration (or all) until switched back', async (t) => {
  const rx = await startWebhookReceiver();
  t.teardown(() => rx.close());
  rx.setDown('big', true);
  t.is((await fetch(rx.urlFor('big'), { method: 'POST', body: '{"id":"a"}\n' })).status, 503);
  t.is((await fetch(rx.urlFor('small'), { method: 'POST', body: '{"id":"a"}\n' })).status, 200);
  rx.setDown('big', false);
  t.is((await fetch(rx.urlFor('big'), { method: 'POST', body: '{"id":"a"}\n' })).status, 200);
  rx.setDown('*', true);
  t.true(rx.isDown('small'));
  t.is((await fetch(rx.urlFor('small'), { method: 'POST', body: 'not json\n' })).status, 503);
  rx.setDown('*', false);
  t.is((await fetch(rx.urlFor('small'), { method: 'POST', body: 'not json\n' })).status, 400);
  t.like(rx.tally('big'), { refused: 1, accepted: 1 });
});

test('path and body parsing', (t) => {
  t.is(integrationOfPath('/demo-large?x=1'), 'demo-large');
  t.is(integrationOfPath('/'), 'default');
  t.is(integrationOfPath('/a/b'), 'a');
  t.deepEqual(eventIdsOf(Buffer.from('{"id":1}\n\n{"id":"2"}\n'), 'application/x-ndjson'), ['1', '2']);
  t.deepEqual(eventIdsOf(Buffer.from(''), 'application/json'), []);
  t.throws(() => eventIdsOf(Buffer.from('{"id":1}'), 'application/json'));
});
