// Groups items into batches by count, bytes and linger time. Pure: the caller owns the clock
// and the timer, so the same logic serves the source (Connect → Kafka) and the sink (→ third party).

export interface BatchLimits {
  maxCount: number;
  maxBytes: number;
  lingerMs: number;
}

export class Batcher<T> {
  private items: T[] = [];
  private bytes = 0;
  private firstAt = 0;

  constructor(private readonly limits: BatchLimits) {}

  /**
   * Adds an item; returns the batches it closed (none, one, or two when an oversized item
   * closes the open batch and then fills one alone). An item that would push the batch past
   * maxBytes closes the open batch first, so a batch exceeds maxBytes only when one item does.
   */
  add(item: T, size: number, now: number): T[][] {
    const out: T[][] = [];
    if (this.items.length > 0 && this.bytes + size > this.limits.maxBytes) out.push(this.take());
    if (this.items.length === 0) this.firstAt = now;
    this.items.push(item);
    this.bytes += size;
    if (this.items.length >= this.limits.maxCount || this.bytes >= this.limits.maxBytes) out.push(this.take());
    return out;
  }

  /** Milliseconds until the open batch is due, or undefined when empty. */
  dueIn(now: number): number | undefined {
    if (this.items.length === 0) return undefined;
    return Math.max(0, this.firstAt + this.limits.lingerMs - now);
  }

  /** Takes the open batch if its linger elapsed (or `force`). */
  flush(now: number, force = false): T[] | undefined {
    if (this.items.length === 0) return undefined;
    if (!force && now < this.firstAt + this.limits.lingerMs) return undefined;
    return this.take();
  }

  get size(): number {
    return this.items.length;
  }

  private take(): T[] {
    const out = this.items;
    this.items = [];
    this.bytes = 0;
    return out;
  }
}
