// The amplitude probe: a request with the API key and no events. Amplitude answers 400 to an
// empty events list, which proves the endpoint is reachable; a 400 naming the key does not pass.
import { ErrorCode, TributaryError } from '../../errors.js';
import { probeVendor } from '../analytics/probe.js';
import type { RetryLogic } from '../http/retry-logic.js';
import type { HttpRequest, HttpTransport } from '../http/transport.js';
import { isApiKeyError } from './request-builder.js';

export function healthcheckAmplitude(transport: HttpTransport, retryLogic: RetryLogic, request: HttpRequest, signal: AbortSignal): Promise<void> {
  return probeVendor(
    {
      transport,
      retryLogic,
      request,
      judge(res) {
        if (res.status !== 400) return undefined;
        let parsed: { error?: unknown; missing_field?: unknown } = {};
        try {
          parsed = JSON.parse(res.body) as typeof parsed;
        } catch {
          return undefined;
        }
        return isApiKeyError(parsed) ? new TributaryError(ErrorCode.sinkAuth, 'probe: Amplitude refused the API key', { status: 400 }) : undefined;
      },
    },
    signal,
  );
}
