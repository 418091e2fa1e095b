// An HTTP proxy in front of DynamoDB Local that throttles: a seeded fraction of requests get
// `400 ProvisionedThroughputExceededException` (what DynamoDB answers past provisioned capacity),
// the rest are forwarded untouched (../shared/RELIABILITY.md D1).
import { createServer, request, type Server } from 'node:http';

export interface DynamoThrottleProxy {
  /** http://127.0.0.1:<port> — give it to the node as dynamodb.endpoint. */
  readonly url: string;
  readonly stats: { requests: number; throttled: number; byOperation: Record<string, number> };
  /** Fraction of requests throttled (0 = none). */
  setThrottle(p: number): void;
  close(): Promise<void>;
}

export async function startDynamoThrottleProxy(target: string, o: { seed?: number } = {}): Promise<DynamoThrottleProxy> {
  const t = new URL(target);
  let p = 0;
  let rnd = (o.seed ?? 7) >>> 0;
  const random = () => ((rnd = (Math.imul(rnd, 1_664_525) + 1_013_904_223) >>> 0) / 4_294_967_296);
  const stats = { requests: 0, throttled: 0, byOperation: {} as Record<string, number> };
  const server: Server = createServer((req, res) => {
    stats.requests += 1;
    const op = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '?';
    if (p > 0 && random() < p) {
      stats.throttled += 1;
      stats.byOperation[op] = (stats.byOperation[op] ?? 0) + 1;
      req.resume();
      const body = JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
        message: 'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
      });
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `chaos-${stats.requests}`, 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const up = request(
      { host: t.hostname, port: Number(t.port), method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    setThrottle: (v) => void (p = v),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
