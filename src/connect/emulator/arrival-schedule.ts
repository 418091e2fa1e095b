// When an app's events happen: sparse bursts separated by long silences for small apps, a
// Poisson stream for medium and large ones. Seeded, so a seed replays the same timeline.
import type { SizeTier } from './event-generator.js';
import { createPrng, mixSeed } from './prng.js';

/** Average events per second of each tier when the app does not set `rate`. */
export const defaultRatePerSec: Record<SizeTier, number> = { small: 0.1, medium: 50, large: 2_000 };

/** Mean gap between the events of one burst of a small app. */
const burstGapMs = 150;
const maxBurst = 20;

export interface ArrivalSchedule {
  /** The time of the next event; non-decreasing across calls. */
  peek(): number;
  /** Consumes the next event's time. */
  take(): number;
  /** Moves the timeline to `timeMs` without producing the events in between (they expired unseen). */
  jumpTo(timeMs: number): void;
}

export function createArrivalSchedule(options: { seed: number; size: SizeTier; ratePerSec: number; startMs: number }): ArrivalSchedule {
  const prng = createPrng(mixSeed(options.seed, 0x7173));
  const meanGapMs = 1_000 / options.ratePerSec;
  const bursty = options.size === 'small';
  let burstLeft = 0;
  const gap = (): number => {
    if (!bursty) return prng.exponential(meanGapMs);
    if (burstLeft > 0) {
      burstLeft -= 1;
      return prng.exponential(burstGapMs);
    }
    const size = prng.int(1, maxBurst);
    burstLeft = size - 1;
    // The silence keeps the long-run average at ratePerSec: one burst per `size` events.
    return prng.exponential(Math.max(meanGapMs * size - burstGapMs * (size - 1), 0));
  };
  let nextMs = options.startMs + gap();
  return {
    peek: () => nextMs,
    take: () => {
      const t = nextMs;
      nextMs += gap();
      return t;
    },
    jumpTo: (timeMs) => {
      burstLeft = 0;
      nextMs = Math.max(nextMs, timeMs);
    },
  };
}
