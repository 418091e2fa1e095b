// A bounded window of recently seen event ids, so re-sent events (source restarts, Connect's
// own duplicates) are delivered once. Memory is bounded by `capacity` ids (~100 B each).
//
// The oldest id leaves through a ring of insertion slots, O(1) per event. (Evicting through a
// Set's first element was O(deleted ids) per eviction: V8 skips every deleted entry until the
// table is rebuilt. At the large tier's 200,000 ids that cost ~126 µs per delivered event once the
// window was full: bench/dedup-window.ts, BENCHMARKS.md "dedup window".)

export class DedupWindow {
  /** Each id in the window → the insertion number it was recorded at. */
  private readonly ids = new Map<string, number>();
  /** Recorded ids by insertion number; once `capacity` were recorded, slot n % capacity is reused. */
  private readonly order: string[] = [];
  private inserted = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  /** True when the id is in the window; otherwise records it (the oldest recorded id leaves) and returns false. */
  seen(id: string): boolean {
    if (this.ids.has(id)) return true;
    if (this.inserted < this.capacity) this.order.push(id);
    else {
      const slot = this.inserted % this.capacity;
      const oldest = this.order[slot]!;
      // Unless it was forgotten (and maybe recorded again since, in another slot).
      if (this.ids.get(oldest) === this.inserted - this.capacity) this.ids.delete(oldest);
      this.order[slot] = id;
    }
    this.ids.set(id, this.inserted);
    this.inserted += 1;
    return false;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Records a delivered id; the window keeps the last `capacity` recorded. */
  add(id: string): void {
    this.seen(id);
  }

  /** Forgets every id: a replay must deliver again what was delivered before. */
  clear(): void {
    this.ids.clear();
    this.order.length = 0;
    this.inserted = 0;
  }

  /** Forgets an id (its delivery failed, so a retry must not be taken for a duplicate). */
  forget(id: string): void {
    this.ids.delete(id);
  }

  get size(): number {
    return this.ids.size;
  }
}
