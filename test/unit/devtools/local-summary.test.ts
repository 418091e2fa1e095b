import test from 'ava';
import { buildSummary, exitCodeOf, summarizeIntegration, summaryLines, type IntegrationEvidence } from '../../../src/devtools/local-summary.js';

const evidence = (over: Partial<IntegrationEvidence> = {}): IntegrationEvidence => ({
  id: 'demo-large',
  app: 'demo-large',
  tier: 'large',
  sink: 'webhook',
  status: 'running',
  servedIds: ['a', 'b', 'c'],
  deliveredIds: new Set(['a', 'b', 'c']),
  duplicates: 0,
  dlq: 0,
  ...over,
});

const input = (integrations: IntegrationEvidence[]) => ({
  ranMs: 60_000,
  integrations,
  node: { id: 'n1', health: { kafka: 'ok', dynamodb: 'ok' }, drained: true },
  pages: { opened: 1, resolved: 1, open: 0 },
  dataDir: '/d',
  logFile: '/d/node.log',
});

test('every served event delivered: ok, exit 0; extra deliveries and duplicates do not count against it', (t) => {
  const s = buildSummary(input([evidence({ deliveredIds: new Set(['a', 'b', 'c', 'older']), duplicates: 4 }), evidence({ id: 'demo-small', sink: 'file' })]));
  t.true(s.ok);
  t.deepEqual(s.problems, []);
  t.is(exitCodeOf(s), 0);
  t.like(s.integrations[0], { served: 3, delivered: 3, missing: 0, duplicates: 4, ok: true });
  t.like(s.pages, { opened: 1, resolved: 1 });
});

test('a served event not delivered fails the run and names the integration', (t) => {
  const s = buildSummary(input([evidence({ deliveredIds: new Set(['a']), dlq: 2 }), evidence({ id: 'demo-small' })]));
  t.false(s.ok);
  t.is(exitCodeOf(s), 1);
  t.like(s.integrations[0], { served: 3, delivered: 1, missing: 2, ok: false });
  t.deepEqual(s.integrations[0]!.missingSample, ['b', 'c']);
  t.deepEqual(s.problems, ['demo-large: 2 of 3 served events were not delivered (2 in the DLQ)']);
  t.true(summaryLines(s).some((l) => l.includes('NOT every served event')));
});

test('an integration that served nothing fails the smoke test; so does an empty run', (t) => {
  const s = buildSummary(input([evidence({ servedIds: [], deliveredIds: new Set() })]));
  t.false(s.ok);
  t.deepEqual(s.problems, ['demo-large: the emulator served no events']);
  t.false(buildSummary(input([])).ok);
});

test('served ids repeated by the emulator count once', (t) => {
  const r = summarizeIntegration(evidence({ servedIds: ['a', 'a', 'b'], deliveredIds: new Set(['a', 'b']) }));
  t.like(r, { served: 2, delivered: 2, missing: 0, ok: true });
});
