// The `tributary.nodes` group's partition assignor: balanced like round-robin, but sticky. Each
// node tells the group leader, in its join metadata, which control partitions it holds now; the
// leader lets every node keep what it holds up to its fair share and hands out only the rest.
// With kafkajs's round-robin assignor every rebalance reshuffled all partitions, so a node's death
// also stopped and restarted integrations on the surviving nodes (slower failover, more
// duplicates). Now only the dead node's partitions move, and a joining node takes only its share.
import { AssignerProtocol, PartitionAssigners, type Assigner, type PartitionAssigner } from 'kafkajs';

export interface MemberClaim {
  memberId: string;
  /** Partitions the member says it holds (from its join metadata; may be stale or conflicting). */
  owned: readonly number[];
}

/**
 * Pure: assigns `partitions` to `members` so that counts differ by at most one and every member
 * keeps as many of the partitions it holds as its share allows. A partition claimed by two
 * members (one of them a paused node that missed a rebalance) counts as held by neither.
 */
export function stickyAssignment(members: readonly MemberClaim[], partitions: readonly number[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  if (members.length === 0) return out;
  const all = [...new Set(partitions)].sort((a, b) => a - b);
  const exists = new Set(all);
  const claimants = new Map<number, number>();
  const held = new Map<string, number[]>();
  for (const m of members) {
    const mine = [...new Set(m.owned)].filter((p) => exists.has(p)).sort((a, b) => a - b);
    held.set(m.memberId, mine);
    for (const p of mine) claimants.set(p, (claimants.get(p) ?? 0) + 1);
  }
  for (const [id, mine] of held) held.set(id, mine.filter((p) => claimants.get(p) === 1));

  // Members holding the most get the larger shares: fewer partitions move.
  const order = [...members]
    .map((m) => m.memberId)
    .sort((a, b) => held.get(b)!.length - held.get(a)!.length || (a < b ? -1 : a > b ? 1 : 0));
  const base = Math.floor(all.length / order.length);
  const extra = all.length % order.length;
  const share = new Map(order.map((id, i) => [id, base + (i < extra ? 1 : 0)]));

  const taken = new Set<number>();
  for (const id of order) {
    const kept = held.get(id)!.slice(0, share.get(id));
    kept.forEach((p) => taken.add(p));
    out.set(id, kept);
  }
  const free = all.filter((p) => !taken.has(p));
  for (const id of order) {
    const mine = out.get(id)!;
    while (mine.length < share.get(id)!) mine.push(free.shift()!);
    mine.sort((a, b) => a - b);
  }
  return out;
}

const NAME = 'TributarySticky';
const VERSION = 1;

/** Reads a member's claims from its join metadata; anything unreadable claims nothing. */
export function decodeClaims(metadata: Buffer): Record<string, number[]> {
  try {
    const meta = AssignerProtocol.MemberMetadata.decode(metadata);
    if (!meta?.userData?.length) return {};
    const parsed: unknown = JSON.parse(meta.userData.toString('utf8'));
    const owned = (parsed as { owned?: unknown } | null)?.owned;
    if (typeof owned !== 'object' || owned === null) return {};
    const claims: Record<string, number[]> = {};
    for (const [topic, ps] of Object.entries(owned)) {
      if (Array.isArray(ps)) claims[topic] = ps.filter((p): p is number => Number.isInteger(p) && p >= 0);
    }
    return claims;
  } catch {
    return {};
  }
}

/**
 * The kafkajs assignor. `held()` names the partitions this member holds per topic, sent along
 * when it joins. List round-robin after it: during a rolling upgrade from a build without this
 * assignor, the group keeps using round-robin until every node offers the sticky one.
 */
export function stickyAssigner(held: () => Record<string, readonly number[]>): PartitionAssigner[] {
  const sticky: PartitionAssigner = ({ cluster }) => {
    const assigner: Assigner = {
      name: NAME,
      version: VERSION,
      async assign({ members, topics }) {
        const perMember = new Map<string, Record<string, number[]>>(members.map((m) => [m.memberId, {}]));
        for (const topic of topics) {
          const partitions = cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId);
          const claims = members.map((m) => ({ memberId: m.memberId, owned: decodeClaims(m.memberMetadata)[topic] ?? [] }));
          for (const [memberId, ps] of stickyAssignment(claims, partitions)) perMember.get(memberId)![topic] = ps;
        }
        return [...perMember].map(([memberId, assignment]) => ({
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: VERSION, assignment, userData: Buffer.alloc(0) }),
        }));
      },
      protocol({ topics }) {
        const owned = held();
        const userData = Buffer.from(JSON.stringify({ owned: Object.fromEntries(topics.map((t) => [t, [...(owned[t] ?? [])]])) }));
        return { name: NAME, metadata: AssignerProtocol.MemberMetadata.encode({ version: VERSION, topics, userData }) };
      },
    };
    return assigner;
  };
  return [sticky, PartitionAssigners.roundRobin];
}
