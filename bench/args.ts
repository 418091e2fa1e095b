// The bench scripts' command lines: commander with the argument parsers of src/cli/parse.ts, so a
// bad or unknown option stops a script with a message naming it (and its --help) before anything
// starts, as the `tributary` CLI does.
import { Command } from 'commander';

export { parseIntIn, parseJsonObject, parseListOf, parseNumberIn } from '../src/cli/parse.js';

/** A command for one bench script: `usage` is its npm script, `summary` what it measures. */
export function benchCommand(usage: string, summary: string): Command {
  return new Command(usage).description(summary).allowExcessArguments(false).showHelpAfterError();
}
