// Which sink URLs a spec may name (the configuration-time half of the SSRF guard). Pure.
// The connect-time half (ssrf-agent.ts) re-checks every resolved address, so DNS cannot undo this.
import { isIPv4 } from 'node:net';
import { checkAddress, isIPv4Mapped, type AddressPolicy } from './ip-policy.js';

export type UrlVerdict = { ok: true; url: URL } | { ok: false; problem: string };

// The host exactly as written, before WHATWG URL canonicalises `127.1`, `0x7f.1`, `2130706433`,
// `0177.0.0.1`, `%31%32%37.0.0.1` or fullwidth digits into `127.0.0.1`.
const rawHostPattern = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#\\]*@)?(\[[^\]]*\]|[^:/?#\\]*)/i;

/**
 * Checks a sink URL: https only (http too in local mode), no userinfo, no fragment, a host that
 * is a name or a canonical address, and no refused address literal. Hostnames are judged again,
 * by their resolved addresses, at connect time.
 */
export function checkSinkUrl(text: string, policy: AddressPolicy): UrlVerdict {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: 'must be an absolute URL' };
  }
  if (url.protocol !== 'https:' && !(policy.local && url.protocol === 'http:')) {
    return { ok: false, problem: policy.local ? 'must be http or https' : 'must be https' };
  }
  // Credentials in a URL end up in logs and proxies; auth has its own secret-referencing field.
  if (url.username || url.password || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(text)) {
    return { ok: false, problem: 'must not contain userinfo (user:password@); use auth' };
  }
  if (url.hash) return { ok: false, problem: 'must not contain a fragment' };
  const raw = rawHostPattern.exec(text)?.[1]?.toLowerCase() ?? '';
  const host = url.hostname;
  if (!host) return { ok: false, problem: 'must have a host' };

  if (host.startsWith('[')) {
    const address = host.slice(1, -1);
    if (isIPv4Mapped(address)) return { ok: false, problem: 'must not use an IPv4-mapped IPv6 address' };
    const verdict = checkAddress(address, policy);
    if (!verdict.allowed) return { ok: false, problem: `must not point at a ${verdict.reason} address (${host})` };
    return { ok: true, url };
  }
  if (isIPv4(host)) {
    if (raw !== host) return { ok: false, problem: `host "${raw}" is a non-canonical IPv4 form; write ${host} if that is meant` };
    const verdict = checkAddress(host, policy);
    if (!verdict.allowed) return { ok: false, problem: `must not point at a ${verdict.reason} address (${host})` };
    return { ok: true, url };
  }
  // Names that always mean this machine; anything else is judged after DNS, at connect time.
  const bare = host.endsWith('.') ? host.slice(0, -1) : host;
  if (!policy.local && (bare === 'localhost' || bare.endsWith('.localhost'))) {
    return { ok: false, problem: 'must not point at a loopback address (localhost)' };
  }
  if (raw !== host && raw.normalize('NFKC').toLowerCase() !== host && !/[^\x00-\x7f]/.test(raw)) {
    // Percent-encoded or otherwise rewritten ASCII names hide what they resolve to.
    return { ok: false, problem: `host "${raw}" is not in canonical form` };
  }
  return { ok: true, url };
}
