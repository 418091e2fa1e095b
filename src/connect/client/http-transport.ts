// One Connect request over undici: POST with the documented headers, redirects never followed
// (a 307 is returned to the client loop), non-200 statuses turned into classified errors.
import type { Readable } from 'node:stream';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { Agent, request, type Dispatcher } from 'undici';
import { ErrorCode, TributaryError } from '../../errors.js';
import { safeUrl } from '../../observability/logger.js';
import { errorForStatus } from './response-errors.js';

export interface TransportRequest {
  /** The JSON request body, already serialised (sent with an explicit Content-Length). */
  body: Buffer;
  /** The Cookie header from the client's jar, if any. */
  cookie: string | undefined;
  /** Aborts the request and, later, the response body. */
  signal: AbortSignal;
}

export type TransportResponse =
  /** A 200: the response body, gzip-encoded unless `gzip` is false. */
  | { kind: 'stream'; body: Readable | AsyncIterable<Uint8Array>; gzip: boolean }
  /** A 307: re-POST the same URL with these cookies (Location is ignored on purpose). */
  | { kind: 'redirect'; setCookie: string[] };

/** What the client loop needs from the network; unit tests substitute an in-process byte source. */
export interface ConnectTransport {
  /** One request. Throws a TributaryError for a classified status or a network failure. */
  open(req: TransportRequest): Promise<TransportResponse>;
  /** Releases what the transport owns (its undici Agent). */
  close(): Promise<void>;
}

export interface HttpTransportOptions {
  url: URL;
  appKey: string;
  token: string;
  userAgent: string;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  /** A per-integration dispatcher to use; when absent the transport owns an Agent and closes it. */
  dispatcher?: Dispatcher;
}

/** Error bodies are read up to this many bytes: enough for Connect's JSON error, bounded otherwise. */
const maxErrorBodyBytes = 16 * 1024;

export const connectAccept = 'application/vnd.urbanairship+x-ndjson; version=3;';

export function createHttpTransport(options: HttpTransportOptions): ConnectTransport {
  const owned = options.dispatcher
    ? undefined
    : new Agent({
        // One stream at a time per integration: one connection, so the Agent keeps a Client per
        // origin rather than a Pool. A Pool holds a 2,048-slot request queue from the start
        // (16 KB), which a node of 1,000 integrations kept in its old generation and every major
        // GC marked again (BENCHMARKS.md, "what a crowd of 1,000 costs a busy integration").
        connections: 1,
        connect: { timeout: options.connectTimeoutMs },
        headersTimeout: options.headersTimeoutMs,
        // Body liveness is the client's idle timer, which knows about backpressure; undici's would not.
        bodyTimeout: 0,
      });
  const dispatcher: Dispatcher = options.dispatcher ?? (owned as Agent);
  const where = safeUrl(options.url.href);

  return {
    async open(req) {
      const headers: Record<string, string> = {
        authorization: `Bearer ${options.token}`,
        'x-ua-appkey': options.appKey,
        accept: connectAccept,
        'content-type': 'application/json',
        'content-length': String(req.body.length),
        'user-agent': options.userAgent,
      };
      if (req.cookie) headers.cookie = req.cookie;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(options.url, {
          method: 'POST',
          headers,
          body: req.body,
          dispatcher,
          signal: req.signal,
          headersTimeout: options.headersTimeoutMs,
          bodyTimeout: 0,
        });
      } catch (err) {
        if (req.signal.aborted) throw err;
        throw networkError(err, where);
      }
      const { statusCode, headers: resHeaders, body } = res;
      if (statusCode === 200) {
        const encoding = String(resHeaders['content-encoding'] ?? '').toLowerCase();
        // Connect always gzips (CONNECT_API.md §3); Node's client gunzips even without the header.
        return { kind: 'stream', body, gzip: encoding === '' || encoding.includes('gzip') };
      }
      if (statusCode === 307) {
        // Drain the (empty) body so the socket can be reused for the re-POST.
        await body.dump({ limit: maxErrorBodyBytes }).catch(() => undefined);
        const sc = resHeaders['set-cookie'];
        return { kind: 'redirect', setCookie: sc === undefined ? [] : Array.isArray(sc) ? sc : [sc] };
      }
      const text = await readCapped(body, String(resHeaders['content-encoding'] ?? ''));
      throw errorForStatus(statusCode, resHeaders, text);
    },
    async close() {
      await owned?.close();
    },
  };
}

function networkError(err: unknown, where: string): TributaryError {
  const code = (err as { code?: unknown })?.code;
  // The message names the host only: undici errors can carry request details in other fields.
  const msg = err instanceof Error ? err.message : String(err);
  return new TributaryError(ErrorCode.connectNetwork, `Connect request to ${where} failed: ${typeof code === 'string' ? `${code} ` : ''}${msg}`, {
    cause: err,
  });
}

async function readCapped(body: Dispatcher.ResponseData['body'], encoding: string): Promise<string> {
  const parts: Buffer[] = [];
  let have = 0;
  try {
    for await (const chunk of body) {
      const b = chunk as Buffer;
      parts.push(b);
      have += b.length;
      if (have >= maxErrorBodyBytes) break;
    }
  } catch {
    // A body cut short still tells us the status; keep what arrived.
  } finally {
    body.destroy();
  }
  let bytes = Buffer.concat(parts).subarray(0, maxErrorBodyBytes);
  if (encoding.toLowerCase().includes('gzip')) {
    // Sync flush: a capped body has no gzip trailer, and the head is all we want.
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: maxErrorBodyBytes, finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch {
      return '';
    }
  }
  return bytes.toString('utf8');
}
