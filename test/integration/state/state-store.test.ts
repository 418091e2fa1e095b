import test from 'ava';
import { StateStore } from '../../../src/state/state-store.js';
import { StateWriter } from '../../../src/state/state-writer.js';
import { eventually, testDynamo, uniq } from '../../helpers/infra.js';

async function store(): Promise<StateStore> {
  const s = new StateStore(testDynamo(), uniq('state'));
  await s.ensureTable();
  await s.ensureTable(); // idempotent
  return s;
}

const info = { appKey: 'app1', tier: 'large', sinkType: 'webhook' };

test('checkpoints only move forward, compared as big decimals', async (t) => {
  const s = await store();
  const { epoch } = await s.claim('i1', 'node-a', info);
  t.is(await s.advanceCheckpoint('i1', epoch, '999'), 'advanced');
  t.is(await s.advanceCheckpoint('i1', epoch, '1000'), 'advanced');
  t.is(await s.advanceCheckpoint('i1', epoch, '999'), 'unchanged');
  t.is(await s.advanceCheckpoint('i1', epoch, '1000'), 'unchanged');
  t.is(await s.advanceCheckpoint('i1', epoch, '1000059326194000000001'), 'advanced');
  t.is(await s.advanceCheckpoint('i1', epoch, '1000059326194000000000'), 'unchanged');
  t.is((await s.get('i1'))?.checkpoint, '1000059326194000000001');
});

test('a newer owner fences the old one: its checkpoint and status writes are rejected', async (t) => {
  const s = await store();
  const a = await s.claim('i2', 'node-a', info);
  t.is(await s.advanceCheckpoint('i2', a.epoch, '10'), 'advanced');
  const b = await s.claim('i2', 'node-b', info);
  t.is(b.epoch, a.epoch + 1);
  t.is(await s.advanceCheckpoint('i2', a.epoch, '20'), 'fenced');
  t.is(await s.update('i2', { epoch: a.epoch, status: 'failing' }), 'fenced');
  t.is(await s.advanceCheckpoint('i2', b.epoch, '20'), 'advanced');
  const row = await s.get('i2');
  t.is(row?.owner, 'node-b');
  t.is(row?.checkpoint, '20');
  t.deepEqual(row?.history?.map((h) => h.node), ['node-a', 'node-b']);
});

test('the writer coalesces counters and checkpoints and reports fencing once', async (t) => {
  const s = await store();
  const { epoch } = await s.claim('i3', 'node-a', info);
  let fenced = 0;
  const w = new StateWriter(s, { integrationId: 'i3', epoch, flushIntervalMs: 50, onFenced: () => (fenced += 1) });
  for (let i = 1; i <= 1000; i++) {
    w.count('read');
    w.setCheckpoint(String(i));
  }
  w.count('delivered', 7);
  await w.flush();
  const row = await s.get('i3');
  t.is(row?.checkpoint, '1000');
  t.is(row?.counters?.read, 1000);
  t.is(row?.counters?.delivered, 7);
  await s.claim('i3', 'node-b', info);
  w.setCheckpoint('2000');
  await eventually(() => (fenced === 1 ? true : undefined), 5_000, 'fenced callback');
  await w.close();
  t.is((await s.get('i3'))?.checkpoint, '1000');
  t.true(w.isFenced);
});

