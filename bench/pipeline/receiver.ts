// A minimal, fast webhook receiver for the pipeline benchmark, run as its own process:
// answers 200 to every POST, counts events (NDJSON lines, gzip bodies inflated) and bytes, and
// records each event's end-to-end latency = receive time − the event's Connect `processed` time
// in a 1 ms histogram. `GET /_stats` reports, `POST /_reset` starts a new window.
// Usage: node --import tsx bench/pipeline/receiver.ts [--port 0]   (prints {"url","port"})
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;

const PROCESSED = Buffer.from('"processed":"');
const MAX_MS = 600_000;
let hist = new Uint32Array(MAX_MS + 1);
let events = 0;
let bytes = 0;
let wireBytes = 0;
let requests = 0;
let firstAt = 0;
let lastAt = 0;
let latencySamples = 0;
let maxLatency = 0;

function take(body: Buffer, now: number): void {
  let pos = 0;
  let n = 0;
  while (pos < body.length) {
    let nl = body.indexOf(10, pos);
    if (nl === -1) nl = body.length;
    if (nl > pos) {
      n++;
      const p = body.indexOf(PROCESSED, pos);
      if (p !== -1 && p < nl) {
        const start = p + PROCESSED.length;
        const end = body.indexOf(34, start);
        const ms = Date.parse(body.toString('latin1', start, end));
        if (!Number.isNaN(ms)) {
          const lat = Math.max(0, now - ms);
          hist[Math.min(lat, MAX_MS)]!++;
          latencySamples++;
          if (lat > maxLatency) maxLatency = lat;
        }
      }
    }
    pos = nl + 1;
  }
  events += n;
  bytes += body.length;
}

function percentile(q: number): number | null {
  if (latencySamples === 0) return null;
  const target = Math.ceil(latencySamples * q);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= target) return i;
  }
  return MAX_MS;
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/_stats') {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        events,
        bytes,
        wireBytes,
        requests,
        firstAt,
        lastAt,
        latency: { samples: latencySamples, p50: percentile(0.5), p99: percentile(0.99), max: latencySamples ? maxLatency : null },
      }),
    );
    return;
  }
  if (req.method === 'POST' && req.url === '/_reset') {
    hist = new Uint32Array(MAX_MS + 1);
    events = bytes = wireBytes = requests = firstAt = lastAt = latencySamples = maxLatency = 0;
    req.resume();
    res.end('{}');
    return;
  }
  const parts: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    parts.push(c);
    size += c.length;
  });
  req.on('end', () => {
    const now = Date.now();
    let body = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    wireBytes += size;
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    requests++;
    take(body, now);
    if (firstAt === 0) firstAt = now;
    lastAt = now;
    res.writeHead(200, { 'content-length': '0' });
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => {
  const p = (server.address() as { port: number }).port;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${p}/ingest`, port: p })}\n`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
