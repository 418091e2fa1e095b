import test from 'ava';
import fc from 'fast-check';
import { ControlLedger, diffAssignment, type LedgerAction } from '../../../src/control/control-ledger.js';
import { decodeControlRecord, type ControlRecord } from '../../../src/control/control-record.js';
import { validateSinkConfig } from '../../../src/sinks/registry.js';

const spec = (id: string, extra: Record<string, unknown> = {}) => ({
  version: 1,
  id,
  app: { key: `app-${id}`, size: 'small' },
  connect: { url: 'https://connect.urbanairship.com/api/events', token: { ref: 'env:TOKEN' } },
  sink: { type: 'webhook', url: 'https://hooks.example.com/in' },
  ...extra,
});

let offset = 0;
const rec = (partition: number, key: string | null, value: unknown, at?: number): ControlRecord => ({
  partition,
  offset: String(at ?? offset++),
  key,
  value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  timestamp: '0',
});

const ledger = () => new ControlLedger((r) => decodeControlRecord(r, { local: false, validateSink: validateSinkConfig }));
const summary = (actions: LedgerAction[]) =>
  actions.map((a) => (a.type === 'stop' ? `stop ${a.ids.join(',')}` : a.type === 'apply' ? `apply ${a.decoded.id}@${a.record.offset}` : a.type === 'delete' ? `delete ${a.id}` : `reject ${a.decoded.id}`));

test('diffAssignment splits lost, gained and kept partitions', (t) => {
  t.deepEqual(diffAssignment([0, 1, 2], [2, 3, 1]), { lost: [0], gained: [3], kept: [1, 2] });
  fc.assert(
    fc.property(fc.uniqueArray(fc.nat(20)), fc.uniqueArray(fc.nat(20)), (a, b) => {
      const d = diffAssignment(a, b);
      t.deepEqual([...d.gained, ...d.kept].sort((x, y) => x - y), [...b].sort((x, y) => x - y));
      t.deepEqual([...d.lost, ...d.kept].sort((x, y) => x - y), [...a].sort((x, y) => x - y));
    }),
  );
});

test('a gained partition is rebuilt to its high watermark and only the newest spec per key is applied', (t) => {
  const l = ledger();
  t.deepEqual(l.assign([0], new Map([[0, { low: '0', high: '4' }]]), 0), []);
  t.deepEqual(summary(l.record(rec(0, 'a', spec('a'), 0), 1)), []);
  t.deepEqual(summary(l.record(rec(0, 'b', spec('b'), 1), 1)), []);
  t.deepEqual(summary(l.record(rec(0, 'a', spec('a', { state: 'paused' }), 2), 1)), []);
  t.false(l.settled());
  t.deepEqual(summary(l.record(rec(0, 'c', null, 3), 1)), ['apply b@1', 'apply a@2', 'delete c']);
  t.true(l.settled());
  // Live from now on: each record acts at once.
  t.deepEqual(summary(l.record(rec(0, 'b', null, 4), 2)), ['delete b']);
  t.deepEqual(summary(l.record(rec(0, 'd', spec('d'), 5), 2)), ['apply d@5']);
});

test('integrations of a lost partition are stopped before anything of the new assignment', (t) => {
  const l = ledger();
  l.assign([0, 1], new Map([[0, { low: '0', high: '1' }], [1, { low: '0', high: '1' }]]), 0);
  l.record(rec(0, 'a', spec('a'), 0), 0);
  l.record(rec(1, 'b', spec('b'), 0), 0);
  const actions = l.assign([1, 2], new Map([[1, { low: '0', high: '1' }], [2, { low: '0', high: '0' }]]), 1);
  t.deepEqual(summary(actions), ['stop a']);
  t.true(l.isLive(2), 'an empty partition is live at once');
  t.false(l.isLive(1));
  // The kept partition is re-read; re-applying the same spec is the executor's no-op.
  t.deepEqual(summary(l.record(rec(1, 'b', spec('b'), 0), 2)), ['apply b@0']);
  t.deepEqual([...l.placement()], [['b', 1]]);
});

test('a bad newest record keeps the last good spec in the log running and is rejected', (t) => {
  const l = ledger();
  l.assign([3], new Map([[3, { low: '0', high: '2' }]]), 0);
  l.record(rec(3, 'a', spec('a'), 0), 0);
  t.deepEqual(summary(l.record(rec(3, 'a', '{"version":1,', 1), 0)), ['apply a@0', 'reject a']);
  // Live: a bad record only rejects.
  t.deepEqual(summary(l.record(rec(3, 'a', spec('a', { sink: { type: 'pigeon' } }), 2), 0)), ['reject a']);
  t.deepEqual(summary(l.record(rec(3, null, spec('x'), 3), 0)), ['reject null']);
});

test('a rebuilt partition stops integrations whose key is gone, and records of unassigned partitions are ignored', (t) => {
  const l = ledger();
  l.assign([0], new Map([[0, { low: '0', high: '2' }]]), 0);
  l.record(rec(0, 'a', spec('a'), 0), 0);
  l.record(rec(0, 'b', spec('b'), 1), 0);
  // After compaction the partition holds only b.
  l.assign([0], new Map([[0, { low: '1', high: '2' }]]), 1);
  t.deepEqual(summary(l.record(rec(0, 'b', spec('b'), 1), 1)), ['apply b@1', 'stop a']);
  t.deepEqual(l.record(rec(7, 'z', spec('z'), 0), 1), []);
});

test('a partition whose tail was compacted away counts as read after the idle time', (t) => {
  const l = ledger();
  l.assign([0], new Map([[0, { low: '0', high: '10' }]]), 0);
  l.record(rec(0, 'a', spec('a'), 3), 100);
  t.deepEqual(l.tick(1_000, 5_000), []);
  t.deepEqual(summary(l.tick(5_200, 5_000)), ['apply a@3']);
  t.true(l.settled());
});

test('property: after any record sequence, the rebuild applies exactly the newest valid spec of each live key', (t) => {
  fc.assert(
    fc.property(fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), kind: fc.constantFrom('spec', 'paused', 'tombstone') }), { minLength: 1, maxLength: 30 }), (ops) => {
      const l = ledger();
      l.assign([0], new Map([[0, { low: '0', high: String(ops.length) }]]), 0);
      const actions: LedgerAction[] = [];
      const newest = new Map<string, { kind: string; offset: number }>();
      ops.forEach((op, i) => {
        const value = op.kind === 'tombstone' ? null : spec(op.key, op.kind === 'paused' ? { state: 'paused' } : {});
        newest.set(op.key, { kind: op.kind, offset: i });
        actions.push(...l.record(rec(0, op.key, value, i), 0));
      });
      const applied = actions.filter((a) => a.type === 'apply').map((a) => (a.type === 'apply' ? `${a.decoded.id}@${a.record.offset}` : ''));
      const expected = [...newest].filter(([, v]) => v.kind !== 'tombstone').map(([k, v]) => `${k}@${v.offset}`);
      t.deepEqual(applied.sort(), expected.sort());
      t.true(l.settled());
    }),
  );
});
