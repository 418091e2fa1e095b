import test from 'ava';
import { Outbox, type SendResult } from '../../../src/supervision/alerting-outbox.js';

interface A {
  key: string;
  action: 'trigger' | 'resolve';
}
const a = (key: string, action: A['action']): A => ({ key, action });

function box(max = 100) {
  const o = new Outbox<A>(max);
  const add = (x: A) => o.add(x, x.key, x.action === 'resolve', 0);
  return { o, add };
}

test('a failed send stays for the next flush, and later actions of its key wait behind it', async (t) => {
  const { o, add } = box();
  add(a('k1', 'trigger'));
  add(a('k2', 'trigger'));
  add(a('k1', 'resolve'));
  const sent: string[] = [];
  let down = true;
  const send = async (x: A): Promise<SendResult> => {
    if (down && x.key === 'k1') throw new Error('503');
    sent.push(`${x.key}:${x.action}`);
    return 'sent';
  };
  const r1 = await o.flush(send);
  t.deepEqual(sent, ['k2:trigger'], 'other keys go on; k1 resolve waits behind its trigger');
  t.is(r1.failed.length, 1);
  t.is(o.size, 2);
  down = false;
  await o.flush(send);
  t.deepEqual(sent, ['k2:trigger', 'k1:trigger', 'k1:resolve']);
  t.is(o.size, 0);
});

test('overflow sheds the oldest triggers and never a resolve', (t) => {
  const { o, add } = box(10);
  for (let i = 0; i < 10; i++) add(a(`r${i}`, 'resolve'));
  add(a('t0', 'trigger'));
  t.is(o.size, 10, 'full of resolves: the new trigger is the one shed');
  t.is(o.shed, 1);
  for (let i = 0; i < 5; i++) add(a(`r${i + 10}`, 'resolve'));
  t.is(o.size, 15, 'resolves are kept even past the bound');
  t.is(o.pending().filter((e) => e.item.action === 'resolve').length, 15);
});

test('a permanent refusal is dropped and does not block its key', async (t) => {
  const { o, add } = box();
  add(a('k', 'trigger'));
  add(a('k', 'resolve'));
  const r = await o.flush(async (x) => (x.action === 'trigger' ? { result: 'drop', error: '400' } : 'sent'));
  t.is(r.dropped.length, 1);
  t.is(r.sent.length, 1);
  t.is(o.size, 0);
});

test('an action added while a flush is running is kept for the next one', async (t) => {
  const { o, add } = box();
  add(a('k1', 'trigger'));
  const seen: string[] = [];
  await o.flush(async (x) => {
    seen.push(x.key);
    add(a('k2', 'trigger'));
    return 'sent';
  });
  t.deepEqual(seen, ['k1']);
  t.is(o.size, 1);
  await o.flush(async (x) => (seen.push(x.key), 'sent'));
  t.deepEqual(seen, ['k1', 'k2']);
});
