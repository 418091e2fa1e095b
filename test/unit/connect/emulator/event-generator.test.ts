import test from 'ava';
import { envelopeProblem } from '../../../../src/connect/event.js';
import { createEventGenerator } from '../../../../src/connect/emulator/event-generator.js';
import { devicePlatform } from '../../../../src/connect/emulator/event-filter.js';

const t0 = Date.parse('2024-05-01T12:00:00.000Z');

function run(seed: number, n: number, extra: Partial<Parameters<typeof createEventGenerator>[0]> = {}) {
  const g = createEventGenerator({ seed, size: 'medium', ...extra });
  return Array.from({ length: n }, (_, i) => g.next({ offset: String(100 + i), processedMs: t0 + i * 10 }));
}

test('the same seed and timings give the same events; another seed gives others', (t) => {
  t.deepEqual(run(42, 300), run(42, 300));
  const other = run(43, 300);
  t.notDeepEqual(run(42, 300).map((e) => e.id), other.map((e) => e.id));
});

test('every event has a valid envelope; PUSH_BODY has no device, FIRST_OPEN and UNINSTALL no body', (t) => {
  const events = run(7, 5_000);
  for (const e of events) {
    t.is(envelopeProblem(e), undefined);
    t.regex(e.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    if (e.type === 'PUSH_BODY') t.is(e.device, undefined);
    else t.truthy(e.device);
    if (e.type === 'FIRST_OPEN' || e.type === 'UNINSTALL') t.is(e.body, undefined);
    t.true(Date.parse(e.occurred) <= Date.parse(e.processed));
  }
  const types = new Set(events.map((e) => e.type));
  for (const type of ['PUSH_BODY', 'SEND', 'OPEN', 'CLOSE', 'CUSTOM', 'LOCATION', 'TAG_CHANGE', 'UNINSTALL', 'FIRST_OPEN', 'SCREEN_VIEWED',
    'IN_APP_MESSAGE_DISPLAY', 'IN_APP_MESSAGE_RESOLUTION', 'IN_APP_MESSAGE_EXPIRATION', 'ATTRIBUTE_OPERATION', 'REGION']) {
    t.true(types.has(type), type);
  }
  t.false(types.has('COMPLIANCE'), 'COMPLIANCE only for apps with a compliance stream');
  const platforms = new Set(events.map((e) => devicePlatform(e.device)).filter(Boolean));
  t.deepEqual([...platforms].sort(), ['amazon', 'android', 'email', 'ios', 'open', 'sms', 'web']);
  t.true(events.some((e) => typeof e.device?.named_user_id === 'string'));
  t.true(events.some((e) => e.device && e.device.named_user_id === undefined));
  const screen = events.find((e) => e.type === 'SCREEN_VIEWED')!;
  t.like(screen.body, { session_id: screen.body!.session_id });
  t.is(typeof screen.body!.duration, 'number');
});

test('event types follow the platform: SCREEN_VIEWED only on mobile, WEB_SESSION only on web', (t) => {
  for (const e of run(9, 3_000)) {
    if (e.type === 'SCREEN_VIEWED') t.true(['ios', 'android', 'amazon'].includes(devicePlatform(e.device)!));
    if (e.type === 'WEB_SESSION') t.is(devicePlatform(e.device), 'web');
  }
});

test('eventBytes pads CUSTOM events to the requested line size', (t) => {
  for (const e of run(3, 300, { eventTypes: ['CUSTOM'], eventBytes: 4_000 })) t.is(Buffer.byteLength(JSON.stringify(e)), 4_000);
  // Near the natural size, an event already about as large stays unpadded.
  for (const e of run(3, 300, { eventTypes: ['CUSTOM'], eventBytes: 1_000 })) {
    const size = Buffer.byteLength(JSON.stringify(e));
    if (size !== 1_000) t.true(size > 980 && (e.body as { properties: Record<string, unknown> }).properties.padding === undefined, `${size}`);
  }
});

test('eventTypes restricts the mix, and out-of-order events occurred minutes to hours earlier', (t) => {
  const g = createEventGenerator({ seed: 1, size: 'small', eventTypes: ['OPEN', 'SEND'] });
  for (let i = 0; i < 200; i++) {
    const e = g.next({ offset: String(i), processedMs: t0, outOfOrder: true });
    t.true(['OPEN', 'SEND'].includes(e.type));
    const lag = t0 - Date.parse(e.occurred);
    t.true(lag >= 60_000 && lag <= 2 * 3_600_000);
  }
  t.throws(() => createEventGenerator({ seed: 1, size: 'small', eventTypes: ['NOPE'] }));
});
