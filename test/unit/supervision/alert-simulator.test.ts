import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { ConfigError } from '../../../src/errors.js';
import { simulateAlerts } from '../../../src/supervision/alert-simulator.js';
import { parseTrace } from '../../../src/supervision/trace-format.js';
import { formatGeneratedTrace, generateTrace, type ExpectedIncidents } from '../../../src/supervision/trace-generator.js';

const shippedTrace = 'bench/traces/fleet-24h.ndjson';
const shippedIncidents = 'bench/traces/fleet-24h.incidents.json';
const seed = 42;

test('the shipped trace is exactly what the generator makes from its seed', (t) => {
  const g = generateTrace({ seed });
  t.is(readFileSync(shippedTrace, 'utf8'), formatGeneratedTrace(g));
  t.deepEqual(JSON.parse(readFileSync(shippedIncidents, 'utf8')), g.expected);
  t.true(Buffer.byteLength(formatGeneratedTrace(g)) < 2 * 1024 * 1024);
});

test('the generator is deterministic per seed and builds the fleet the scenario describes', (t) => {
  const a = generateTrace({ seed: 7 });
  t.deepEqual(generateTrace({ seed: 7 }).reports, a.reports);
  t.notDeepEqual(generateTrace({ seed: 8 }).reports, a.reports);
  t.is(a.fleetSize, 500);
  t.is(a.end - a.start, 24 * 3_600_000);
  const g = generateTrace({ seed });
  t.deepEqual(g.expected.incidents.map((i) => i.id), ['large-sink-down', 'provider-outage', 'systemic-bug']);
  t.deepEqual(g.expected.noise.map((n) => n.id.replace(/-[a-z0-9]{12}$/, '')).sort(), ['bad-node', 'blips', ...Array(5).fill('misconfigured')].sort());
  const bug = g.reports.filter((r) => r.errorClass === 'fatal');
  t.is(new Set(bug.map((r) => r.integrationId)).size, 30);
  t.true(new Set(bug.map((r) => r.appKey)).size >= 10);
  t.deepEqual([...new Set(bug.map((r) => r.tier))].sort(), ['large', 'medium', 'small']);
  const misconfiguredApps = new Set(g.reports.filter((r) => r.errorClass === 'misconfiguration').map((r) => r.appKey));
  t.is(misconfiguredApps.size, 5);
});

function check(t: import('ava').ExecutionContext, s: number): void {
  const g = generateTrace({ seed: s });
  const events = parseTrace(formatGeneratedTrace(g));
  const r = simulateAlerts(events, { naive: true, expected: g.expected });
  const evaluation = r.evaluation!;
  t.deepEqual(evaluation.unexpectedTriggers, [], `seed ${s}: noise paged`);
  for (const inc of evaluation.incidents) {
    t.is(inc.triggers, 1, `seed ${s} ${inc.id}: exactly one page`);
    t.true(inc.triggerDelayMs! >= 0 && inc.triggerDelayMs! <= 60_000, `seed ${s} ${inc.id}: triggered ${inc.triggerDelayMs} ms after threshold`);
    t.true(inc.resolveDelayMs! >= 0 && inc.resolveDelayMs! <= 60_000, `seed ${s} ${inc.id}: resolved ${inc.resolveDelayMs} ms after recovery`);
  }
  t.true(evaluation.ok);
  t.is(r.summary.triggered, 3);
  t.is(r.summary.resolved, 3);
  t.is(r.summary.openAtEnd, 0);
  t.deepEqual(r.summary.byRule, { 'integration.large': 1, fleet: 1, systemic: 1 });
  // Misconfigured integrations told their customers, once each.
  const misconfigured = new Set(g.reports.filter((x) => x.errorClass === 'misconfiguration').map((x) => x.integrationId));
  t.is(r.summary.notifications, misconfigured.size);
  t.true(r.naive!.pagesPerFailure > 100 * r.summary.triggered, `naive: ${r.naive!.pagesPerFailure}`);
  t.true(r.naive!.pagesPerIntegrationEpisode > 100);
}

test('on the shipped trace: no page for noise, one page per real incident, on time, resolved on time', (t) => {
  const events = parseTrace(readFileSync(shippedTrace, 'utf8'));
  const expected = JSON.parse(readFileSync(shippedIncidents, 'utf8')) as ExpectedIncidents;
  const r = simulateAlerts(events, { naive: true, expected });
  t.true(r.evaluation!.ok, JSON.stringify(r.evaluation, null, 2));
  t.is(r.episodes.length, 3);
  t.log(`laconic: ${r.summary.triggered} pages; naive: ${r.naive!.pagesPerFailure} (every failure), ${r.naive!.pagesPerIntegrationEpisode} (per integration episode)`);
  for (const i of r.evaluation!.incidents) t.log(`${i.id}: +${i.triggerDelayMs} ms after threshold, resolved +${i.resolveDelayMs} ms after recovery`);
  check(t, seed);
});

