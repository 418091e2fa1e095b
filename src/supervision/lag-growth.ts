// "Consumed slower than produced": judges one integration's backlog from cumulative arrival
// (produced to Kafka) and consumption (delivered, dead-lettered or deduplicated) counts. Pure:
// samples and time come in, one failure and one recovery per episode come out.

export interface LagGrowthOptions {
  /** Growth is measured over this sliding window (arrivals − consumption within it). */
  windowMs: number;
  /** The backlog must keep growing this long (every window in it) before a failure. */
  thresholdMs: number;
  /** A window counts as growing only when the backlog grew by at least this many events … */
  minGrowthEvents: number;
  /** … and by at least this share of the window's arrivals (jitter on a busy stream is not growth). */
  minGrowthRatio: number;
}

/** Cumulative counts since the detector's owner started counting; both only go up. */
export interface FlowSample {
  time: number;
  produced: number;
  consumed: number;
}

export interface LagGrowthReport {
  type: 'failure' | 'recovery';
  /** Failure: when the growth began (the start of the first growing window). Recovery: now. */
  time: number;
  /** Backlog growth over the last window, and the two rates (events/s) that made it. */
  growth: number;
  arrivalRate: number;
  deliveryRate: number;
}

/** The counts a node keeps per integration for its detector: the tasks add, the actor samples. */
export interface FlowCounter {
  produced: number;
  consumed: number;
}

export class LagGrowthDetector {
  private samples: FlowSample[] = [];
  private growingSince: number | undefined;
  private failing = false;

  constructor(private readonly o: LagGrowthOptions) {}

  get isFailing(): boolean {
    return this.failing;
  }

  /**
   * Adds one sample (times non-decreasing) and returns a report when the state flips: a failure
   * once the backlog has grown in every window for `thresholdMs`, a recovery once a window
   * no longer shows growth. Nothing is judged until the samples span one full window.
   */
  observe(s: FlowSample): LagGrowthReport | undefined {
    const last = this.samples[this.samples.length - 1];
    if (last !== undefined && s.time < last.time) return undefined;
    this.samples.push(s);
    const start = s.time - this.o.windowMs;
    // Keep the newest sample at or before the window's start: it anchors the window.
    while (this.samples.length > 2 && this.samples[1]!.time <= start) this.samples.shift();
    const anchor = this.samples[0]!;
    if (anchor.time > start || anchor === s) return undefined;
    const seconds = Math.max(1, s.time - anchor.time) / 1_000;
    const arrivals = s.produced - anchor.produced;
    const consumption = s.consumed - anchor.consumed;
    const growth = arrivals - consumption;
    const stats = { growth, arrivalRate: arrivals / seconds, deliveryRate: consumption / seconds };
    const growing = growth >= this.o.minGrowthEvents && growth >= this.o.minGrowthRatio * arrivals;
    if (growing) {
      this.growingSince ??= anchor.time;
      if (!this.failing && s.time - this.growingSince >= this.o.thresholdMs) {
        this.failing = true;
        return { type: 'failure', time: this.growingSince, ...stats };
      }
      return undefined;
    }
    this.growingSince = undefined;
    if (!this.failing) return undefined;
    this.failing = false;
    return { type: 'recovery', time: s.time, ...stats };
  }
}

export const lagGrowthFingerprint = (sinkType: string): string => `retryable|sink_slower_than_arrivals|${sinkType}|backlog growing: events arrive faster than the sink delivers`;

export function lagGrowthMessage(r: LagGrowthReport, now: number): string {
  return (
    `backlog growing for ${Math.round((now - r.time) / 1_000)} s: events arrive at ${r.arrivalRate.toFixed(1)}/s, ` +
    `the sink delivers ${r.deliveryRate.toFixed(1)}/s (+${r.growth} in the last window)`
  );
}
