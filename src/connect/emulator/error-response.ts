// Connect-style error responses: `{"ok":false,"error":…,"error_code":…,"details":…}` (CONNECT_API.md §7),
// with the numeric error codes the emulator uses for each rejection.
import type { ServerResponse } from 'node:http';

export const connectErrorCode = {
  invalidJson: 40001,
  unknownKey: 40002,
  emptyArray: 40003,
  startWithResume: 40004,
  invalidValue: 40005,
  unauthorized: 40101,
  tooManyConnections: 40201,
  notEntitled: 40301,
  notFound: 40401,
  methodNotAllowed: 40501,
  notAcceptable: 40601,
  bodyTooLarge: 41301,
  rateLimited: 42901,
  server: 50001,
  badGateway: 50201,
  unavailable: 50301,
  gatewayTimeout: 50401,
} as const;

export interface ConnectErrorBody {
  ok: false;
  error: string;
  error_code: number;
  details?: Record<string, unknown>;
}

/** The code and default message a bare status gets (fault statuses, 402, 403 …). */
export function errorForStatus(status: number): { error: string; errorCode: number } {
  switch (status) {
    case 400: return { error: 'Bad request', errorCode: connectErrorCode.invalidValue };
    case 401: return { error: 'Unauthorized', errorCode: connectErrorCode.unauthorized };
    case 402: return { error: 'Too many concurrent connections for this app', errorCode: connectErrorCode.tooManyConnections };
    case 403: return { error: 'Forbidden', errorCode: connectErrorCode.notEntitled };
    case 404: return { error: 'Not found', errorCode: connectErrorCode.notFound };
    case 406: return { error: 'Not acceptable', errorCode: connectErrorCode.notAcceptable };
    case 429: return { error: 'Too many requests', errorCode: connectErrorCode.rateLimited };
    case 502: return { error: 'Bad gateway', errorCode: connectErrorCode.badGateway };
    case 503: return { error: 'Service unavailable', errorCode: connectErrorCode.unavailable };
    case 504: return { error: 'Gateway timeout', errorCode: connectErrorCode.gatewayTimeout };
    default: return { error: 'Internal server error', errorCode: connectErrorCode.server };
  }
}

export function sendError(
  res: ServerResponse,
  status: number,
  error: string,
  errorCode: number,
  details?: Record<string, unknown>,
  headers: Record<string, string> = {},
): void {
  const body: ConnectErrorBody = { ok: false, error, error_code: errorCode, ...(details ? { details } : {}) };
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
