// The node's HTTP face: /healthz (the process is alive), /readyz (Kafka and DynamoDB answer and
// start-up checks passed) and /status (this node's integrations). Plain node:http.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthSources {
  ready(): Promise<{ ready: boolean; checks: Record<string, string> }>;
  status(): Promise<unknown>;
}

export async function startHealthServer(host: string, port: number, sources: HealthSources): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, { error: 'method not allowed' });
    if (path === '/healthz') return send(200, { ok: true });
    if (path === '/readyz') {
      sources.ready().then(
        (r) => send(r.ready ? 200 : 503, r),
        (err: Error) => send(503, { ready: false, error: err.message }),
      );
      return;
    }
    if (path === '/status') {
      sources.status().then(
        (s) => send(200, s),
        (err: Error) => send(500, { error: err.message }),
      );
      return;
    }
    send(404, { error: 'not found', paths: ['/healthz', '/readyz', '/status'] });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return { server, url: `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}` };
}
