// The analytics sinks' healthcheck: one zero-event request through the same transport, SSRF
// guard and credentials as a batch. It delivers no data; one attempt, no retries.
import { TributaryError } from '../../errors.js';
import { safeUrl } from '../../observability/logger.js';
import type { RetryLogic } from '../http/retry-logic.js';
import { maxResponseKeptBytes, truncateUtf8, type HttpRequest, type HttpResponse, type HttpTransport } from '../http/transport.js';

export interface VendorProbe {
  transport: HttpTransport;
  retryLogic: RetryLogic;
  request: HttpRequest;
  /**
   * The vendor's own reading of an answer the status table calls refused (a 400 to an empty
   * batch is normal; a 400 naming the API key is not): a TributaryError to throw, or undefined (pass).
   */
  judge?(res: HttpResponse): TributaryError | undefined;
}

/**
 * Resolves when the vendor is reachable and takes our credentials; throws a `misconfiguration`
 * TributaryError for 401/403/404/3xx/SSRF (or what `judge` says), a retryable one for 5xx/429/network.
 */
export async function probeVendor(probe: VendorProbe, signal: AbortSignal): Promise<void> {
  const res = await probe.transport.send(probe.request, signal);
  const decision = probe.retryLogic.decide(res.status);
  const fail = (code: TributaryError['code']): TributaryError =>
    new TributaryError(code, `probe: HTTP ${res.status} from ${safeUrl(probe.request.url.href)}`, {
      status: res.status,
      details: res.body ? { responseBody: truncateUtf8(Buffer.from(res.body), maxResponseKeptBytes) } : undefined,
    });
  if (decision.outcome === 'delivered') return;
  if (decision.outcome === 'rejected' || decision.outcome === 'tooLarge') {
    const verdict = probe.judge?.(res);
    if (verdict) throw verdict;
    // A 429 handed back for its body (Amplitude) is still "try later", not "fine".
    if (res.status === 429) throw fail(decision.code);
    return;
  }
  throw fail(decision.code);
}
