// The HTTP transport of the analytics sinks: the shared one (src/sinks/http/transport.ts) except
// that it keeps up to 1 MiB of a response, because a vendor's partial-failure answer (Amplitude's
// event indices, Mixpanel's failed_records) is longer than the 1 KiB the shared one keeps and is
// needed whole to reject exactly the refused events. Callers truncate before a DLQ or a log.
import { request } from 'undici';
import { ErrorCode, TributaryError, errorMessage } from '../../errors.js';
import { abortError } from '../http/backoff.js';
import type { TransportOptions, HttpTransport } from '../http/transport.js';
import { truncateUtf8 } from '../http/transport.js';

/** Enough for 2,000 failed records with their messages; a longer answer is cut (and the socket dropped). */
export const maxVendorResponseBytes = 1024 * 1024;

export function createVendorTransport(options: TransportOptions): HttpTransport {
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
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          chunks.push(chunk);
          size += chunk.length;
          if (size >= maxVendorResponseBytes) {
            res.body.destroy();
            break;
          }
        }
        return { status: res.statusCode, headers: res.headers, body: truncateUtf8(Buffer.concat(chunks), maxVendorResponseBytes) };
      } catch (err) {
        if (signal.aborted) throw abortError(signal);
        if (timeout.signal.aborted) throw new TributaryError(ErrorCode.sinkTimeout, `no complete response within ${options.timeoutMs} ms`);
        if (err instanceof TributaryError) throw err;
        const code = (err as { code?: unknown }).code;
        if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
          throw new TributaryError(ErrorCode.sinkTimeout, `timed out (${String(code)})`, { cause: err });
        }
        for (let e: unknown = err, n = 0; e && typeof e === 'object' && n < 8; e = (e as { cause?: unknown }).cause, n++) {
          if (e instanceof TributaryError) throw e; // ssrf_blocked from the connector
        }
        throw new TributaryError(ErrorCode.sinkNetwork, `request failed: ${errorMessage(err)}`, {
          cause: err,
          details: typeof code === 'string' ? { code } : undefined,
        });
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => options.dispatcher.close(),
  };
}
