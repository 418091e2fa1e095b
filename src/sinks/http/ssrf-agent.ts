// An undici Agent that refuses to connect to non-public addresses (the connect-time SSRF guard).
// Checking at connect time, on the addresses actually dialled, is what defeats DNS rebinding.
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { ErrorCode, TributaryError } from '../../errors.js';
import { checkAddress, type AddressPolicy } from './ip-policy.js';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to all its addresses; injectable so tests can point names anywhere. */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export interface SsrfAgentOptions extends AddressPolicy {
  resolver?: Resolver;
  /** TCP + TLS connect timeout. */
  connectTimeoutMs?: number;
  /** Idle keep-alive sockets are closed after this. */
  keepAliveTimeoutMs?: number;
  /** Parallel connections per origin: the sink's bulkhead (RELIABILITY.md T5). */
  connections?: number;
}

export function ssrfBlocked(host: string, address: string, reason: string): TributaryError {
  return new TributaryError(ErrorCode.ssrfBlocked, `refused to connect to ${host}: it resolves to a ${reason} address`, {
    details: { host, address, reason },
  });
}

/**
 * A `lookup` for net/tls.connect that resolves with the injected resolver and refuses the
 * whole name when any address is refused (a name mixing public and internal addresses is
 * itself a sign of rebinding).
 */
export function guardedLookup(policy: AddressPolicy, resolver: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolver(hostname).then(
      (all) => {
        const family = typeof options.family === 'number' ? options.family : 0;
        const usable = all.filter((a) => family === 0 || a.family === family);
        if (usable.length === 0) {
          const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
          callback(err, '', 0);
          return;
        }
        for (const a of usable) {
          const verdict = checkAddress(a.address, policy);
          if (!verdict.allowed) {
            callback(ssrfBlocked(hostname, a.address, verdict.reason) as unknown as NodeJS.ErrnoException, '', 0);
            return;
          }
        }
        if (options.all) {
          (callback as unknown as (err: null, addresses: ResolvedAddress[]) => void)(null, [...usable]);
        } else {
          callback(null, usable[0]!.address, usable[0]!.family);
        }
      },
      (err: unknown) => callback(err as NodeJS.ErrnoException, '', 0),
    );
  };
}

/** Builds the guarded Agent. No redirect interceptor is installed, so 3xx answers are never followed. */
export function createSsrfAgent(options: SsrfAgentOptions): Agent {
  const policy: AddressPolicy = { local: options.local };
  const base = buildConnector({
    timeout: options.connectTimeoutMs ?? 10_000,
    lookup: guardedLookup(policy, options.resolver ?? systemResolver),
  } as buildConnector.BuildOptions);
  const connect: buildConnector.connector = (opts, callback) => {
    // An address literal never reaches `lookup`, so it is judged here.
    if (isIP(opts.hostname)) {
      const verdict = checkAddress(opts.hostname, policy);
      if (!verdict.allowed) {
        callback(ssrfBlocked(opts.hostname, opts.hostname, verdict.reason), null);
        return;
      }
    }
    base(opts, (err, socket) => {
      if (err || !socket) {
        callback(err ?? new Error('connect failed'), null);
        return;
      }
      // Belt and braces: judge the peer we actually reached, whatever path led there.
      const peer = (socket as Socket).remoteAddress;
      const verdict = peer ? checkAddress(peer, policy) : { allowed: false as const, reason: 'invalid' as const };
      if (!verdict.allowed) {
        socket.destroy();
        callback(ssrfBlocked(opts.hostname, peer ?? '?', verdict.reason), null);
        return;
      }
      callback(null, socket);
    });
  };
  return new Agent({
    connect,
    connections: options.connections ?? 4,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
  });
}
