import test from 'ava';
import { decodeControlRecord, redactRaw, RAW_SHOWN_BYTES } from '../../../src/control/control-record.js';
import { buildRejection, describeRejection } from '../../../src/control/rejections.js';
import { validateSinkConfig } from '../../../src/sinks/registry.js';

const good = {
  version: 1,
  id: 'acme',
  app: { key: 'app1', size: 'small' },
  connect: { url: 'https://connect.urbanairship.com/api/events', token: { ref: 'env:T' } },
  sink: { type: 'webhook', url: 'https://hooks.example.com/in' },
};
const r = (key: string | null, value: string | null) => ({ partition: 2, offset: '7', key, value: value === null ? null : Buffer.from(value), timestamp: '1' });
const decode = (key: string | null, value: string | null, local = false) => decodeControlRecord(r(key, value), { local, validateSink: validateSinkConfig });

test('decodes specs, tombstones and every kind of bad record with a reason', (t) => {
  t.is(decode('acme', JSON.stringify(good)).kind, 'spec');
  t.deepEqual(decode('acme', null), { kind: 'tombstone', id: 'acme' });
  const noKey = decode(null, JSON.stringify(good));
  t.is(noKey.kind === 'invalid' && noKey.reason, 'record has no key (the key must be the integration id)');
  const mismatch = decode('other', JSON.stringify(good));
  t.is(mismatch.kind === 'invalid' && mismatch.reason, 'id does not match the record key');
  const json = decode('acme', '{"version":1,');
  t.is(json.kind === 'invalid' && json.reason, 'not valid JSON');
  const big = decode('acme', JSON.stringify({ ...good, pad: 'x'.repeat(10 * 1024 * 1024) }));
  t.is(big.kind === 'invalid' && big.reason, 'document too large');
  const sink = decode('acme', JSON.stringify({ ...good, sink: { type: 'pigeon' } }));
  t.true(sink.kind === 'invalid' && sink.issues.some((i) => i.path === 'sink.type'));
  const priv = decode('acme', JSON.stringify({ ...good, sink: { type: 'webhook', url: 'http://10.1.2.3/hook' } }), true);
  t.true(priv.kind === 'invalid' && priv.issues.some((i) => i.path === 'sink.url' && /private/.test(i.message)));
  const token = decode('acme', JSON.stringify({ ...good, connect: { url: good.connect.url } }));
  t.true(token.kind === 'invalid' && token.issues.some((i) => i.path === 'connect.token'));
});

test('rejections never carry inline secret values, parsed or not, and are truncated', (t) => {
  const secret = 'canary-6b1f0e9a';
  const doc = JSON.stringify({ ...good, connect: { ...good.connect, token: { value: secret } } });
  t.false(redactRaw(Buffer.from(doc))!.includes(secret));
  t.false(redactRaw(Buffer.from(`${doc.slice(0, -5)}garbage`))!.includes(secret));
  t.false(redactRaw(Buffer.from(doc.replace('"value":"', '"value" : "') + 'x'.repeat(70_000)))!.includes(secret));
  t.true(redactRaw(Buffer.from('y'.repeat(100_000)))!.length <= RAW_SHOWN_BYTES + 1);
  t.is(redactRaw(null), null);
  const decoded = decode('acme', `${doc.slice(0, -5)}garbage`);
  if (decoded.kind !== 'invalid') return t.fail();
  const rej = buildRejection(r('acme', `${doc.slice(0, -5)}garbage`), decoded, 'node-1', new Date(0));
  t.false(JSON.stringify(rej).includes(secret));
  t.deepEqual(rej.control, { partition: 2, offset: '7', timestamp: '1' });
  t.regex(describeRejection(rej), /^not valid JSON: \(root\): not valid JSON/);
});
