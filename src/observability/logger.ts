// Structured JSON logs (pino) with secrets redacted by path, and URLs stripped of userinfo
// and query strings before they are logged (RELIABILITY.md, security checklist).
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export const redactPaths = [
  '*.authorization',
  '*.Authorization',
  'headers.cookie',
  '*.headers.cookie',
  '*.token',
  '*.secret',
  '*.password',
  '*.routingKey',
  'token',
  'secret',
  'password',
  'sink.url',
  '*.sink.url',
];

export function createLogger(options: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? process.env.TRIBUTARY_LOG_LEVEL ?? 'info',
    base: { name: options.name ?? 'tributary', pid: process.pid },
    redact: { paths: redactPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    onChild: flattenBindings,
  };
  return options.destination ? pino(opts, options.destination as pino.DestinationStream) : pino(opts);
}

/**
 * pino builds a child's bindings by appending to its parent's string, so a child of a child holds
 * a tree of concatenated-string pieces, ~50 heap objects per integration (4 loggers each) that every
 * major GC marks on a node of 1,000 (BENCHMARKS.md, "What an idle integration holds"). A copy of
 * the string is one flat object with the same text.
 */
function flattenBindings(child: Logger): void {
  const holder = child as unknown as Record<symbol, unknown>;
  const bindings = holder[pino.symbols.chindingsSym];
  if (typeof bindings === 'string') holder[pino.symbols.chindingsSym] = JSON.parse(JSON.stringify(bindings)) as string;
}

/** A URL safe to log: scheme, host, port and path only. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}

/**
 * The level of a "retrying" line: the first retry of a delivery and every 10th after it are
 * `warn`, the others `debug`. A long outage then costs a few lines per delivery instead of one
 * per attempt across every integration; the `sink.retries` metric still counts each attempt.
 */
export function retryLogLevel(attempt: number): 'warn' | 'debug' {
  return attempt <= 1 || attempt % 10 === 0 ? 'warn' : 'debug';
}
