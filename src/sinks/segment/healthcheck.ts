// The segment probe: an authenticated batch with no messages. Segment answers 200 to nearly
// anything, so this proves reachability (DNS, TLS, SSRF guard) and only catches a write key it refuses outright (401/403).
import { probeVendor } from '../analytics/probe.js';
import type { RetryLogic } from '../http/retry-logic.js';
import type { HttpRequest, HttpTransport } from '../http/transport.js';

export function healthcheckSegment(transport: HttpTransport, retryLogic: RetryLogic, request: HttpRequest, signal: AbortSignal): Promise<void> {
  return probeVendor({ transport, retryLogic, request }, signal);
}
