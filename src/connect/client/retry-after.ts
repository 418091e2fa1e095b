// Parses an HTTP Retry-After header (RFC 9110 §10.2.3): delay-seconds or an HTTP date.
// Returns milliseconds to wait, or undefined when absent or unparseable.

export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // Fractional seconds are not in the RFC but some servers send them; accept rather than ignore.
  if (/^\d+\.\d+$/.test(v)) return Math.ceil(Number(v) * 1000);
  // Only accept something that looks like an HTTP date: Date.parse alone accepts "1" or "-5".
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