test('a state writer holds a timer only while something waits, and retries a failed flush until it lands', async (t) => {
  const s = await store();
  const { epoch } = await s.claim('i5', 'node-a', info);
  const w = new StateWriter(s, { integrationId: 'i5', epoch, flushIntervalMs: 50 });
  t.teardown(() => w.close());
  t.false(w.flushScheduled, 'a quiet writer has no timer');
  w.setCheckpoint('10');
  w.count('read', 3);
  t.true(w.flushScheduled);
  await eventually(async () => ((await s.get('i5'))?.checkpoint === '10' ? true : undefined), 5_000, 'checkpoint written');
  await eventually(() => (w.flushScheduled ? undefined : true), 5_000, 'timer gone once written');
  t.is((await s.get('i5'))?.counters?.read, 3);

  // The first two writes fail (injected before the real store): each failure is tried again.
  class Flaky extends StateStore {
    failures = 2;
    override async update(...args: Parameters<StateStore['update']>): ReturnType<StateStore['update']> {
      if (this.failures-- > 0) throw new Error('injected: DynamoDB unreachable');
      return super.update(...args);
    }
  }
  const flaky = new Flaky(testDynamo(), s.table);
  const errors: unknown[] = [];
  const w2 = new StateWriter(flaky, { integrationId: 'i5', epoch, flushIntervalMs: 50, onError: (err) => errors.push(err) });
  t.teardown(() => w2.close());
  w2.count('delivered', 5);
  await eventually(async () => ((await s.get('i5'))?.counters?.delivered === 5 ? true : undefined), 10_000, 'counters written after the failures');
  t.is(errors.length, 2);
  await eventually(() => (w2.flushScheduled ? undefined : true), 5_000, 'timer gone once written');
});

test('a flush with a checkpoint is one write; a checkpoint not ahead of the row still lets its counters and lag through', async (t) => {
  const s = await store();
  const { epoch } = await s.claim('i6', 'node-a', info);
  class Counting extends StateStore {
    calls: string[] = [];
    override async advanceCheckpoint(...args: Parameters<StateStore['advanceCheckpoint']>): ReturnType<StateStore['advanceCheckpoint']> {
      this.calls.push('checkpoint');
      return super.advanceCheckpoint(...args);
    }
    override async update(...args: Parameters<StateStore['update']>): ReturnType<StateStore['update']> {
      this.calls.push('update');
      return super.update(...args);
    }
  }
  const counting = new Counting(testDynamo(), s.table);
  const w = new StateWriter(counting, { integrationId: 'i6', epoch, flushIntervalMs: 60_000 });
  t.teardown(() => w.close());
  w.count('read', 4);
  w.count('produced', 4);
  w.setCheckpoint('40');
  w.setLag({ sourceLagMs: 1_500 });
  await w.flush();
  t.deepEqual(counting.calls, ['checkpoint'], 'checkpoint, counters and lag in one write');
  let row = await s.get('i6');
  t.is(row?.checkpoint, '40');
  t.is(row?.counters?.read, 4);
  t.is(row?.counters?.produced, 4);
  t.is(row?.sourceLagMs, 1_500);

  // A checkpoint behind the row's (a restart re-reading its tail): the row keeps 40, the progress lands.
  counting.calls.length = 0;
  w.count('delivered', 2);
  w.setCheckpoint('30');
  w.setLag({ consumerLag: 9 });
  await w.flush();
  t.deepEqual(counting.calls, ['checkpoint', 'update']);
  row = await s.get('i6');
  t.is(row?.checkpoint, '40');
  t.is(row?.counters?.delivered, 2);
  t.is(row?.counters?.read, 4, 'nothing counted twice');
  t.is(row?.consumerLag, 9);

  // Fenced with progress pending: nothing of it is written.
  await s.claim('i6', 'node-b', info);
  w.count('read', 100);
  w.setCheckpoint('50');
  await w.flush();
  t.true(w.isFenced);
  row = await s.get('i6');
  t.is(row?.checkpoint, '40');
  t.is(row?.counters?.read, 4);
});

test('status, errors and history keep bounded lists', async (t) => {
  const s = await store();
  await s.claim('i4', 'node-a', info);
  for (let i = 0; i < 8; i++) {
    await s.update('i4', { status: 'failing', statusReason: `r${i}`, error: { class: 'retryable', code: 'sink_server', message: `m${i}`, fingerprint: 'f', at: new Date().toISOString() } });
  }
  const row = await s.get('i4');
  t.is(row?.status, 'failing');
  t.is(row?.statusReason, 'r7');
  t.is(row?.lastErrors?.length, 5);
  t.is(row?.lastErrors?.at(-1)?.message, 'm7');
  t.true((await s.list()).some((r) => r.integrationId === 'i4'));
});
