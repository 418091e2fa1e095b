// Loopback ports for local servers: a free one on request, or a clear error when a fixed one is taken.
import { createServer } from 'node:net';
import { ErrorCode, TributaryError } from '../errors.js';

function tryListen(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(undefined));
    srv.listen({ port, host, exclusive: true }, () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr ? addr.port : undefined;
      srv.close(() => resolve(got));
    });
  });
}

/**
 * `requested` 0 ⇒ any free port. A fixed port that is taken ⇒ TributaryError naming it,
 * so the operator can free it or pick another (0 picks one automatically).
 */
export async function choosePort(requested: number, what: string, host = '127.0.0.1'): Promise<number> {
  const got = await tryListen(requested, host);
  if (got === undefined) {
    throw new TributaryError(
      ErrorCode.infraPortInUse,
      `port ${requested} on ${host} for ${what} is already in use; free it or configure port 0 to pick a free one`,
    );
  }
  return got;
}
