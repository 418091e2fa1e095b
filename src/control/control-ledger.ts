// What a node should run, derived from the control partitions the `tributary.nodes` group gives
// it. Pure: fed assignments, records and clock ticks, it returns actions for the executor.
// After each assignment every partition is read from its beginning (the node never commits in
// that group) and only the newest record per key is acted on once the partition is read to the
// high watermark seen at assignment: older, not yet compacted versions never start anything.
import { positionOf, type ControlRecord, type Decoded } from './control-record.js';

export interface PartitionOffsets {
  low: string;
  high: string;
}

type SpecDecoded = Extract<Decoded, { kind: 'spec' }>;
type InvalidDecoded = Extract<Decoded, { kind: 'invalid' }>;

export type LedgerAction =
  /** Stop these integrations here (their partition went to another node, or their key is gone). */
  | { type: 'stop'; ids: string[]; reason: string }
  | { type: 'apply'; record: ControlRecord; decoded: SpecDecoded }
  | { type: 'delete'; record: ControlRecord; id: string }
  | { type: 'reject'; record: ControlRecord; decoded: InvalidDecoded };

export interface AssignmentDiff {
  lost: number[];
  gained: number[];
  kept: number[];
}

export function diffAssignment(previous: readonly number[], next: readonly number[]): AssignmentDiff {
  const before = new Set(previous);
  const after = new Set(next);
  const sort = (xs: number[]) => xs.sort((a, b) => a - b);
  return {
    lost: sort([...before].filter((p) => !after.has(p))),
    gained: sort([...after].filter((p) => !before.has(p))),
    kept: sort([...after].filter((p) => before.has(p))),
  };
}

interface Entry {
  latest: { record: ControlRecord; decoded: Decoded };
  lastGood?: { record: ControlRecord; decoded: SpecDecoded };
}

type PartitionState =
  | { mode: 'rebuilding'; target: bigint; lastProgressAt: number; entries: Map<string, Entry>; keyless: { record: ControlRecord; decoded: InvalidDecoded }[] }
  | { mode: 'live' };

export class ControlLedger {
  private readonly partitions = new Map<number, PartitionState>();
  /** Integrations this ledger told the executor to run, by control partition. */
  private readonly placed = new Map<string, number>();

  constructor(private readonly decode: (r: ControlRecord) => Decoded) {}

  assigned(): number[] {
    return [...this.partitions.keys()].sort((a, b) => a - b);
  }

  owns(partition: number): boolean {
    return this.partitions.has(partition);
  }

  isLive(partition: number): boolean {
    return this.partitions.get(partition)?.mode === 'live';
  }

  /** Every assigned partition has been read to its end. */
  settled(): boolean {
    return [...this.partitions.values()].every((p) => p.mode === 'live');
  }

  placement(): ReadonlyMap<string, number> {
    return this.placed;
  }

  /**
   * A new assignment (every rebalance). Integrations of lost partitions are stopped first; every
   * assigned partition is then rebuilt from its beginning up to `offsets[p].high`.
   */
  assign(next: readonly number[], offsets: ReadonlyMap<number, PartitionOffsets>, now: number): LedgerAction[] {
    const { lost } = diffAssignment(this.assigned(), next);
    const actions: LedgerAction[] = [];
    const lostSet = new Set(lost);
    const stopped = [...this.placed].filter(([, p]) => lostSet.has(p) || !next.includes(p)).map(([id]) => id);
    for (const id of stopped) this.placed.delete(id);
    if (stopped.length) actions.push({ type: 'stop', ids: stopped.sort(), reason: 'its control partition moved to another node' });
    this.partitions.clear();
    for (const p of next) {
      const o = offsets.get(p);
      const target = o ? BigInt(o.high) : 0n;
      this.partitions.set(p, { mode: 'rebuilding', target, lastProgressAt: now, entries: new Map(), keyless: [] });
      if (!o || BigInt(o.high) <= BigInt(o.low)) actions.push(...this.finish(p));
    }
    return actions;
  }

  record(r: ControlRecord, now: number): LedgerAction[] {
    const state = this.partitions.get(r.partition);
    if (!state) return []; // a fetch from before the last rebalance
    const decoded = this.decode(r);
    if (state.mode === 'live') return this.act(r, decoded);
    state.lastProgressAt = now;
    if (decoded.kind === 'invalid' && decoded.id === null) state.keyless.push({ record: r, decoded });
    else {
      const key = decoded.id!;
      const entry: Entry = state.entries.get(key) ?? { latest: { record: r, decoded } };
      entry.latest = { record: r, decoded };
      if (decoded.kind === 'spec') entry.lastGood = { record: r, decoded };
      if (decoded.kind === 'tombstone') delete entry.lastGood;
      // Re-insert so flush order follows the newest write.
      state.entries.delete(key);
      state.entries.set(key, entry);
    }
    return BigInt(r.offset) + 1n >= state.target ? this.finish(r.partition) : [];
  }

  /** Partitions whose tail was compacted away never show their last offset: idle means read. */
  tick(now: number, idleMs: number): LedgerAction[] {
    const actions: LedgerAction[] = [];
    for (const [p, s] of this.partitions) {
      if (s.mode === 'rebuilding' && now - s.lastProgressAt >= idleMs) actions.push(...this.finish(p));
    }
    return actions;
  }

  /** Forget an integration the executor stopped on its own (fenced by a newer owner). */
  forget(id: string): void {
    this.placed.delete(id);
  }

  private finish(partition: number): LedgerAction[] {
    const state = this.partitions.get(partition);
    if (!state || state.mode !== 'rebuilding') return [];
    this.partitions.set(partition, { mode: 'live' });
    const actions: LedgerAction[] = [];
    for (const k of state.keyless) actions.push({ type: 'reject', record: k.record, decoded: k.decoded });
    const present = new Set<string>();
    for (const [id, e] of state.entries) {
      present.add(id);
      const { record, decoded } = e.latest;
      if (decoded.kind === 'invalid' && e.lastGood) {
        // The newest write is bad: the last good spec still in the log keeps running.
        actions.push(...this.act(e.lastGood.record, e.lastGood.decoded));
        actions.push({ type: 'reject', record, decoded });
      } else actions.push(...this.act(record, decoded));
    }
    const gone = [...this.placed].filter(([id, p]) => p === partition && !present.has(id)).map(([id]) => id);
    for (const id of gone) this.placed.delete(id);
    if (gone.length) actions.push({ type: 'stop', ids: gone.sort(), reason: 'no longer on the control topic' });
    return actions;
  }

  private act(record: ControlRecord, decoded: Decoded): LedgerAction[] {
    switch (decoded.kind) {
      case 'spec':
        this.placed.set(decoded.id, record.partition);
        return [{ type: 'apply', record, decoded }];
      case 'tombstone':
        this.placed.delete(decoded.id);
        return [{ type: 'delete', record, id: decoded.id }];
      case 'invalid':
        return [{ type: 'reject', record, decoded }];
    }
  }
}

export { positionOf };
