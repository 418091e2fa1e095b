// `tributary node`: run a node for a set of integration specs, until SIGTERM/SIGINT (drain).
import type { Command } from 'commander';
import { loadNodeConfig } from '../config/node-config.js';
import { loadSpecFiles } from '../control/spec-files.js';
import { createLogger } from '../observability/logger.js';
import { startNode } from '../node/node.js';
import { parseDurationMs } from './parse.js';

/** Exit status after a node fault (sysexits EX_UNAVAILABLE): the orchestrator replaces the node. */
export const nodeFaultExitCode = 69;

export function registerNodeCommand(program: Command): void {
  program
    .command('node')
    .description('run a Tributary node: source and sink actors for each integration, /healthz /readyz /status; SIGTERM drains')
    .option('--config <file>', 'node config file (JSON; environment overrides it)')
    .option('--specs <path>', 'static mode: run these integration specs (a file with one spec or an array, or a directory of *.json)')
    .option('--control', 'run the integrations the control topic assigns to this node (the default without --specs)')
    .option('--data-dir <dir>', 'where file sinks write', '.tributary/data')
    .option('--drain-timeout <duration>', 'how long SIGTERM may take to drain', parseDurationMs, 25_000)
    .action(async (opts: { config?: string; specs?: string; control?: boolean; dataDir: string; drainTimeout: number }) => {
      const config = loadNodeConfig({ file: opts.config });
      const logger = createLogger({ level: config.log.level });
      const control = opts.control ?? opts.specs === undefined;
      const { specs, rejected } = opts.specs ? loadSpecFiles(opts.specs, config.local) : { specs: [], rejected: [] };
      for (const r of rejected) logger.error({ source: r.source }, `spec rejected: ${r.error}`);
      let fatal: string | undefined;
      let stop!: () => void;
      const stopped = new Promise<void>((resolve) => {
        stop = resolve;
        process.once('SIGTERM', () => resolve());
        process.once('SIGINT', () => resolve());
      });
      // Cattle, not pets: a node that lost Kafka or DynamoDB past the grace period exits non-zero.
      const node = await startNode({ config, logger, dataDir: opts.dataDir, control, onFatal: (reason) => ((fatal = reason), stop()) });
      for (const spec of specs) node.apply(spec);
      logger.info({ integrations: specs.length, rejected: rejected.length, control, url: node.url }, 'node running');
      await stopped;
      if (fatal !== undefined) {
        // Drain what can be drained, briefly: with a dependency gone the drain may never finish.
        const drainMs = Math.min(opts.drainTimeout, 10_000);
        setTimeout(() => process.exit(nodeFaultExitCode), drainMs + 5_000).unref();
        await node.shutdown(drainMs).catch(() => false);
        logger.fatal({ reason: fatal, exitCode: nodeFaultExitCode }, 'exiting after a node fault');
        logger.flush();
        process.exit(nodeFaultExitCode);
      }
      const drained = await node.shutdown(opts.drainTimeout);
      process.exitCode = drained ? 0 : 1;
    });
}
