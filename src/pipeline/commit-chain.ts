// One partition's commits, made in order while the sink delivers its next chunk. A commit is a
// broker round trip; awaited after every chunk it left the partition idle for that long. Commits
// still only move past what was delivered or dead-lettered (I2): each is pushed after its chunk.

export class CommitChain {
  /** The newest position pushed and not yet being committed: older ones it covers are skipped. */
  private pending: string | undefined;
  /** A commit step is scheduled and has not taken `pending` yet. */
  private queued = false;
  /** The last scheduled step; it never rejects (a failure is kept in `failure`). */
  private tail: Promise<void> = Promise.resolve();
  /** While a step is queued: the step before it (the commit in flight). */
  private inFlight: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;

  constructor(private readonly commit: (done: string) => Promise<void>) {}

  /** Commits through `done` after the commits pushed before it (only the newest waiting one is sent). */
  push(done: string): void {
    if (this.failure) return;
    this.pending = done;
    if (this.queued) return;
    this.queued = true;
    this.inFlight = this.tail;
    this.tail = this.tail.then(async () => {
      this.queued = false;
      const next = this.pending;
      this.pending = undefined;
      // The first failure stands; nothing after it is committed.
      if (next === undefined || this.failure) return;
      try {
        await this.commit(next);
      } catch (error) {
        this.failure = { error };
      }
    });
  }

  /**
   * Resolves once no position waits behind the commit in flight. Awaited before each chunk, it
   * keeps a sink at most one chunk ahead of its commits: a crash re-sends at most the chunk whose
   * commit was in flight and the one being delivered.
   */
  async ready(): Promise<void> {
    while (this.queued) await this.inFlight;
  }

  /** Throws the failure of a commit made in the background, if one failed. */
  check(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Resolves once every pushed position is committed; throws the first commit's failure. */
  async settle(): Promise<void> {
    let tail: Promise<void>;
    do {
      tail = this.tail;
      await tail;
    } while (tail !== this.tail);
    this.check();
  }
}
