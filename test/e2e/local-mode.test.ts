// `tributary local --duration 40s --json` as a user runs it (a child process), against the
// suite's Kafka and DynamoDB (KAFKA_BROKERS / DYNAMODB_ENDPOINT), with its own control topic,
// state table and directory so it clashes with nothing: exit 0 and events delivered for all
// three demo integrations.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalSummary } from '../../src/devtools/local-summary.js';
import { brokers, dynamoEndpoint, uniq } from '../helpers/infra.js';

test('tributary local --duration 40s --json delivers every served event for the three demo integrations', async (t) => {
  const run = uniq('local');
  const dir = mkdtempSync(join(tmpdir(), 'tributary-local-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const child = spawn(process.execPath, ['bin/tributary.js', 'local', '--duration', '40s', '--json', '--control-topic', `${run}.control`, '--dir', dir], {
    env: { ...process.env, KAFKA_BROKERS: brokers().join(','), DYNAMODB_ENDPOINT: dynamoEndpoint(), TRIBUTARY_STATE_TABLE: `${run}-state` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(killer);
  t.log(stderr.split('\n').filter((l) => /^\[(\d\/4|drain|stop)\]|^Stopped/.test(l)).join('\n'));
  t.is(code, 0, stderr);
  const summary = JSON.parse(stdout) as LocalSummary;
  t.true(summary.ok);
  t.deepEqual(summary.integrations.map((i) => [i.id, i.sink]), [
    ['demo-small', 'file'],
    ['demo-medium', 'webhook'],
    ['demo-large', 'webhook'],
  ]);
  for (const i of summary.integrations) {
    t.true(i.served > 0, `${i.id} served events`);
    t.is(i.delivered, i.served, `${i.id}: every served event delivered`);
    t.is(i.missing, 0);
    // As the run ended, before the drain stopped Connect (after that every source reads failing).
    t.is(i.status, 'running', `${i.id}'s status in the summary`);
  }
  // Rough rates: 500/s for 40 s is well above 5 000 even on a slow machine.
  t.true(summary.integrations[2]!.delivered > 5_000, `large delivered ${summary.integrations[2]!.delivered}`);
  t.like(summary.node, { health: { kafka: 'ok', dynamodb: 'ok' }, drained: true });
  t.is(summary.pages.open, 0);
  t.true(summary.dataDir.startsWith(dir));
});
