// `npm run chaos [-- <name filter>…] [--smoke] [--update] [--rewrite] [--node-threads N] [--node-flags JSON] [--node-config JSON]`: runs the chaos scenarios of chaos/scenarios.ts one
// after another against the embedded Kafka and DynamoDB (started here unless KAFKA_BROKERS and
// DYNAMODB_ENDPOINT name running ones; stopped by pid at the end), writes the JSON results to
// bench/results/chaos-<timestamp>.json and the table into RELIABILITY.md between the
// `chaos-results` markers (a filtered run with --update merges its results into the newest full
// run's). Exit status 1 when any scenario failed.
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { infraDown, infraEnv, infraUp } from '../src/infra/local-infra.js';
import { benchCommand, parseIntIn, parseJsonObject } from '../bench/args.js';
import { parseNodeConfig } from '../src/config/node-config.js';
import { ConfigError } from '../src/errors.js';
import { scenarios, smokeScenarios, type ScenarioResult } from './scenarios.js';
import { setKeepLogs, setRunNodeConfig } from '../test/helpers/chaos-harness.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
process.env.TRIBUTARY_LOG_LEVEL ??= 'warn';

const cli = benchCommand('npm run chaos --', 'the chaos suite: RELIABILITY.md fault matrix with an oracle')
  .argument('[filters...]', 'run only the scenarios whose name contains one of these (case-insensitive)')
  .option('--smoke', 'the short subset that npm test runs')
  .option('--update', "merge a filtered run's results into the newest full run's table in RELIABILITY.md")
  .option('--rewrite', 'run nothing: rebuild the RELIABILITY.md table from bench/results')
  // The same value for every node the scenarios start (TRIBUTARY_INTEGRATION_THREADS); a run with
  // it is a variant: its table is printed and kept as JSON, RELIABILITY.md's stays the default's.
  .option('--node-threads <n>', "the nodes' integrations.threads (docs/operations.md, \"Integration threads\"; 0: the main thread)", parseIntIn(0, 32), 0)
  // Likewise the nodes' fleet-wide feature flags (TRIBUTARY_FLAGS), e.g. the two the benchmarks run with.
  .option('--node-flags <json>', 'the nodes\' feature flags (docs/flags.md), e.g. \'{"source.packRecords":true,"sink.parkWhenIdle":true}\'', parseJsonObject, {})
  .option('--keep-logs <dir>', "also write every node's output there, a file per node and scenario (with --node-config '{\"log\":{\"level\":\"debug\"}}' for everything)")
  .option('--node-config <json>', 'merged into every node\'s config (docs/configuration.md) under the scenario\'s own, e.g. \'{"kafka":{"sinkParkIdleMs":1000}}\'', parseJsonObject, {})
  .parse();
