import test from 'ava';
import fc from 'fast-check';
import { AssignerProtocol } from 'kafkajs';
import { decodeClaims, stickyAssigner, stickyAssignment, type MemberClaim } from '../../../src/control/sticky-assignor.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const claims = (a: Map<string, number[]>, except?: string): MemberClaim[] =>
  [...a].filter(([id]) => id !== except).map(([memberId, owned]) => ({ memberId, owned }));
const counts = (a: Map<string, number[]>) => [...a.values()].map((ps) => ps.length);

function assertComplete(t: import('ava').ExecutionContext, a: Map<string, number[]>, partitions: number) {
  const all = [...a.values()].flat().sort((x, y) => x - y);
  t.deepEqual(all, range(partitions), 'every partition assigned exactly once');
  const c = counts(a);
  t.true(Math.max(...c) - Math.min(...c) <= 1, `balanced: ${c.join(',')}`);
}

test('a fresh group gets a balanced assignment of every partition', (t) => {
  const a = stickyAssignment(['n3', 'n1', 'n2'].map((memberId) => ({ memberId, owned: [] })), range(12));
  assertComplete(t, a, 12);
  t.deepEqual(counts(a), [4, 4, 4]);
});

test('when a node leaves, the survivors keep everything they held and share only its partitions', (t) => {
  const before = stickyAssignment(['a', 'b', 'c'].map((memberId) => ({ memberId, owned: [] })), range(12));
  const after = stickyAssignment(claims(before, 'b'), range(12));
  assertComplete(t, after, 12);
  for (const id of ['a', 'c']) t.true(before.get(id)!.every((p) => after.get(id)!.includes(p)), `${id} kept its partitions`);
});

test('a joining node takes only its share; the others keep the rest', (t) => {
  const before = stickyAssignment(['a', 'b', 'c'].map((memberId) => ({ memberId, owned: [] })), range(12));
  const after = stickyAssignment([...claims(before), { memberId: 'd', owned: [] }], range(12));
  assertComplete(t, after, 12);
  t.is(after.get('d')!.length, 3);
  const moved = ['a', 'b', 'c'].flatMap((id) => before.get(id)!.filter((p) => !after.get(id)!.includes(p)));
  t.is(moved.length, 3, 'exactly the joiner\'s share moved');
});

test('conflicting, unknown and duplicated claims count for nothing', (t) => {
  const a = stickyAssignment(
    [
      { memberId: 'a', owned: [0, 1, 1, 99] },
      { memberId: 'b', owned: [1, 2] }, // 1 claimed twice (a paused node missed a rebalance)
      { memberId: 'c', owned: [-1] },
    ],
    range(6),
  );
  assertComplete(t, a, 6);
  t.true(a.get('a')!.includes(0));
  t.true(a.get('b')!.includes(2));
});

test('no members, no partitions', (t) => {
  t.is(stickyAssignment([], range(4)).size, 0);
  t.deepEqual([...stickyAssignment([{ memberId: 'a', owned: [3] }], [])], [['a', []]]);
});

test('property: always complete and balanced; a departure never moves a survivor\'s partitions', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 0, max: 40 }),
      fc.array(fc.array(fc.integer({ min: -2, max: 45 }), { maxLength: 12 }), { minLength: 8, maxLength: 8 }),
      fc.nat(7),
      (n, partitions, owned, leaver) => {
        const members = range(n).map((i) => ({ memberId: `m${i}`, owned: owned[i]! }));
        const a = stickyAssignment(members, range(partitions));
        const all = [...a.values()].flat().sort((x, y) => x - y);
        if (JSON.stringify(all) !== JSON.stringify(range(partitions))) return false;
        const c = counts(a);
        if (Math.max(...c) - Math.min(...c) > 1) return false;
        if (n < 2) return true;
        const gone = `m${leaver % n}`;
        const b = stickyAssignment(claims(a, gone), range(partitions));
        return [...b].every(([id, ps]) => a.get(id)!.every((p) => ps.includes(p)));
      },
    ),
  );
  t.pass();
});

test('the kafkajs assignor sends what this node holds and assigns from the members\' claims', async (t) => {
  const topic = 'tributary.control';
  const cluster = { findTopicPartitionMetadata: () => range(6).map((partitionId) => ({ partitionId })) };
  const [factory] = stickyAssigner(() => ({ [topic]: [4, 5] }));
  const assigner = factory!({ cluster: cluster as never, groupId: 'g', logger: undefined as never });
  const mine = assigner.protocol({ topics: [topic] });
  t.deepEqual(decodeClaims(mine.metadata), { [topic]: [4, 5] });
  const other = AssignerProtocol.MemberMetadata.encode({ version: 1, topics: [topic], userData: Buffer.from(JSON.stringify({ owned: { [topic]: [0, 1] } })) });
  const result = await assigner.assign({ members: [{ memberId: 'me', memberMetadata: mine.metadata }, { memberId: 'other', memberMetadata: other }], topics: [topic] });
  const decoded = new Map(result.map((r) => [r.memberId, AssignerProtocol.MemberAssignment.decode(r.memberAssignment)!.assignment[topic]]));
  t.is(decoded.get('me')!.length, 3);
  t.true([4, 5].every((p) => decoded.get('me')!.includes(p)));
  t.true([0, 1].every((p) => decoded.get('other')!.includes(p)));
});

test('unreadable join metadata (an older build, garbage) claims nothing', (t) => {
  t.deepEqual(decodeClaims(Buffer.from('garbage')), {});
  t.deepEqual(decodeClaims(AssignerProtocol.MemberMetadata.encode({ version: 0, topics: ['t'], userData: Buffer.alloc(0) })), {});
  t.deepEqual(decodeClaims(AssignerProtocol.MemberMetadata.encode({ version: 1, topics: ['t'], userData: Buffer.from('{"owned":{"t":["x",1.5,-1,2]}}') })), { t: [2] });
  t.deepEqual(decodeClaims(AssignerProtocol.MemberMetadata.encode({ version: 1, topics: ['t'], userData: Buffer.from('null') })), {});
});
