// Maps whatever ended a connection (zlib, socket, our own timers) to one transient TributaryError
// and a bounded reconnect reason, so the client loop decides backoff in one place.
import { ErrorCode, TributaryError } from '../../errors.js';
import { ReconnectReason } from './stream-item.js';

/** Why the stream was cut, for the subtypes that share connect_stream_corrupt. */
type CorruptKind = 'truncated' | 'corrupt' | 'bad_lines';

export function corruptStream(kind: CorruptKind, message: string, cause?: unknown): TributaryError {
  return new TributaryError(ErrorCode.connectStreamCorrupt, message, { cause, details: { corrupt: kind } });
}

/** A transient error for anything thrown while reading a 200 body. */
export function streamError(err: unknown): TributaryError {
  if (err instanceof TributaryError) return err;
  const code = (err as { code?: unknown })?.code;
  const msg = err instanceof Error ? err.message : String(err);
  // Z_BUF_ERROR at the end: the gzip member was cut (S1); Z_DATA_ERROR: bytes were flipped (S2).
  if (code === 'Z_BUF_ERROR') return corruptStream('truncated', `Connect stream truncated: ${msg}`, err);
  if (code === 'Z_DATA_ERROR' || code === 'Z_STREAM_ERROR' || code === 'Z_NEED_DICT') {
    return corruptStream('corrupt', `Connect stream corrupt: ${msg}`, err);
  }
  return new TributaryError(ErrorCode.connectNetwork, `Connect stream failed: ${typeof code === 'string' ? `${code} ` : ''}${msg}`, {
    cause: err,
  });
}

/** The reconnect reason of a transient error; `undefined` means the server ended the stream cleanly. */
export function reconnectReason(err: TributaryError | undefined): ReconnectReason {
  if (err === undefined) return ReconnectReason.ended;
  switch (err.code) {
    case ErrorCode.connectStreamCorrupt: {
      const kind = err.details?.corrupt;
      return kind === 'truncated' ? ReconnectReason.truncated : kind === 'bad_lines' ? ReconnectReason.badLines : ReconnectReason.corrupt;
    }
    case ErrorCode.connectIdleTimeout:
      return ReconnectReason.idleTimeout;
    case ErrorCode.connectServer:
      return ReconnectReason.serverError;
    case ErrorCode.connectRateLimited:
      return ReconnectReason.rateLimited;
    case ErrorCode.connectRedirectLoop:
      return ReconnectReason.redirectLoop;
    default:
      return ReconnectReason.network;
  }
}
