// `tributary simulate alerts|generate-trace`: replay a failure trace through the real guardian
// policy (what would page, and when), and generate the shipped 24-hour fleet trace.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError, ErrorCode } from '../errors.js';
import { simulateAlerts } from '../supervision/alert-simulator.js';
import { parseGuardianPolicyConfig } from '../supervision/guardian-policy-config.js';
import { parseTrace } from '../supervision/trace-format.js';
import { formatGeneratedTrace, generateTrace, type ExpectedIncidents } from '../supervision/trace-generator.js';
import { parseDurationMs, parsePositiveInt } from './parse.js';

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(ErrorCode.configInvalid, `cannot read ${what} ${file}`, [{ path: '', message: (err as Error).message }]);
  }
}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readText(file, what)) as unknown;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(ErrorCode.configInvalid, `${what} ${file} is not valid JSON`, [{ path: '', message: (err as Error).message }]);
  }
}

/** `fleet-24h.ndjson` → `fleet-24h.incidents.json`: the generator's sidecar next to its trace. */
export function incidentsPathFor(trace: string): string {
  return `${trace.replace(/\.ndjson$/, '')}.incidents.json`;
}

export function registerSimulateCommands(program: Command): void {
  const simulate = program.command('simulate').description('simulate the guardian: what would page, on a recorded or generated trace');
  simulate
    .command('alerts')
    .description('replay a failure/recovery trace (NDJSON) through the guardian policy; print the pages as JSON')
    .requiredOption('--trace <file>', 'trace file, one JSON report a line (docs/alerting.md)')
    .option('--config <file>', 'guardian policy config (JSON); defaults from docs/alerting.md')
    .option('--naive', 'also count the pages a per-integration "page on every failure" policy would send')
    .option('--step <duration>', 'simulated clock step: health scan and policy tick', parseDurationMs, 10_000)
    .option('--fleet-size <n>', 'number of integrations in the fleet (else the trace\'s fleet lines)', parsePositiveInt)
    .option('--incidents <file>', 'expected incidents (generator sidecar) to check each page against; default: <trace>.incidents.json if present')
    .option('--no-incidents', 'do not check against a sidecar even if one exists')
    .action((opts: { trace: string; config?: string; naive?: boolean; step: number; fleetSize?: number; incidents?: string | false }) => {
      const events = parseTrace(readText(opts.trace, 'trace'), `trace ${opts.trace}`);
      const policy = opts.config ? parseGuardianPolicyConfig(readJson(opts.config, 'policy config'), `policy config ${opts.config}`) : undefined;
      const sidecar = opts.incidents === false ? undefined : (opts.incidents ?? (existsSync(incidentsPathFor(opts.trace)) ? incidentsPathFor(opts.trace) : undefined));
      const expected = sidecar ? (readJson(sidecar, 'incidents file') as ExpectedIncidents) : undefined;
      const result = simulateAlerts(events, {
        policy,
        stepMs: opts.step,
        fleetSize: opts.fleetSize,
        naive: opts.naive === true,
        expected,
      });
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      if (result.evaluation && !result.evaluation.ok) process.exitCode = 1;
    });
  simulate
    .command('generate-trace')
    .description('generate the seeded 24-hour fleet trace and its expected-incidents sidecar')
    .requiredOption('--out <file>', 'trace file to write (NDJSON); the sidecar goes next to it as <name>.incidents.json')
    .option('--seed <n>', 'random seed: the same seed gives the same trace', parsePositiveInt, 42)
    .action((opts: { out: string; seed: number }) => {
      const g = generateTrace({ seed: opts.seed });
      writeFileSync(opts.out, formatGeneratedTrace(g));
      writeFileSync(incidentsPathFor(opts.out), `${JSON.stringify(g.expected, null, 2)}\n`);
      process.stdout.write(`wrote ${opts.out} (${g.reports.length} reports, ${g.fleetSize} integrations) and ${incidentsPathFor(opts.out)}\n`);
    });
}
