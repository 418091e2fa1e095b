// A small TCP fault proxy (toxiproxy is not available here): listens on 127.0.0.1, forwards every
// connection to a target, and misbehaves on demand between the two — the userspace stand-in for
// netem latency, iptables resets and blackholes (../shared/RELIABILITY.md T5/T6, K1).
//
//   const proxy = await startTcpFaultProxy({ target: { host: '127.0.0.1', port: rx.port } });
//   …point the client at proxy.port…
//   proxy.setLatency(300);           // each chunk, both ways, delivered 300 ms after it arrived
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

/** Bytes a direction may hold in its delay line before the sender is paused (4 MiB). */
const IN_FLIGHT_CAP = 4 * 1024 * 1024;

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

  // Forwards each chunk `latencyMs` after it arrived, in order: a delay line, as netem's `delay`
  // is, not a throttle. Chunks in flight overlap, so a large body takes the latency once, not once
  // per chunk. In-flight bytes are capped (a TCP window's worth, IN_FLIGHT_CAP) and the receiving
  // side's backpressure pauses the sender, so a slow reader still slows the writer.
  const pipe = (from: Socket, to: Socket, count: (n: number) => void) => {
    const queue: { chunk: Buffer; due: number }[] = [];
    let queued = 0;
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    let blocked = false; // paused for the downstream's backpressure
    let onEmpty: (() => void) | undefined;
    const resumeIfRoom = () => {
      if (!blocked && queued <= IN_FLIGHT_CAP && from.isPaused()) from.resume();
    };
    const send = (chunk: Buffer) => {
      if (to.destroyed || to.write(chunk)) return;
      blocked = true;
      from.pause();
      to.once('drain', () => {
        blocked = false;
        resumeIfRoom();
      });
    };
    const flush = () => {
      timer = undefined;
      const now = Date.now();
      while (queue.length > 0 && queue[0]!.due <= now) {
        const { chunk } = queue.shift()!;
        queued -= chunk.length;
        send(chunk);
      }
      if (queue.length > 0) timer = setTimeout(flush, queue[0]!.due - now);
      else {
        if (ended && !to.destroyed) to.end();
        onEmpty?.();
      }
      resumeIfRoom();
    };
    from.on('data', (chunk: Buffer) => {
      count(chunk.length);
      if (blackholed) return; // open connections freeze too: bytes vanish, nothing answers
      if (latencyMs <= 0 && queue.length === 0) {
        send(chunk);
        return;
      }
      // The queue's order is the byte order: a chunk due earlier than one ahead of it (latency
      // lowered or healed mid-flight) waits for it.
      queue.push({ chunk, due: Date.now() + latencyMs });
      queued += chunk.length;
      if (queued > IN_FLIGHT_CAP) from.pause();
      timer ??= setTimeout(flush, Math.max(0, queue[0]!.due - Date.now()));
    });
    from.on('end', () => {
      ended = true;
      if (queue.length === 0 && !to.destroyed) to.end();
    });
    return {
      /** Runs `fn` once every chunk already read from `from` has been written on. */
      afterFlush(fn: () => void) {
        if (queue.length === 0) fn();
        else onEmpty = fn;
      },
    };
  };

  const onConnection = (client: Socket) => {
    stats.connections += 1;
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => undefined);
    if (blackholed) {
      stats.blackholed += 1;
      client.on('data', () => undefined); // swallowed
      client.on('end', () => client.destroy()); // the client gave up: let go of its socket
      return;
    }
    if (resetP > 0 && random() < resetP) {
      stats.resets += 1;
      reset(client);
      return;
    }
    // Half-open both ways, so a side's FIN travels through the delay line behind its bytes.
    const upstream = connect({ port: o.target.port, host: o.target.host, allowHalfOpen: true });
    open.add(upstream);
    upstream.on('close', () => {
      open.delete(upstream);
      // The target closed: what it sent before is still in the delay line; deliver it, then close.
      back.afterFlush(() => {
        if (!client.destroyed) client.destroy();
      });
    });
    upstream.on('error', () => reset(client));
    client.on('close', () => {
      if (!upstream.destroyed) upstream.destroy();
    });
    pipe(client, upstream, (n) => (stats.bytesUp += n));
    const back = pipe(upstream, client, (n) => (stats.bytesDown += n));
  };

  const up = async () => {
    if (server) return;
    const s = createServer({ allowHalfOpen: true }, onConnection);
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
