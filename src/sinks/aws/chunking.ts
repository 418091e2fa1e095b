// Pure: splits a batch into requests within a service's documented limits (entries per request,
// bytes per request, bytes per entry), keeping input order. Shared by firehose and kinesis.

export interface RequestLimits {
  maxEntries: number;
  maxRequestBytes: number;
  maxEntryBytes: number;
}

export interface RequestPlan {
  /** Indices into the input, consecutive, each group within the limits. */
  requests: number[][];
  /** Indices of entries larger than maxEntryBytes alone: no request can carry them. */
  oversized: number[];
}

export function planRequests(sizes: readonly number[], limits: RequestLimits): RequestPlan {
  const requests: number[][] = [];
  const oversized: number[] = [];
  let current: number[] = [];
  let bytes = 0;
  sizes.forEach((size, i) => {
    if (size > limits.maxEntryBytes) {
      oversized.push(i);
      return;
    }
    if (current.length > 0 && (current.length >= limits.maxEntries || bytes + size > limits.maxRequestBytes)) {
      requests.push(current);
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += size;
  });
  if (current.length > 0) requests.push(current);
  return { requests, oversized };
}
