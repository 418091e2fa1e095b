import test from 'ava';
import { decide, emptyHistory, restartPolicySchema, type CrashHistory } from '../../../src/supervision/restart-policy.js';

const config = restartPolicySchema.parse({ initialDelayMs: 1000, multiplier: 3, maxDelayMs: 60_000, maxRestarts: 5, budgetWindowMs: 600_000, healthyAfterMs: 60_000 });
const noJitter = () => 0.5;

test('consecutive crashes back off ×3 from 1 s, capped', (t) => {
  let h: CrashHistory = emptyHistory;
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = decide({ ...config, maxRestarts: 100 }, h, { kind: 'retryable', message: 'x', at: i * 1000 }, noJitter);
    h = r.history;
    if (r.decision.type === 'restart') delays.push(r.decision.delayMs);
  }
  t.deepEqual(delays, [1000, 3000, 9000, 27000, 60000]);
});

test('a healthy run resets the backoff', (t) => {
  let r = decide(config, emptyHistory, { kind: 'fatal', message: 'x', at: 0 }, noJitter);
  r = decide(config, r.history, { kind: 'fatal', message: 'x', at: 1000 }, noJitter);
  t.is(r.decision.type === 'restart' && r.decision.delayMs, 3000);
  r = decide(config, r.history, { kind: 'fatal', message: 'x', at: 200_000 }, noJitter);
  t.is(r.decision.type === 'restart' && r.decision.delayMs, 1000);
});

test('past the restart budget the fault is escalated', (t) => {
  let h: CrashHistory = emptyHistory;
  const types: string[] = [];
  for (let i = 0; i < 7; i++) {
    const r = decide(config, h, { kind: 'retryable', message: 'boom', at: i * 10_000 }, noJitter);
    h = r.history;
    types.push(r.decision.type);
  }
  t.deepEqual(types, ['restart', 'restart', 'restart', 'restart', 'restart', 'escalate', 'escalate']);
  // Outside the window the budget is available again.
  const later = decide(config, h, { kind: 'retryable', message: 'boom', at: 10 * 60_000 + 70_000 }, noJitter);
  t.is(later.decision.type, 'restart');
});

test('misconfiguration halts, node faults escalate, permanent resumes', (t) => {
  t.deepEqual(decide(config, emptyHistory, { kind: 'misconfiguration', message: '401', at: 0 }).decision, { type: 'halt', reason: '401' });
  t.is(decide(config, emptyHistory, { kind: 'nodeFault', message: 'kafka', at: 0 }).decision.type, 'escalate');
  t.is(decide(config, emptyHistory, { kind: 'permanent', message: 'bad', at: 0 }).decision.type, 'resume');
});

test('jitter stays within ±20 % and never exceeds the cap', (t) => {
  for (const rnd of [0, 0.25, 0.999]) {
    const r = decide(config, emptyHistory, { kind: 'retryable', message: 'x', at: 0 }, () => rnd);
    t.true(r.decision.type === 'restart' && r.decision.delayMs >= 800 && r.decision.delayMs <= 1200);
  }
});
