// One HTTP exchange for a sink: request timeout, caller abort, bounded response read, and
// network failures turned into typed errors. The send loop decides what a response means.
import { request, type Dispatcher } from 'undici';
import { ErrorCode, TributaryError, errorMessage } from '../../errors.js';
import { abortError } from './backoff.js';

/** Read at most this much of a response (enough to keep the connection reusable for small bodies). */
export const maxResponseReadBytes = 64 * 1024;
/** Keep at most this much for the DLQ and the customer. */
export const maxResponseKeptBytes = 1024;

export interface HttpRequest {
  method: 'POST' | 'PUT' | 'HEAD' | 'OPTIONS';
  url: URL;
  headers: Readonly<Record<string, string>>;
  body?: Buffer;
}

export interface HttpResponse {
  status: number;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The start of the body (≤ 1 KiB, UTF-8, cut at a character boundary). */
  body: string;
}

/** Sends one request. Throws a TributaryError (timeout, network, SSRF) or an AbortError. */
export interface HttpTransport {
  send(req: HttpRequest, signal: AbortSignal): Promise<HttpResponse>;
  close(): Promise<void>;
}

export interface TransportOptions {
  dispatcher: Dispatcher;
  /** Whole-exchange deadline: connect, send, headers and the bounded body read. */
  timeoutMs: number;
  /**
   * How much of a response to keep (default 1 KiB). Sinks whose partial-failure answers list the
   * refused records (Amplitude, Mixpanel) keep more; the read limit grows with it.
   */
  maxKeptBytes?: number;
}

export function createHttpTransport(options: TransportOptions): HttpTransport {
  return {
    async send(req, signal) {
      if (signal.aborted) throw abortError(signal);
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(new Error('request timeout')), options.timeoutMs);
      const both = AbortSignal.any([signal, timeout.signal]);
      try {
        const res = await request(req.url, {
          method: req.method,
          headers: req.headers,
          body: req.body ?? null,
          dispatcher: options.dispatcher,
          signal: both,
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
        });
        const body = await readBounded(res.body, options.maxKeptBytes);
        return { status: res.statusCode, headers: res.headers, body };
      } catch (err) {
        if (signal.aborted) throw abortError(signal);
        if (timeout.signal.aborted) {
          throw new TributaryError(ErrorCode.sinkTimeout, `no complete response within ${options.timeoutMs} ms`);
        }
        if (err instanceof TributaryError) throw err; // e.g. ssrf_blocked from the connector
        const code = (err as { code?: unknown }).code;
        if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
          throw new TributaryError(ErrorCode.sinkTimeout, `timed out (${String(code)})`, { cause: err });
        }
        const inner = findTributaryCause(err);
        if (inner) throw inner;
        throw new TributaryError(ErrorCode.sinkNetwork, `request failed: ${errorMessage(err)}`, {
          cause: err,
          details: typeof code === 'string' ? { code } : undefined,
        });
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await options.dispatcher.close();
    },
  };
}

function findTributaryCause(err: unknown): TributaryError | undefined {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    if (e instanceof TributaryError) return e;
  }
  return undefined;
}

/**
 * Reads at most 64 KiB of a body (or `keep`, when larger) and keeps its first `keep` bytes
 * (1 KiB by default). A longer body is abandoned (its socket destroyed): a receiver cannot
 * make us buffer its whole answer.
 */
export async function readBounded(body: AsyncIterable<Buffer> & { destroy(err?: Error): unknown }, keep = maxResponseKeptBytes): Promise<string> {
  const readLimit = Math.max(maxResponseReadBytes, keep);
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let read = 0;
  for await (const chunk of body) {
    read += chunk.length;
    // A few bytes past the limit let truncateUtf8 find the last whole character.
    if (keptBytes < keep + 4) {
      const part = chunk.subarray(0, keep + 4 - keptBytes);
      kept.push(part);
      keptBytes += part.length;
    }
    if (read >= readLimit) {
      body.destroy();
      break;
    }
  }
  return truncateUtf8(Buffer.concat(kept), keep);
}

/** Cuts UTF-8 bytes to at most `max` without splitting a character. */
export function truncateUtf8(bytes: Buffer, max: number): string {
  if (bytes.length <= max) return bytes.toString('utf8');
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
