// The chaos suite's TCP fault proxy (test/helpers/tcp-fault-proxy.ts) on loopback, between real
// sockets: its latency must behave like a link's delay (each byte late by the latency once), not
// like a throttle that charges the latency once per chunk.
import test, { type ExecutionContext } from 'ava';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { startTcpFaultProxy, type TcpFaultProxy } from '../../helpers/tcp-fault-proxy.js';

/** A server that counts what it receives and answers each connection's end with the byte count. */
async function countingServer(): Promise<{ port: number; received: () => number; close: () => Promise<void> }> {
  let received = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let n = 0;
    s.on('data', (b: Buffer) => {
      n += b.length;
      received += b.length;
    });
    s.on('end', () => s.end(`${n}\n`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    received: () => received,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A target server with `onConnection` and the fault proxy in front of it; both closed at teardown. */
async function proxied(t: ExecutionContext, onConnection: (s: Socket) => void): Promise<TcpFaultProxy> {
  const server = createServer(onConnection);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const proxy = await startTcpFaultProxy({ target: { host: '127.0.0.1', port: (server.address() as { port: number }).port } });
  t.teardown(() => proxy.close());
  return proxy;
}

/** Sends `bytes` through `port` in 16 KiB writes, half-closes, and returns the answer and its time. */
async function sendThrough(port: number, bytes: number): Promise<{ answer: string; ms: number }> {
  const started = Date.now();
  const sock = connect(port, '127.0.0.1');
  await once(sock, 'connect');
  const piece = Buffer.alloc(16 * 1024, 0x61);
  for (let sent = 0; sent < bytes; sent += piece.length) {
    if (!sock.write(piece.subarray(0, Math.min(piece.length, bytes - sent)))) await once(sock, 'drain');
  }
  sock.end();
  let answer = '';
  sock.on('data', (b: Buffer) => (answer += b.toString()));
  await once(sock, 'close');
  return { answer: answer.trim(), ms: Date.now() - started };
}

test('latency delays a 2 MiB upload and its answer by about the latency each way, not per chunk', async (t) => {
  const server = await countingServer();
  t.teardown(() => server.close());
  const proxy = await startTcpFaultProxy({ target: { host: '127.0.0.1', port: server.port } });
  t.teardown(() => proxy.close());
  proxy.setLatency(300);
  const bytes = 2 * 1024 * 1024;
  const r = await sendThrough(proxy.port, bytes);
  t.is(r.answer, String(bytes), 'every byte arrived, in one piece, and the answer came back');
  t.is(server.received(), bytes);
  // Up 300 ms, back 300 ms. A per-chunk throttle would take 300 ms × (2 MiB / 64 KiB) ≈ 10 s.
  t.true(r.ms >= 600, `took ${r.ms} ms, less than the round trip's latency`);
  t.true(r.ms < 4_000, `took ${r.ms} ms: the latency was charged per chunk`);
});

test('bytes keep their order when the latency is healed with chunks still in the delay line', async (t) => {
  const chunks: Buffer[] = [];
  const proxy = await proxied(t, (s) => {
    s.on('data', (b: Buffer) => chunks.push(b));
    s.on('end', () => s.end());
  });
  proxy.setLatency(400);
  const sock = connect(proxy.port, '127.0.0.1');
  await once(sock, 'connect');
  sock.write('first;');
  await new Promise((resolve) => setTimeout(resolve, 50));
  proxy.heal(); // "second;" is due at once, "first;" not for another ~350 ms
  sock.write('second;');
  sock.end();
  sock.resume();
  await once(sock, 'close');
  t.is(Buffer.concat(chunks).toString(), 'first;second;');
});

test('an answer sent just before the target closes still reaches the client through the delay line', async (t) => {
  const proxy = await proxied(t, (s) => {
    s.once('data', () => {
      s.write('bye');
      s.destroy(); // closes right after writing, while "bye" is still delayed in the proxy
    });
  });
  proxy.setLatency(200);
  const sock = connect(proxy.port, '127.0.0.1');
  sock.on('error', () => undefined);
  let answer = '';
  sock.on('data', (b: Buffer) => (answer += b.toString()));
  await once(sock, 'connect');
  sock.write('hi');
  await once(sock, 'close');
  t.is(answer, 'bye');
});
