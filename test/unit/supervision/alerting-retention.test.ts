import test from 'ava';
import { RetentionWatch, type RetentionCheck } from '../../../src/supervision/alerting-retention.js';

const check = (atRisk: boolean, id = 'int-1', tier: RetentionCheck['tier'] = 'small'): RetentionCheck => ({ integrationId: id, appKey: 'app', tier, atRisk, backlog: 42, retentionMs: 72 * 3_600_000 });

test('retention risk pages once per integration, critical at any tier, and resolves after staying clear', (t) => {
  const w = new RetentionWatch({ source: 'trib', ratio: 0.5, severity: 'critical', resolveAfterMs: 1_000 });
  const [trigger] = w.observe([check(true), check(false, 'int-2', 'large')], 0);
  t.like(trigger, { action: 'trigger', dedupKey: 'trib:retention:int-1', severity: 'critical', class: 'integration.retention' });
  t.regex(trigger!.summary, /older than 50% of retention \(36 h of 72 h\); 42 events waiting/);
  t.deepEqual(w.observe([check(true)], 500), [], 'still at risk: no second page');
  t.deepEqual(w.observe([check(false)], 1_000), [], 'clear, inside the resolve window');
  t.deepEqual(w.observe([check(true)], 1_500), [], 'at risk again: the same page');
  t.deepEqual(w.observe([check(false)], 2_000), []);
  const [resolve] = w.observe([], 3_000);
  t.like(resolve, { action: 'resolve', dedupKey: 'trib:retention:int-1' });
  t.is(w.openCount, 0);
});
