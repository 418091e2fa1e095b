// The event_type tag stays bounded: known Connect types as themselves, anything else `other`.
import test from 'ava';
import fc from 'fast-check';
import { knownEventTypes } from '../../../src/connect/event.js';
import { catalogue, eventTypeTag } from '../../../src/observability/metrics.js';

test('known Connect types tag as themselves; new, odd or empty types as `other`', (t) => {
  for (const type of knownEventTypes) t.is(eventTypeTag(type), type);
  for (const type of ['SOMETHING_NEW', 'open', '', 'OPEN ', '../etc', 'x'.repeat(500)]) t.is(eventTypeTag(type), 'other', JSON.stringify(type));
});

test('whatever Connect sends, the tag is one of known types + 1 values (property)', (t) => {
  const allowed = new Set<string>([...knownEventTypes, 'other']);
  fc.assert(fc.property(fc.oneof(fc.string(), fc.constantFrom(...knownEventTypes)), (type) => allowed.has(eventTypeTag(type))));
  t.pass();
});

test('read, delivered and dead-lettered counters carry the event_type tag', (t) => {
  for (const name of ['source.events_read', 'sink.events_delivered', 'sink.events_dlq'] as const) {
    t.true((catalogue[name].tags as readonly string[]).includes('event_type'), name);
  }
});
