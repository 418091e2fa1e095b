// The end-to-end canary's judgement (docs/alerting.md "Canary"), pure: time comes in. A canary is
// an integration whose spec sets `options.canary`: a steady synthetic app (an emulator app in the
// cluster) delivered to a receiver. Every delivered batch brings its worst latency (delivery time
// minus the event's Connect `processed` time); each sample turns what was seen since the last one
// into at most one transition. Over the bound, or nothing delivered for `maxSilenceMs`, is a
// failure; a batch within the bound after that is the recovery. Paging is the guardian's business:
// the failure is an ordinary failure report of the integration, judged by its tier's threshold.

export interface CanaryBounds {
  /** A delivered event older than this (since Connect processed it) is a failure. */
  maxLatencyMs: number;
  /** No event delivered for this long is a failure (the canary's app emits steadily). */
  maxSilenceMs: number;
}

export type CanaryReason = 'latency' | 'silence';

export type CanaryVerdict =
  | { type: 'failure'; reason: CanaryReason; time: number; message: string; fingerprint: string }
  | { type: 'recovery'; time: number };

export const canaryFingerprint = (reason: CanaryReason, sinkType: string): string =>
  reason === 'latency'
    ? `retryable|canary_latency|${sinkType}|canary events delivered later than the bound`
    : `retryable|canary_silent|${sinkType}|no canary event delivered within the bound`;

export class CanaryWatch {
  private lastDeliveryAt: number;
  private worstSinceSample: number | undefined;
  private failing: CanaryReason | undefined;

  /** `now`: when watching began (silence counts from here until the first delivery). */
  constructor(
    readonly bounds: CanaryBounds,
    private readonly sinkType: string,
    now: number,
  ) {
    this.lastDeliveryAt = now;
  }

  get isFailing(): boolean {
    return this.failing !== undefined;
  }

  /** A batch reached the receiver at `now`; `latencyMs` is its oldest event's age. */
  delivered(now: number, latencyMs: number): void {
    this.lastDeliveryAt = Math.max(this.lastDeliveryAt, now);
    this.worstSinceSample = Math.max(this.worstSinceSample ?? 0, latencyMs);
  }

  /** Judges what was delivered since the last sample; returns a transition, if any. */
  sample(now: number): CanaryVerdict | undefined {
    const worst = this.worstSinceSample;
    this.worstSinceSample = undefined;
    if (worst !== undefined && worst > this.bounds.maxLatencyMs) {
      return this.fail('latency', now, `canary events delivered ${Math.round(worst)} ms after Connect processed them (bound ${this.bounds.maxLatencyMs} ms)`);
    }
    if (worst !== undefined) {
      if (this.failing === undefined) return undefined;
      this.failing = undefined;
      return { type: 'recovery', time: now };
    }
    const silentFor = now - this.lastDeliveryAt;
    if (silentFor > this.bounds.maxSilenceMs && this.failing === undefined) {
      // Stamped when the silence passed its bound, so the tier's threshold counts from there.
      return this.fail('silence', this.lastDeliveryAt + this.bounds.maxSilenceMs, `no canary event delivered for ${Math.round(silentFor / 1000)} s (bound ${this.bounds.maxSilenceMs} ms)`);
    }
    return undefined;
  }

  private fail(reason: CanaryReason, time: number, message: string): CanaryVerdict | undefined {
    // One report per reason: a canary that stays late is one episode, not a report per sample.
    if (this.failing === reason) return undefined;
    this.failing = reason;
    return { type: 'failure', reason, time, message, fingerprint: canaryFingerprint(reason, this.sinkType) };
  }
}
