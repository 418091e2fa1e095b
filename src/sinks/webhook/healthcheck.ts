// The webhook probe: one signed, authenticated POST carrying zero events (an empty NDJSON body
// or `[]`, X-Tributary-Event-Count: 0, X-Tributary-Probe: 1). It exercises DNS, the SSRF guard,
// TLS and credentials exactly as a real batch does, and delivers no data.
import { TributaryError } from '../../errors.js';
import { safeUrl } from '../../observability/logger.js';
import type { RetryLogic } from '../http/retry-logic.js';
import type { HttpRequest, HttpTransport } from '../http/transport.js';

export interface WebhookProbe {
  transport: HttpTransport;
  retryLogic: RetryLogic;
  /** Builds the zero-event request (signed and authenticated like any batch). */
  request(): Promise<HttpRequest>;
}

/**
 * Resolves when the receiver is reachable and accepts our credentials. A 4xx that refuses the
 * empty body itself (400, 413, 422) still proves both, so it passes. Throws a `misconfiguration`
 * TributaryError for 401/403/404/3xx/SSRF, a retryable one for 5xx/429/network. One attempt,
 * no retries: the caller (start-up check, slow probe of a paused integration) decides when to ask again.
 */
export async function healthcheckWebhook(probe: WebhookProbe, signal: AbortSignal): Promise<void> {
  const base = await probe.request();
  const req: HttpRequest = { ...base, headers: { ...base.headers, 'x-tributary-probe': '1' } };
  const res = await probe.transport.send(req, signal);
  const decision = probe.retryLogic.decide(res.status);
  if (decision.outcome === 'delivered' || decision.outcome === 'rejected' || decision.outcome === 'tooLarge') return;
  throw new TributaryError(decision.code, `probe: HTTP ${res.status} from ${safeUrl(req.url.href)}`, {
    status: res.status,
    details: res.body ? { responseBody: res.body } : undefined,
  });
}
