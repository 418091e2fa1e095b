// Where the bearer token may go: only the configured Connect host, https only, and (unless
// allowAnyHost is set for local emulators and tests) only Airship's own Connect hosts.
import { ErrorCode, TributaryError } from '../../errors.js';
import { safeUrl } from '../../observability/logger.js';

export const connectHosts = ['connect.urbanairship.com', 'connect.asnapieu.com'] as const;

/** Validates the endpoint URL once; the client never sends the token anywhere else (it ignores Location). */
export function checkEndpoint(url: string, policy: { allowAnyHost: boolean; allowedHosts: readonly string[] }): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TributaryError(ErrorCode.connectHostNotAllowed, `Connect URL is not a valid URL: ${safeUrl(url)}`);
  }
  if (u.username || u.password) {
    throw new TributaryError(ErrorCode.connectHostNotAllowed, `Connect URL must not carry credentials: ${safeUrl(url)}`);
  }
  if (policy.allowAnyHost) {
    if (u.protocol !== 'https:' && u.protocol !== 'http:') {
      throw new TributaryError(ErrorCode.connectHostNotAllowed, `Connect URL must be http(s): ${safeUrl(url)}`);
    }
    return u;
  }
  if (u.protocol !== 'https:') {
    throw new TributaryError(ErrorCode.connectHostNotAllowed, `Connect URL must be https: ${safeUrl(url)}`);
  }
  if (!policy.allowedHosts.includes(u.hostname.toLowerCase())) {
    throw new TributaryError(
      ErrorCode.connectHostNotAllowed,
      `Connect host ${u.hostname} is not allowed (allowed: ${policy.allowedHosts.join(', ')})`,
    );
  }
  return u;
}
