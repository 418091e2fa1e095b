// The mixpanel probe: an authenticated /import of an empty array. Credentials are checked before
// the body, so 401/403 means the service account or token is wrong; 2xx or 400 means reachable and accepted.
import { probeVendor } from '../analytics/probe.js';
import type { RetryLogic } from '../http/retry-logic.js';
import type { HttpRequest, HttpTransport } from '../http/transport.js';

export function healthcheckMixpanel(transport: HttpTransport, retryLogic: RetryLogic, request: HttpRequest, signal: AbortSignal): Promise<void> {
  return probeVendor({ transport, retryLogic, request }, signal);
}
