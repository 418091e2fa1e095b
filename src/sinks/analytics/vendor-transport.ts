// The HTTP transport of the analytics sinks: the shared one (src/sinks/http/transport.ts), keeping
// up to 1 MiB of a response, because a vendor's partial-failure answer (Amplitude's event
// indices, Mixpanel's failed_records) is longer than the 1 KiB kept by default and is needed
// whole to reject exactly the refused events. Callers truncate before a DLQ or a log.
import { createHttpTransport, type HttpTransport, type TransportOptions } from '../http/transport.js';

/** Enough for 2,000 failed records with their messages; a longer answer is cut (and the socket dropped). */
export const maxVendorResponseBytes = 1024 * 1024;

export function createVendorTransport(options: TransportOptions): HttpTransport {
  return createHttpTransport({ ...options, maxKeptBytes: maxVendorResponseBytes });
}