const o = cli.opts<{ smoke?: true; update?: true; rewrite?: true; nodeThreads: number; nodeFlags: Record<string, unknown>; nodeConfig: Record<string, unknown>; keepLogs?: string }>();
/** The node config's own validation, so a mistyped key stops the run here, not every node it starts. */
function checkNodeConfig(option: string, raw: Record<string, unknown>): void {
  try {
    parseNodeConfig(raw);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    cli.error(`error: ${option}: ${err.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
}
checkNodeConfig('--node-flags', { flags: o.nodeFlags });
checkNodeConfig('--node-config', o.nodeConfig);
/** A run with other node settings than the defaults: its table is printed and kept as JSON, not merged into RELIABILITY.md's. */
const variant = [o.nodeThreads > 0 ? `--node-threads ${o.nodeThreads}` : '', Object.keys(o.nodeFlags).length > 0 ? '--node-flags' : '', Object.keys(o.nodeConfig).length > 0 ? '--node-config' : ''].filter(Boolean).join(' and ');
if (variant && (o.update || o.rewrite)) cli.error(`error: ${variant} runs a variant, whose rows do not merge into the table of RELIABILITY.md (--update, --rewrite)`);
if (o.nodeThreads > 0) process.env.TRIBUTARY_INTEGRATION_THREADS = String(o.nodeThreads);
if (Object.keys(o.nodeFlags).length > 0) process.env.TRIBUTARY_FLAGS = JSON.stringify(o.nodeFlags);
setRunNodeConfig(o.nodeConfig);
if (o.keepLogs) {
  mkdirSync(o.keepLogs, { recursive: true });
  setKeepLogs(o.keepLogs);
}
const smoke = o.smoke === true;
const rewrite = o.rewrite === true;
const update = o.update === true || rewrite;
const filters = (cli.args as string[]).map((a) => a.toLowerCase());
const selected = rewrite ? [] : (smoke ? smokeScenarios : scenarios).filter((s) => filters.length === 0 || filters.some((f) => s.name.toLowerCase().includes(f)));

const fmt = (ms: number | undefined) => (ms === undefined ? '–' : ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);

export function table(results: ScenarioResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.rows} | ${r.name} | ${r.pass ? 'pass' : '**FAIL**'} | ${r.served} | ${r.lost} | ${r.duplicates}${r.duplicates ? (r.dupAllResends ? ' (re-sends)' : ' (**foreign ids**)') : ''} | ${r.dlq} | ${fmt(r.recoveryMs)} | ${fmt(r.drainMs)} | ${r.peakRssMb || '–'} | ${fmt(r.durationMs)} | ${r.notes.join('; ').replace(/\|/g, '\\|')} |`,
  );
  return [
    '| row | scenario | verdict | served | lost | dup delivered | DLQ | recovery | drain | peak RSS MB | time | notes |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

async function main(): Promise<number> {
  if (selected.length === 0 && !rewrite) {
    process.stderr.write(`no scenario matches ${filters.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}\n`);
    return 2;
  }
  const instance = `chaos-${process.pid}`;
  let started = false;
  const stop = async () => {
    if (started) {
      started = false;
      await infraDown({ instance });
    }
  };
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)));
  process.once('SIGTERM', () => void stop().finally(() => process.exit(143)));
  const results: ScenarioResult[] = [];
  const t0 = Date.now();
  try {
    if (selected.length > 0 && (!process.env.KAFKA_BROKERS || !process.env.DYNAMODB_ENDPOINT)) {
      started = true;
      const state = await infraUp({ instance, ownerPid: process.pid, kafkaHeapMb: 768, quiet: true });
      Object.assign(process.env, infraEnv(state));
    }
    for (const s of selected) {
      process.stderr.write(`\n=== chaos: ${s.name} (${s.rows}) ===\n`);
      const at = Date.now();
      try {
        const r = await s.run();
        results.push(r);
        process.stderr.write(`${r.pass ? 'pass' : 'FAIL'}: lost ${r.lost}, dup ${r.duplicates}, recovery ${fmt(r.recoveryMs)}, drain ${fmt(r.drainMs)}, RSS ${r.peakRssMb} MB, ${fmt(r.durationMs)}\n  ${r.notes.join('\n  ')}\n`);
      } catch (err) {
        const msg = (err as Error).message;
        results.push({ name: s.name, rows: s.rows, pass: false, lost: -1, duplicates: 0, dupAllResends: true, peakRssMb: 0, durationMs: Date.now() - at, served: 0, delivered: 0, dlq: 0, notes: [`error: ${msg}`] });
        process.stderr.write(`FAIL (error): ${msg}\n`);
      }
    }
  } finally {
    await stop();
  }
  const argv = process.argv.slice(2);
  const command = `npm run chaos${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const commit = (() => {
    try {
      return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const when = new Date().toISOString();
  mkdirSync('bench/results', { recursive: true });
  const jsonFile = `bench/results/chaos-${when.replace(/[:.]/g, '-')}.json`;
  if (!rewrite) writeFileSync(jsonFile, `${JSON.stringify({ command, commit, machine, when, totalMs: Date.now() - t0, full: !smoke && filters.length === 0 && !variant, update, nodeThreads: o.nodeThreads, nodeFlags: o.nodeFlags, nodeConfig: o.nodeConfig, results }, null, 2)}\n`);
  // --update: merge these results into the newest full run's (re-running a few scenarios).
  let merged = results;
  let base: { command: string; when: string; file: string } | undefined;
  if (update) {
    // The newest full run, then every --update run after it (oldest first), then this one.
    type Doc = { command: string; when: string; full?: boolean; update?: boolean; results: ScenarioResult[] };
    const files = readdirSync('bench/results').filter((n) => /^chaos-.*\.json$/.test(n)).sort();
    const docs = files.map((n) => ({ n, doc: JSON.parse(readFileSync(`bench/results/${n}`, 'utf8')) as Doc }));
    const fullAt = docs.map((d) => d.doc.full === true).lastIndexOf(true);
    if (fullAt >= 0) {
      const byName = new Map<string, ScenarioResult>();
      for (const d of docs.slice(fullAt)) if (d.doc.full || d.doc.update) for (const r of d.doc.results) byName.set(r.name, r);
      for (const r of results) byName.set(r.name, r);
      const full = docs[fullAt]!;
      base = { command: full.doc.command, when: full.doc.when, file: `bench/results/${full.n}` };
      merged = scenarios.map((sc) => byName.get(sc.name)).filter((r): r is ScenarioResult => r !== undefined);
    }
  }
  const section = [
    '<!-- chaos-results:start (written by chaos/run.ts) -->',
    base
      ? `Command: \`${base.command}\` (${base.when}, \`${base.file}\`); rows re-run since with \`npm run chaos -- --update <names>\` replace their row (latest: ${when}, commit ${commit}, \`${jsonFile}\`); ${machine}. JSON files in bench/results/ (gitignored).`
      : `Command: \`${command}\` — ${when}, commit ${commit}, ${machine}; ${selected.length} scenario(s) in ${fmt(Date.now() - t0)}. JSON: \`${jsonFile}\` (gitignored).`,
    '',
    table(merged),
    '<!-- chaos-results:end -->',
  ].join('\n');
  if (!smoke && !variant && (filters.length === 0 || base) && existsSync('RELIABILITY.md')) {
    const doc = readFileSync('RELIABILITY.md', 'utf8');
    const re = /<!-- chaos-results:start[\s\S]*?<!-- chaos-results:end -->/;
    if (re.test(doc)) writeFileSync('RELIABILITY.md', doc.replace(re, section));
  } else {
    process.stderr.write(`\n(${variant ? `a run with ${variant}` : 'partial run'}: RELIABILITY.md left as is)\n`);
  }
  process.stdout.write(`\n${section}\n`);
  return results.every((r) => r.pass) ? 0 : 1;
}

process.exitCode = await main();
