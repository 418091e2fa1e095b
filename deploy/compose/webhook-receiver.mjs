// A minimal webhook receiver for the compose stack: accepts Tributary's webhook batches
// (NDJSON or a JSON array, optionally gzip) on POST /events/<name>, answers 200, and counts
// events per path. GET /stats shows the counts; GET /healthz answers 200. No dependencies.
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

const port = Number(process.env.RECEIVER_PORT ?? 9000);
const counts = new Map();
const maxBody = 64 * 1024 * 1024;

function countEvents(body, contentType) {
  const text = body.toString('utf8').trim();
  if (!text) return 0;
  if (contentType.includes('json') && !contentType.includes('ndjson') && text.startsWith('[')) return JSON.parse(text).length;
  return text.split('\n').filter((l) => l.trim()).length;
}

createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  const reply = (code, body) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(body)}\n`);
  };
  if (req.method === 'GET' && path === '/healthz') return reply(200, { ok: true });
  if (req.method === 'GET' && path === '/stats') return reply(200, Object.fromEntries(counts));
  if (req.method !== 'POST' || !path.startsWith('/events/')) return reply(404, { error: 'not found' });
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > maxBody) req.destroy();
    else chunks.push(c);
  });
  req.on('end', () => {
    try {
      let body = Buffer.concat(chunks);
      if (/gzip/i.test(req.headers['content-encoding'] ?? '')) body = gunzipSync(body);
      const n = countEvents(body, String(req.headers['content-type'] ?? ''));
      const key = path.slice('/events/'.length) || 'default';
      const c = counts.get(key) ?? { batches: 0, events: 0 };
      counts.set(key, { batches: c.batches + 1, events: c.events + n });
      reply(200, { accepted: n });
    } catch (err) {
      reply(400, { error: err.message });
    }
  });
}).listen(port, '0.0.0.0', () => process.stdout.write(`webhook receiver on :${port}\n`));

process.on('SIGTERM', () => process.exit(0));
