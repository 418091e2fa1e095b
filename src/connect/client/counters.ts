// The client's counters, read as a snapshot (`client.counters()`) by the source actor's metrics
// (tributary.connect.*). Bounded keys only: reasons are a closed set, no ids or URLs.
import type { ReconnectReason } from './stream-item.js';

export interface ConnectClientCounters {
  /** HTTP requests sent (including 307 re-POSTs). */
  requests: number;
  /** 200 responses: streams opened. */
  connects: number;
  redirects: number;
  reconnects: Record<ReconnectReason, number>;
  /** Compressed bytes read from the network. */
  bytesReceived: number;
  /** Decompressed bytes fed to the line splitter. */
  bytesDecompressed: number;
  /** Complete lines framed (events, keep-alives, updates, poison). */
  lines: number;
  events: number;
  keepAlives: number;
  offsetUpdates: number;
  poison: number;
  oversizedLines: number;
  /** Events dropped because their offset was ≤ one already yielded (resume boundary, S6). */
  duplicatesDropped: number;
  /** Partial lines discarded at the end of a connection (never parsed, S1). */
  partialTailsDiscarded: number;
}

export function emptyCounters(): ConnectClientCounters {
  return {
    requests: 0,
    connects: 0,
    redirects: 0,
    reconnects: {
      ended: 0,
      truncated: 0,
      corrupt: 0,
      bad_lines: 0,
      idle_timeout: 0,
      network: 0,
      server_error: 0,
      rate_limited: 0,
      redirect_loop: 0,
    },
    bytesReceived: 0,
    bytesDecompressed: 0,
    lines: 0,
    events: 0,
    keepAlives: 0,
    offsetUpdates: 0,
    poison: 0,
    oversizedLines: 0,
    duplicatesDropped: 0,
    partialTailsDiscarded: 0,
  };
}

export function copyCounters(c: ConnectClientCounters): ConnectClientCounters {
  return { ...c, reconnects: { ...c.reconnects } };
}
