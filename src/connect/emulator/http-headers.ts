// Lenient parsing of the request headers Connect clients send (CONNECT_API.md §1, §2, §6):
// Bearer and Basic credentials, the Accept variants of each official client, the SRV cookie.
import { timingSafeEqual } from 'node:crypto';

export const ndjsonMediaType = 'application/vnd.urbanairship+x-ndjson';

export function bearerToken(header: string | undefined): string | undefined {
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Compares secrets in constant time, so the emulator does not teach clients timing habits. */
export function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * True when the Accept header admits the Connect NDJSON type at version 3. Clients differ in
 * spacing and trailing semicolons, Go prepends another type, and no header at all is accepted.
 */
export function acceptsConnectNdjson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((range) => {
    const [type = '', ...params] = range.split(';').map((s) => s.trim().toLowerCase());
    if (type === '*/*' || type === 'application/*') return true;
    if (type !== ndjsonMediaType) return false;
    const version = params.map((p) => /^version\s*=\s*"?([^"]*)"?$/.exec(p)?.[1]).find((v) => v !== undefined);
    return version === undefined || version === '3';
  });
}

/** A cookie's value from one or more Cookie headers; attributes echoed by naive clients are ignored. */
export function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  const headers = header === undefined ? [] : Array.isArray(header) ? header : [header];
  for (const h of headers) {
    for (const part of h.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    }
  }
  return undefined;
}
