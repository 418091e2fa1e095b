import test from 'ava';
import fc from 'fast-check';
import { AppLog } from '../../../../src/connect/emulator/app-log.js';
import { appSchema, type AppInput } from '../../../../src/connect/emulator/options.js';
import { RetainedLog } from '../../../../src/connect/emulator/retained-log.js';

const start = Date.parse('2024-05-01T12:00:00.000Z');

function log(input: Partial<AppInput>, realism = { duplicateProbability: 0, outOfOrderProbability: 0 }) {
  const options = appSchema.parse({ key: 'a', token: 't', ...input });
  return new AppLog(options, 1, start, () => realism);
}

test('a finite on-demand app produces exactly totalEvents with consecutive offsets', (t) => {
  const app = log({ rate: 'max', totalEvents: 25 });
  t.is(app.lastOffset, undefined);
  t.is(app.produceOnDemand(10, start), 10);
  t.is(app.produceOnDemand(100, start), 15);
  t.is(app.produceOnDemand(100, start), 0);
  t.true(app.finished);
  const events = app.events();
  t.deepEqual(events.map((e) => e.offset), Array.from({ length: 25 }, (_, i) => String(1_000_000 + i)));
});

test('retention keeps the newest retainEvents: EARLIEST moves forward', (t) => {
  const app = log({ rate: 'max', retainEvents: 10, firstOffset: 0 });
  app.produceOnDemand(35, start);
  t.is(app.oldestOffset, 25);
  t.is(app.lastOffset, 34);
  t.is(app.entry(24), undefined);
  t.is(app.entry(25)!.event.offset, '25');
});

test('a rate-driven app produces about rate × elapsed when caught up, and nothing before its time', (t) => {
  const app = log({ size: 'large', rate: 1_000, retainEvents: 100_000 });
  app.catchUp(start);
  t.is(app.retainedCount, 0);
  app.catchUp(start + 2_000);
  t.true(app.retainedCount > 1_800 && app.retainedCount < 2_200, `${app.retainedCount}`);
  t.true(app.nextArrivalMs()! > start + 2_000);
});

test('a small app arrives in bursts separated by silences', (t) => {
  const app = log({ size: 'small', rate: 1, retainEvents: 100_000 });
  app.catchUp(start + 3_600_000);
  const times = app.events().map((e) => Date.parse(e.processed));
  const gaps = times.slice(1).map((x, i) => x - times[i]!);
  t.true(gaps.filter((g) => g < 1_000).length > gaps.length / 2, 'most gaps are inside bursts');
  t.true(gaps.some((g) => g > 20_000), 'some silences are long');
  t.true(times.length > 2_400 && times.length < 4_800, `${times.length} events in an hour at 1/s`);
});

test('an app nobody read for long skips what expired instead of generating it', (t) => {
  const app = log({ size: 'large', rate: 2_000, retainEvents: 1_000 });
  const began = Date.now();
  app.catchUp(start + 24 * 3_600_000);
  t.true(Date.now() - began < 1_000);
  // About the last retainEvents' worth of time is generated; it never exceeds the window.
  t.true(app.retainedCount > 900 && app.retainedCount <= 1_000, `${app.retainedCount}`);
  t.true(app.stats.expiredUnseen > 100_000_000);
  t.is(app.lastOffset, app.oldestOffset + app.retainedCount - 1);
});

test('duplicates keep id, type, occurred, device and body, with a new offset', (t) => {
  const app = log({ rate: 'max', totalEvents: 300 }, { duplicateProbability: 0.5, outOfOrderProbability: 0 });
  app.produceOnDemand(300, start);
  const events = app.events();
  const seen = new Map<string, (typeof events)[number]>();
  let dups = 0;
  for (const e of events) {
    const first = seen.get(e.id);
    if (first) {
      dups += 1;
      t.not(first.offset, e.offset);
      t.deepEqual({ ...e, offset: '', processed: '' }, { ...first, offset: '', processed: '' });
    } else seen.set(e.id, e);
  }
  t.true(dups > 100);
  t.is(app.stats.duplicates, dups);
});

test('generate makes a burst now, past totalEvents, and wakes waiters', (t) => {
  const app = log({ rate: 'max', totalEvents: 0, retainEvents: 1_000 });
  t.true(app.finished);
  let woken = 0;
  app.onAppend(() => (woken += 1));
  t.is(app.generate(0, start), undefined);
  t.is(woken, 0);
  t.deepEqual(app.generate(3, start), { firstOffset: 1_000_000, lastOffset: 1_000_002 });
  t.is(woken, 1);
  t.deepEqual(app.generate(2, start), { firstOffset: 1_000_003, lastOffset: 1_000_004 });
  t.is(app.produceOnDemand(10, start), 0, 'on-demand production still honours totalEvents');
  t.deepEqual(app.events().map((e) => e.offset), ['1000000', '1000001', '1000002', '1000003', '1000004']);
  t.true(app.events().every((e) => e.processed === new Date(start).toISOString()));
});

