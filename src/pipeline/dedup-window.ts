// A bounded window of recently seen event ids, so re-sent events (source restarts, Connect's
// own duplicates) are delivered once. Memory is bounded by `capacity` ids (~100 B each).

export class DedupWindow {
  private readonly ids = new Set<string>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  /** True when the id was already in the window; otherwise records it and returns false. */
  seen(id: string): boolean {
    if (this.ids.has(id)) return true;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      // Sets iterate in insertion order: the first is the oldest.
      const oldest = this.ids.values().next().value as string;
      this.ids.delete(oldest);
    }
    return false;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Records a delivered id, evicting the oldest beyond capacity. */
  add(id: string): void {
    this.seen(id);
  }

  /** Forgets every id: a replay must deliver again what was delivered before. */
  clear(): void {
    this.ids.clear();
  }

  /** Forgets an id (its delivery failed, so a retry must not be taken for a duplicate). */
  forget(id: string): void {
    this.ids.delete(id);
  }

  get size(): number {
    return this.ids.size;
  }
}
