// A small TCP fault proxy (toxiproxy is not available here): listens on 127.0.0.1, forwards every
// connection to a target, and misbehaves on demand between the two — the userspace stand-in for
// netem latency, iptables resets and blackholes (../shared/RELIABILITY.md T5/T6, K1).
//
//   const proxy = await startTcpFaultProxy({ target: { host: '127.0.0.1', port: rx.port } });
//   …point the client at proxy.port…
//   proxy.setLatency(300);           // each chunk, both ways, delayed by 300 ms
//   proxy.setResetProbability(0.3);  // each new connection reset (RST) with probability 0.3
//   proxy.blackhole(true);           // connections accepted, bytes swallowed, nothing answered
//   await proxy.down();              // refuse new connections, reset open ones; proxy.up() again
//   proxy.heal();                    // every fault off
//   await proxy.close();
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpFaultProxyOptions {
  target: { host: string; port: number };
  /** Listening port; 0 (default) picks one, kept across down()/up(). */
  port?: number;
  /** Seed of the reset decisions (a tiny LCG), so a run can be replayed. */
  seed?: number;
}

export interface TcpFaultProxyStats {
  connections: number;
  resets: number;
  blackholed: number;
  bytesUp: number;
  bytesDown: number;
}

export interface TcpFaultProxy {
  readonly port: number;
  readonly stats: TcpFaultProxyStats;
  setLatency(ms: number): void;
  setResetProbability(p: number): void;
  /** Resets every open connection now (a flapping network). */
  resetAll(): void;
  blackhole(on: boolean): void;
  down(): Promise<void>;
  up(): Promise<void>;
  heal(): void;
  close(): Promise<void>;
}

export async function startTcpFaultProxy(o: TcpFaultProxyOptions): Promise<TcpFaultProxy> {
  let latencyMs = 0;
  let resetP = 0;
  let blackholed = false;
  let server: Server | undefined;
  let port = o.port ?? 0;
  let rnd = (o.seed ?? 1) >>> 0;
  const random = () => ((rnd = (Math.imul(rnd, 1_664_525) + 1_013_904_223) >>> 0) / 4_294_967_296);
  const open = new Set<Socket>();
  const stats: TcpFaultProxyStats = { connections: 0, resets: 0, blackholed: 0, bytesUp: 0, bytesDown: 0 };

  const reset = (s: Socket) => {
    if (s.destroyed) return;
    if (typeof s.resetAndDestroy === 'function') s.resetAndDestroy();
    else s.destroy();
  };

  // Forwards with an optional per-chunk delay, keeping order and backpressure.
  const pipe = (from: Socket, to: Socket, count: (n: number) => void) => {
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      count(chunk.length);
      if (blackholed) return; // open connections freeze too: bytes vanish, nothing answers
      if (latencyMs <= 0) {
        if (!to.destroyed) to.write(chunk);
        return;
      }
      from.pause();
      const delay = latencyMs;
      chain = chain.then(
        () =>
          new Promise<void>((resolve) =>
            setTimeout(() => {
              if (!to.destroyed) to.write(chunk);
              from.resume();
              resolve();
            }, delay),
          ),
      );
    });
    from.on('end', () => void chain.then(() => to.end()));
  };

  const onConnection = (client: Socket) => {
    stats.connections += 1;
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => undefined);
    if (blackholed) {
      stats.blackholed += 1;
      client.on('data', () => undefined); // swallowed
      return;
    }
    if (resetP > 0 && random() < resetP) {
      stats.resets += 1;
      reset(client);
      return;
    }
    const upstream = connect(o.target.port, o.target.host);
    open.add(upstream);
    upstream.on('close', () => {
      open.delete(upstream);
      if (!client.destroyed) client.destroy();
    });
    upstream.on('error', () => reset(client));
    client.on('close', () => {
      if (!upstream.destroyed) upstream.destroy();
    });
    pipe(client, upstream, (n) => (stats.bytesUp += n));
    pipe(upstream, client, (n) => (stats.bytesDown += n));
  };

  const up = async () => {
    if (server) return;
    const s = createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve();
      });
    });
    port = (s.address() as { port: number }).port;
    server = s;
  };

  const down = async () => {
    const s = server;
    server = undefined;
    for (const sock of open) reset(sock);
    open.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await up();
  return {
    get port() {
      return port;
    },
    stats,
    setLatency: (ms) => void (latencyMs = ms),
    setResetProbability: (p) => void (resetP = p),
    resetAll: () => {
      for (const sock of open) reset(sock);
    },
    blackhole: (on) => void (blackholed = on),
    down,
    up,
    heal: () => {
      latencyMs = 0;
      resetP = 0;
      blackholed = false;
    },
    close: down,
  };
}
