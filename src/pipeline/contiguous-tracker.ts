// Tracks work started in order and finished in any order, and yields the position of the last
// item of the finished prefix. The one mechanism behind both "offsets move only past what is
// safe" rules: the source's checkpoint (Kafka acks) and the sink's commit (delivered or DLQ'd).

export class ContiguousTracker<P> {
  private readonly positions: (P | undefined)[] = [];
  private readonly done: boolean[] = [];
  /** Ticket of positions[0]. */
  private base = 0;
  private head = 0;
  private last: P | undefined;

  /** Registers the next item (in start order) and returns its ticket. */
  add(position: P): number {
    this.positions.push(position);
    this.done.push(false);
    return this.base + this.positions.length - 1;
  }

  /** Marks an item finished. Returns true when the watermark moved. Unknown or repeated tickets are ignored. */
  complete(ticket: number): boolean {
    const i = ticket - this.base;
    if (i < this.head || i >= this.done.length || this.done[i]) return false;
    this.done[i] = true;
    let moved = false;
    while (this.head < this.done.length && this.done[this.head]) {
      this.last = this.positions[this.head];
      this.positions[this.head] = undefined;
      this.head += 1;
      moved = true;
    }
    // Compact now and then so memory follows the number of pending items, not the total seen.
    if (this.head > 1024 && this.head * 2 > this.done.length) {
      this.positions.splice(0, this.head);
      this.done.splice(0, this.head);
      this.base += this.head;
      this.head = 0;
    }
    return moved;
  }

  /** Position of the last item of the completed prefix; undefined until the first one completes. */
  get watermark(): P | undefined {
    return this.last;
  }

  /** Items started and not yet part of the completed prefix. */
  get pending(): number {
    return this.done.length - this.head;
  }
}
