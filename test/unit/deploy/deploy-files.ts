// Shared helpers for the deploy/ checks: repository paths, and the real `tributary node`
// command definition, so the commands written into Dockerfile / ECS / compose / systemd are
// checked against the options the CLI actually has.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { registerNodeCommand } from '../../../src/cli/node-command.js';
import { registerEmulateCommand } from '../../../src/cli/emulate-command.js';
import { registerIntegrationsCommands } from '../../../src/cli/integrations-command.js';
import { parseDurationMs } from '../../../src/cli/parse.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function repoPath(...parts: string[]): string {
  return [repoRoot.replace(/\/$/, ''), ...parts].join('/');
}

export function readRepoFile(...parts: string[]): string {
  return readFileSync(repoPath(...parts), 'utf8');
}

export function readRepoJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(readRepoFile(...parts)) as T;
}

/** Default of `tributary node --drain-timeout` (the CLI's own value). */
export const defaultDrainMs = 25_000;

export interface CommandCheck {
  problems: string[];
  drainMs: number;
  /** Long names of the options given, e.g. `--config`. */
  options: Set<string>;
  /** The value given to each option that takes one. */
  values: Map<string, string>;
  /**
   * For `node`: runs in control mode, decided as src/cli/node-command.ts does (`--control`, or
   * no `--specs`). Undefined for other commands.
   */
  controlMode: boolean | undefined;
}

/**
 * Checks arguments given to bin/tributary.js (e.g. ["node", "--control"] or ["integrations",
 * "create", "--config", "/x.json", "/spec.json"]) against the real command definitions: known
 * subcommand, known options, required options and arguments present, values that parse. Does
 * not run anything.
 */
export function checkTributaryArgs(args: readonly string[]): CommandCheck {
  const program = new Command('tributary');
  registerNodeCommand(program);
  registerEmulateCommand(program);
  registerIntegrationsCommands(program);
  const problems: string[] = [];
  let drainMs = defaultDrainMs;
  const seen = new Set<string>();
  const values = new Map<string, string>();
  let cmd: Command | undefined = program.commands.find((c) => c.name() === args[0]);
  let rest = args.slice(1);
  if (cmd && cmd.commands.length > 0) {
    const sub = cmd.commands.find((c) => c.name() === rest[0]);
    rest = rest.slice(1);
    cmd = sub;
  }
  if (!cmd) return { problems: [`unknown command: ${args.slice(0, 2).join(' ')}`], drainMs, options: seen, values, controlMode: undefined };
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const opt = cmd.options.find((o) => o.long === arg || o.short === arg);
    if (!opt) {
      problems.push(`unknown option ${arg}`);
      continue;
    }
    seen.add(opt.long ?? arg);
    if (opt.required || opt.optional) {
      const value = rest[++i];
      if (value === undefined || value.startsWith('--')) {
        problems.push(`${arg} needs a value`);
        continue;
      }
      values.set(opt.long ?? arg, value);
      if (opt.long === '--drain-timeout') {
        try {
          drainMs = parseDurationMs(value);
        } catch (err) {
          problems.push(`${arg}: ${(err as Error).message}`);
        }
      }
    }
  }
  for (const o of cmd.options) if (o.mandatory && !seen.has(o.long ?? '')) problems.push(`missing required option ${o.long}`);
  const declared = cmd.registeredArguments;
  const required = declared.filter((a) => a.required).length;
  const variadic = declared.some((a) => a.variadic);
  if (positional.length < required || (!variadic && positional.length > declared.length)) {
    problems.push(`${cmd.name()} takes ${declared.map((a) => a.name()).join(' ') || 'no arguments'}, given ${positional.length ? positional.join(' ') : 'none'}`);
  }
  const controlMode = cmd.name() === 'node' && cmd.parent === program ? seen.has('--control') || !seen.has('--specs') : undefined;
  return { problems, drainMs, options: seen, values, controlMode };
}

/**
 * Files the Dockerfile writes into the image with `printf '%s\n' '<content>' > <path>` in a RUN
 * instruction (the one way it bakes a file without copying from the build context): path → content.
 */
export function bakedFiles(dockerfile: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const m of dockerfile.matchAll(/printf '%s\\n' '([^']*)' > (\/\S+)/g)) files.set(m[2]!, `${m[1]!}\n`);
  return files;
}

/** `${NAME}` placeholders (rendered with envsubst at deploy time) replaced by sample values. */
export function renderPlaceholders(text: string, sample: Record<string, string>): string {
  return text.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => sample[name] ?? `sample-${name.toLowerCase()}`);
}
