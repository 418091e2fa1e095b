// Fixes to kafkajs 2.2.4 (its last release; the project is unmaintained) applied once, when the
// node's Kafka module loads. Each one is a known, reported bug with a test of its own here.
//
// 1. Idle connections spin (kafkajs issues #1556, #1704; fix PRs #1667, #1768 never merged).
//    After every response, RequestQueue.scheduleCheckPendingRequests arms a timer even when no
//    request waits; with the default `throttledUntil = -1` its delay is negative, i.e. 1 ms, and
//    the timer re-arms itself forever. Every connection of every consumer therefore runs a 1 ms
//    timer loop for its whole life: with one consumer per integration, 1,000 integrations (2,000
//    connections) kept a core busy doing nothing. A check is only needed while requests wait
//    (they enter `pending` through `push`, which schedules one), so the fixed version schedules
//    nothing when the queue is empty, and otherwise waits out the throttle (at least 10 ms, as
//    kafkajs does, so a throttle ending this very millisecond is still checked: PR #1532).
import { createRequire } from 'node:module';

interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

const require = createRequire(import.meta.url);
const checkPendingIntervalMs = 10;
const marker = Symbol.for('tributary.kafkajs.fixed');

/** The RequestQueue class kafkajs uses for every broker connection. */
export function kafkajsRequestQueue(): { prototype: RequestQueueLike } {
  return require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueueLike };
}

export function scheduleCheckPendingRequests(this: RequestQueueLike): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const throttledFor = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    throttledFor > 0 ? throttledFor : checkPendingIntervalMs,
  );
}

/** Applies the fixes (idempotent). */
export function applyKafkajsFixes(): void {
  const proto = kafkajsRequestQueue().prototype as RequestQueueLike & { [marker]?: true };
  if (proto[marker]) return;
  proto.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  proto[marker] = true;
}
