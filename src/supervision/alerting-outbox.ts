// The alerting service's outbox: page actions (and customer notifications) wait here until a
// send succeeds, retried on every tick. Order per key is kept (a resolve never overtakes its
// trigger) and a resolve is never dropped. Pure apart from the `send` it is given.

export interface OutboxEntry<T> {
  readonly item: T;
  readonly key: string;
  /** Resolves must survive overflow; triggers may be shed. */
  readonly precious: boolean;
  readonly enqueuedAt: number;
  attempts: number;
  lastError: string | undefined;
}

export type SendResult = 'sent' | 'retry' | 'drop';

export interface FlushReport<T> {
  sent: T[];
  failed: { item: T; error: string; attempts: number }[];
  dropped: { item: T; error: string }[];
}

export class Outbox<T> {
  private entries: OutboxEntry<T>[] = [];
  /** Entries shed because the outbox was full. */
  shed = 0;

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.length;
  }

  pending(): readonly OutboxEntry<T>[] {
    return this.entries;
  }

  add(item: T, key: string, precious: boolean, now: number): void {
    this.entries.push({ item, key, precious, enqueuedAt: now, attempts: 0, lastError: undefined });
    while (this.entries.length > this.maxEntries) {
      const i = this.entries.findIndex((e) => !e.precious);
      if (i === -1) break; // only resolves left: keep them all
      this.entries.splice(i, 1);
      this.shed += 1;
    }
  }

  /**
   * Sends entries oldest first. When an entry of a key fails, the later entries of that key
   * wait (order per key); other keys go on. `send` returns `drop` for a permanent refusal.
   */
  async flush(send: (item: T) => Promise<SendResult | { result: SendResult; error: string }>): Promise<FlushReport<T>> {
    const report: FlushReport<T> = { sent: [], failed: [], dropped: [] };
    const blocked = new Set<string>();
    const keep: OutboxEntry<T>[] = [];
    const snapshot = new Set(this.entries);
    for (const e of snapshot) {
      if (blocked.has(e.key)) {
        keep.push(e);
        continue;
      }
      e.attempts += 1;
      let outcome: { result: SendResult; error: string };
      try {
        const r = await send(e.item);
        outcome = typeof r === 'string' ? { result: r, error: '' } : r;
      } catch (err) {
        outcome = { result: 'retry', error: (err as Error)?.message ?? String(err) };
      }
      if (outcome.result === 'sent') report.sent.push(e.item);
      else if (outcome.result === 'drop') report.dropped.push({ item: e.item, error: outcome.error });
      else {
        e.lastError = outcome.error;
        blocked.add(e.key);
        keep.push(e);
        report.failed.push({ item: e.item, error: outcome.error, attempts: e.attempts });
      }
    }
    // Entries added while flushing (by a report arriving mid-flush) stay after the kept ones.
    const current = new Set(this.entries);
    this.entries = [...keep.filter((e) => current.has(e)), ...this.entries.filter((e) => !snapshot.has(e))];
    return report;
  }
}
