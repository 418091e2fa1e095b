// A fixed-capacity ring of consecutive offsets: the retention window of one app's stream.
// Lookup by offset is O(1) because an app's offsets are consecutive integers.

export class RetainedLog<T> {
  /** Grows to `capacity` before wrapping, so a thousand idle apps cost almost nothing. */
  private items: T[] = [];
  private start = 0;
  private size = 0;
  /** Offset of the item at `start`; the offset the next push receives is firstOffset + size. */
  private firstOffset: number;

  constructor(readonly capacity: number, firstOffset: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.firstOffset = firstOffset;
  }

  /** The oldest retained offset (equals nextOffset when empty). */
  get oldestOffset(): number {
    return this.firstOffset;
  }

  /** The offset the next pushed item will receive. */
  get nextOffset(): number {
    return this.firstOffset + this.size;
  }

  get length(): number {
    return this.size;
  }

  push(item: T): number {
    const offset = this.nextOffset;
    if (this.size === this.capacity) {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
      this.firstOffset += 1;
    } else {
      // Until the ring is first full, start is 0 and items.length equals size.
      this.items.push(item);
      this.size += 1;
    }
    return offset;
  }

  /**
   * Advances the offsets by `count` without storing anything: those events expired unseen.
   * The window is emptied too, since everything retained is older than the skipped events.
   */
  skip(count: number): void {
    if (count <= 0) return;
    const nextOffset = this.nextOffset + count;
    this.items = [];
    this.start = 0;
    this.size = 0;
    this.firstOffset = nextOffset;
  }

  get(offset: number): T | undefined {
    const i = offset - this.firstOffset;
    if (i < 0 || i >= this.size) return undefined;
    return this.items[(this.start + i) % this.capacity];
  }

  *values(): IterableIterator<T> {
    for (let i = 0; i < this.size; i++) yield this.items[(this.start + i) % this.capacity]!;
  }
}
