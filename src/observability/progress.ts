// Progress for long-running steps (jar downloads, server start): one updating line on a
// terminal, occasional plain lines otherwise (CI logs), always on stderr.

export interface Progress {
  /** Replace the current status of the step. */
  update(text: string): void;
  /** End the step with a final line. */
  done(text: string): void;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Minimum ms between lines when not on a TTY. */
  plainIntervalMs?: number;
  quiet?: boolean;
}

export function progress(label: string, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const interval = options.plainIntervalMs ?? 2_000;
  let lastPlain = 0;
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  if (options.quiet) return { update() {}, done() {} };
  return {
    update(text) {
      if (tty) {
        stream.write(`\r\x1b[2K[${label}] ${text} (${elapsed()})`);
      } else if (Date.now() - lastPlain >= interval) {
        lastPlain = Date.now();
        stream.write(`[${label}] ${text} (${elapsed()})\n`);
      }
    },
    done(text) {
      stream.write(`${tty ? '\r\x1b[2K' : ''}[${label}] ${text} (${elapsed()})\n`);
    },
  };
}