test('hold makes events outside the log; release appends them at once with new offsets and processed times', (t) => {
  const app = log({ rate: 'max', totalEvents: 0, retainEvents: 1_000 });
  let woken = 0;
  app.onAppend(() => (woken += 1));
  t.is(app.release(start), undefined, 'nothing held: nothing released');
  t.is(app.hold(3, start), 3);
  t.is(app.hold(2, start + 1), 5);
  t.is(app.heldCount, 5);
  t.is(woken, 0, 'held events wake nobody');
  t.is(app.retainedCount, 0);
  t.is(app.lastOffset, undefined);
  t.is(app.stats.generated, 5);
  // Something appended in between takes the next offset; the held events follow it.
  app.append([{}], start + 2);
  const at = start + 5_000;
  t.deepEqual(app.release(at), { firstOffset: 1_000_001, lastOffset: 1_000_005 });
  t.is(woken, 2);
  t.is(app.heldCount, 0);
  const events = app.events();
  t.deepEqual(events.map((e) => e.offset), ['1000000', '1000001', '1000002', '1000003', '1000004', '1000005']);
  for (const e of events.slice(1)) {
    t.is(e.processed, new Date(at).toISOString());
    t.true(Date.parse(e.occurred) <= at);
  }
  t.is(app.entry(1_000_003)!.processedMs, at);
  t.is(new Set(events.map((e) => e.id)).size, 6);
  t.is(app.release(at), undefined, 'released once');
});

test('stage stamps the held events for a later release; publish appends them, past anything appended in between', (t) => {
  const app = log({ rate: 'max', totalEvents: 0, retainEvents: 1_000, eventBytes: 300, eventTypes: ['CUSTOM'] });
  let woken = 0;
  app.onAppend(() => (woken += 1));
  app.hold(4, start);
  const at = start + 8_000;
  const staged = app.stage(at);
  t.is(app.heldCount, 0, 'staged events leave the hold');
  t.is(app.retainedCount, 0, 'and are not in the log until published');
  t.is(woken, 0);
  t.deepEqual(staged.map((e) => e.event.offset), ['1000000', '1000001', '1000002', '1000003']);
  t.true(staged.every((e) => e.event.processed === new Date(at).toISOString() && e.processedMs === at));
  // What a caller made from the stamped events (stream-session.ts compressAhead) …
  staged[0]!.line = Buffer.from('stale\n');
  t.deepEqual(app.publish(staged.slice(0, 2)), { firstOffset: 1_000_000, lastOffset: 1_000_001 });
  t.is(woken, 1);
  t.is(staged[0]!.line?.toString(), 'stale\n', 'kept when the offsets held');
  // … is dropped when another event took the next offset first; `processed` stays the release time.
  app.append([{}], start + 9_000);
  staged[2]!.line = Buffer.from('stale\n');
  t.deepEqual(app.publish(staged.slice(2)), { firstOffset: 1_000_003, lastOffset: 1_000_004 });
  t.false('line' in staged[2]!);
  t.deepEqual(app.events().map((e) => e.offset), ['1000000', '1000001', '1000002', '1000003', '1000004']);
  t.is(app.entry(1_000_004)!.event.processed, new Date(at).toISOString());
  t.is(app.publish([]), undefined);
});

test('appends get the next offsets and wake waiters', (t) => {
  const app = log({ rate: 'max', totalEvents: 2 });
  app.produceOnDemand(2, start);
  let woken = 0;
  const stop = app.onAppend(() => (woken += 1));
  const [e] = app.append([{ type: 'OPEN', occurred: '2024-01-01T00:00:00.000Z' }], start);
  t.is(e!.offset, '1000002');
  t.is(e!.occurred, '2024-01-01T00:00:00.000Z');
  t.is(woken, 1);
  stop();
  app.append([{}], start);
  t.is(woken, 1);
});

test('RetainedLog behaves like a bounded window of consecutive offsets (property)', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.oneof(fc.constant(-1), fc.integer({ min: 1, max: 30 })), { maxLength: 80 }), (cap, ops) => {
      const ring = new RetainedLog<number>(cap, 5);
      const model: number[] = [];
      let next = 5;
      for (const op of ops) {
        if (op === -1) {
          t.is(ring.push(next), next);
          model.push(next);
          next += 1;
          if (model.length > cap) model.shift();
        } else {
          ring.skip(op);
          next += op;
          model.length = 0;
        }
      }
      t.deepEqual([...ring.values()], model);
      t.is(ring.nextOffset, next);
      t.is(ring.oldestOffset, model[0] ?? next);
      for (const v of model) t.is(ring.get(v), v);
      t.is(ring.get(next), undefined);
    }),
  );
});

test('a finite app nobody read for long keeps every event that still fits in retention', (t) => {
  // 4 000 events at 400/s with room for 4 010: whatever the pause, nothing may expire unseen.
  const app = log({ size: 'large', rate: 400, totalEvents: 4_000, retainEvents: 4_010, firstOffset: 0 });
  app.catchUp(start + 5_000);
  const early = app.retainedCount;
  t.true(early > 1_500 && early < 2_500, `${early}`);
  app.catchUp(start + 60_000);
  t.true(app.finished);
  t.is(app.stats.expiredUnseen, 0);
  t.is(app.retainedCount, 4_000);
  t.is(app.oldestOffset, 0);
  t.is(app.lastOffset, 3_999);
});

test('a finite app past its retention skips only what no longer fits', (t) => {
  const app = log({ size: 'large', rate: 1_000, totalEvents: 10_000, retainEvents: 2_000, firstOffset: 0 });
  app.catchUp(start + 3_600_000);
  t.true(app.finished);
  t.is(app.stats.expiredUnseen, 8_000);
  t.is(app.retainedCount, 2_000);
  t.is(app.oldestOffset, 8_000);
  t.is(app.lastOffset, 9_999);
});
