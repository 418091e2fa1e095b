// Pure: how a write's events are cut into vendor requests — consecutive runs, each within the
// vendor's events-per-request and bytes-per-request limits, in input order.

export interface ChunkLimits {
  maxEvents: number;
  maxBytes: number;
  /** Bytes of the request around the events (`{"api_key":…,"events":[` … `]}`). */
  envelopeBytes: number;
  /** Bytes between two events (a comma). */
  separatorBytes: number;
}

/**
 * Cuts `sizes` (bytes of each encoded event) into consecutive [start, end) ranges. Every range
 * has at least one event; a range of several events fits both limits. A single event too large
 * for any request gets a range of its own (the caller has already refused events above the
 * vendor's per-event limit, so that request may still be answered 413 and is handled there).
 */
export function planChunks(sizes: readonly number[], limits: ChunkLimits): [number, number][] {
  const ranges: [number, number][] = [];
  let start = 0;
  let bytes = limits.envelopeBytes;
  for (let i = 0; i < sizes.length; i++) {
    const size = sizes[i]!;
    const count = i - start;
    const added = (count > 0 ? limits.separatorBytes : 0) + size;
    if (count > 0 && (count >= limits.maxEvents || bytes + added > limits.maxBytes)) {
      ranges.push([start, i]);
      start = i;
      bytes = limits.envelopeBytes + size;
    } else {
      bytes += added;
    }
  }
  if (start < sizes.length) ranges.push([start, sizes.length]);
  return ranges;
}
