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
  };
  return options.destination ? pino(opts, options.destination as pino.DestinationStream) : pino(opts);
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