test('other seeds give the same outcome: the policy is not tuned to one trace', (t) => {
  for (const s of [1, 2, 3, 1234, 99_999]) check(t, s);
});

test('a naive policy pages on the noise the laconic one ignores', (t) => {
  const g = generateTrace({ seed });
  const r = simulateAlerts(parseTrace(formatGeneratedTrace(g)), { naive: true });
  t.is(r.naive!.pagesPerFailure, g.reports.filter((x) => x.kind === 'failure').length);
  t.is(r.evaluation, undefined);
});

test('a coarser clock still meets the 60 s bounds; policy config reaches the simulator', (t) => {
  const g = generateTrace({ seed });
  const events = parseTrace(formatGeneratedTrace(g));
  t.true(simulateAlerts(events, { stepMs: 20_000, expected: g.expected }).evaluation!.ok);
  const off = simulateAlerts(events, { policy: { fleet: { enabled: false }, systemic: { enabled: false } }, expected: g.expected });
  // Without the fleet and systemic rules, every large integration caught in the outage or the bug pages on its own.
  t.deepEqual(Object.keys(off.summary.byRule), ['integration.large']);
  t.true(off.summary.byRule['integration.large']! > 3);
});

test('a trace with bad lines is rejected with each line number and reason', (t) => {
  const ok = { time: '2025-03-03T00:00:00.000Z', integration: 'i1', app: 'a1', tier: 'large', kind: 'failure', errorClass: 'retryable', fingerprint: 'x' };
  const lines = [
    JSON.stringify({ time: '2025-03-03T00:00:00.000Z', kind: 'fleet', total: 10 }),
    JSON.stringify(ok),
    '{not json',
    JSON.stringify({ ...ok, tier: 'huge' }),
    '',
    JSON.stringify({ ...ok, fingerprint: undefined }),
    JSON.stringify({ ...ok, time: 'yesterday' }),
    JSON.stringify({ ...ok, extra: 1 }),
    JSON.stringify({ ...ok, time: '2025-03-02T23:59:00.000Z' }),
    JSON.stringify({ ...ok, kind: 'fleet', total: -1 }),
  ];
  const err = t.throws(() => parseTrace(lines.join('\n'), 'trace t.ndjson'), { instanceOf: ConfigError });
  const paths = err!.issues.map((i) => i.path);
  t.true(paths.includes('line 3'));
  t.true(paths.includes('line 4: tier'));
  t.true(paths.includes('line 6: fingerprint'));
  t.true(paths.includes('line 7: time'));
  t.true(paths.includes('line 8: extra'));
  t.true(paths.includes('line 9: time'));
  t.true(paths.some((p) => p.startsWith('line 10')));
  t.regex(err!.message, /invalid trace t\.ndjson/);
  t.regex(err!.message, /line 3: not JSON/);
  t.regex(err!.message, /line 9: time: goes backwards/);
  t.regex(err!.message, /line 8: extra: unknown key/);
  const good = parseTrace(lines.slice(0, 2).join('\n'));
  t.is(good.length, 2);
  t.like(good[1], { type: 'report', line: 2, report: { integrationId: 'i1', appKey: 'a1', tier: 'large', time: Date.parse(ok.time) } });
});

test('`tributary simulate alerts` prints the pages as JSON and names bad trace lines', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-sim-'));
  try {
    const env = { ...process.env, TRIBUTARY_FROM_SOURCE: '1' };
    const run = spawnSync(process.execPath, ['bin/tributary.js', 'simulate', 'alerts', '--trace', shippedTrace, '--naive'], { env, encoding: 'utf8' });
    t.is(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { summary: { triggered: number }; naive: { pagesPerFailure: number }; evaluation: { ok: boolean } };
    t.is(out.summary.triggered, 3);
    t.true(out.evaluation.ok);
    t.true(out.naive.pagesPerFailure > 1_000);

    const bad = join(dir, 'bad.ndjson');
    writeFileSync(bad, '{"time":"2025-03-03T00:00:00Z","integration":"i","app":"a","tier":"large","kind":"failure","errorClass":"oops","fingerprint":"f"}\n');
    const rejected = spawnSync(process.execPath, ['bin/tributary.js', 'simulate', 'alerts', '--trace', bad], { env, encoding: 'utf8' });
    t.is(rejected.status, 2);
    t.regex(rejected.stderr, /line 1: errorClass/);

    const out2 = join(dir, 't.ndjson');
    const gen = spawnSync(process.execPath, ['bin/tributary.js', 'simulate', 'generate-trace', '--out', out2, '--seed', '42'], { env, encoding: 'utf8' });
    t.is(gen.status, 0, gen.stderr);
    t.is(readFileSync(out2, 'utf8'), readFileSync(shippedTrace, 'utf8'));
    t.deepEqual(JSON.parse(readFileSync(join(dir, 't.incidents.json'), 'utf8')), JSON.parse(readFileSync(shippedIncidents, 'utf8')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
