// Shared helpers for the deploy/ checks: repository paths, and the real `tributary node`
// command definition, so the commands written into Dockerfile / ECS / compose / systemd are
// checked against the options the CLI actually has.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { registerNodeCommand } from '../../../src/cli/node-command.js';
import { registerEmulateCommand } from '../../../src/cli/emulate-command.js';
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
}

/**
 * Checks arguments given to bin/tributary.js (e.g. ["node", "--specs", "/x"]) against the real
 * command definitions: known subcommand, known options, required options present, values
 * that parse. Does not run anything.
 */
export function checkTributaryArgs(args: readonly string[]): CommandCheck {
  const program = new Command('tributary');
  registerNodeCommand(program);
  registerEmulateCommand(program);
  const problems: string[] = [];
  let drainMs = defaultDrainMs;
  let cmd: Command | undefined = program.commands.find((c) => c.name() === args[0]);
  let rest = args.slice(1);
  if (cmd && cmd.commands.length > 0) {
    const sub = cmd.commands.find((c) => c.name() === rest[0]);
    rest = rest.slice(1);
    cmd = sub;
  }
  if (!cmd) return { problems: [`unknown command: ${args.slice(0, 2).join(' ')}`], drainMs };
  const seen = new Set<string>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const opt = cmd.options.find((o) => o.long === arg || o.short === arg);
    if (!opt) {
      problems.push(`unknown option ${arg}`);
      continue;
    }
    seen.add(opt.long ?? arg);
    if (opt.required || opt.optional) {
      const value = rest[++i];
      if (value === undefined || value.startsWith('--')) problems.push(`${arg} needs a value`);
      else if (opt.long === '--drain-timeout') {
        try {
          drainMs = parseDurationMs(value);
        } catch (err) {
          problems.push(`${arg}: ${(err as Error).message}`);
        }
      }
    }
  }
  for (const o of cmd.options) if (o.mandatory && !seen.has(o.long ?? '')) problems.push(`missing required option ${o.long}`);
  return { problems, drainMs };
}
