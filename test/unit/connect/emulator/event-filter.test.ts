import test from 'ava';
import fc from 'fast-check';
import type { ConnectEvent } from '../../../../src/connect/event.js';
import { evaluatePredicate, inSubset, matchesFilters, versionMatches } from '../../../../src/connect/emulator/event-filter.js';
import type { Filter } from '../../../../src/connect/emulator/request-body.js';

const base = { id: 'i', offset: '1', occurred: '2024-01-01T00:00:00.000Z', processed: '2024-01-01T00:00:02.000Z' };
function entry(e: Partial<ConnectEvent>, latencyMs = 2_000) {
  return { event: { ...base, type: 'OPEN', ...e } as ConnectEvent, occurredMs: 0, processedMs: latencyMs };
}

const ios = entry({ type: 'OPEN', device: { ios_channel: 'c1', channel: 'c1', device_type: 'IOS', named_user_id: 'nu' } });
const android = entry({ type: 'SEND', device: { android_channel: 'c2' }, body: { push_id: 'p1', group_id: 'g1' } });
const web = entry({ type: 'CUSTOM', device: { channel: 'c3', device_type: 'WEB' }, body: { name: 'buy', value: 5, triggering_push: { push_id: 'p2' }, tags: ['a', 'b'] }, user: { contact_id: 'k', named_user_id: 'u2' } }, 90_000);
const pushBody = entry({ type: 'PUSH_BODY', body: { push_id: 'p1' } });
const all = [ios, android, web, pushBody];
const pick = (filters: Filter[] | undefined) => all.filter((e) => matchesFilters(e, filters)).map((e) => e.event.type);

test('no filters pass everything; filters OR across objects and AND within one', (t) => {
  t.deepEqual(pick(undefined), ['OPEN', 'SEND', 'CUSTOM', 'PUSH_BODY']);
  t.deepEqual(pick([{ types: ['OPEN', 'SEND'], device_types: ['android'] }]), ['SEND']);
  t.deepEqual(pick([{ types: ['OPEN'] }, { device_types: ['web'] }]), ['OPEN', 'CUSTOM']);
  t.deepEqual(pick([{ device_types: ['ios', 'android', 'web', 'amazon', 'sms', 'email', 'open'] }]), ['OPEN', 'SEND', 'CUSTOM'], 'PUSH_BODY has no device');
});

test('devices match by channel, platform channel or named user', (t) => {
  t.deepEqual(pick([{ devices: [{ channel: 'c2' }] }]), ['SEND']);
  t.deepEqual(pick([{ devices: [{ ios_channel: 'c1' }] }]), ['OPEN']);
  t.deepEqual(pick([{ devices: [{ android_channel: 'c1' }] }]), []);
  t.deepEqual(pick([{ devices: [{ named_user_id: 'nu' }, { named_user_id: 'u2' }] }]), ['OPEN', 'CUSTOM']);
  t.deepEqual(pick([{ users: [{ contact_id: 'k' }] }]), ['CUSTOM']);
});

test('notifications match push or group ids, as an object or an array', (t) => {
  t.deepEqual(pick([{ notifications: { push_id: 'p1' } }]), ['SEND', 'PUSH_BODY']);
  t.deepEqual(pick([{ notifications: [{ push_id: 'p2' }, { group_id: 'g1' }] }]), ['SEND', 'CUSTOM']);
});

test('latency drops events processed later than the limit after they occurred', (t) => {
  t.deepEqual(pick([{ latency: 5_000 }]), ['OPEN', 'SEND', 'PUSH_BODY']);
  t.deepEqual(pick([{ latency: 90_000, types: ['CUSTOM'] }]), ['CUSTOM']);
});

test('predicates evaluate and/or/not with every matcher', (t) => {
  const e = web.event;
  t.true(evaluatePredicate(e, { key: 'type', value: { equals: 'custom', ignore_case: true } }));
  t.true(evaluatePredicate(e, { and: [{ scope: 'body', key: 'value', value: { at_least: 5 } }, { scope: ['body'], key: 'value', value: { at_most: 5 } }] }));
  t.false(evaluatePredicate(e, { not: { scope: 'body', key: 'name', value: { is_present: true } } }));
  t.true(evaluatePredicate(e, { or: [{ key: 'nope', value: { is_present: true } }, { scope: 'body', key: 'tags', value: { array_contains: 'b' } }] }));
  t.true(evaluatePredicate(e, { scope: 'body', key: 'tags', index: 0, value: { equals: 'a' } }));
  t.true(evaluatePredicate(e, { scope: 'body.triggering_push', key: 'push_id', value: { equals: 'p2' } }));
  t.true(versionMatches('7.0.1', '7.0+'));
  t.true(versionMatches('7.5', '[7.0,8.0)'));
  t.false(versionMatches('8.0', '[7.0,8.0)'));
  t.true(versionMatches('10.1', '(9.9,]'));
  t.true(versionMatches('1.2.3', '1.2.3'));
});

test('PARTITION puts every id in exactly one partition; duplicates stay together (property)', (t) => {
  fc.assert(
    fc.property(fc.string(), fc.integer({ min: 1, max: 16 }), (id, count) => {
      const hits = Array.from({ length: count }, (_, selection) => inSubset(id, { type: 'PARTITION', count, selection }, Math.random));
      t.is(hits.filter(Boolean).length, 1);
    }),
  );
});

test('SAMPLE keeps about its proportion', (t) => {
  let n = 0;
  for (let i = 0; i < 10_000; i++) if (inSubset(`id-${i}`, { type: 'SAMPLE', proportion: 0.3 }, Math.random)) n += 1;
  t.true(n > 2_700 && n < 3_300, `${n}`);
});
