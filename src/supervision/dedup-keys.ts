// Page dedup keys: stable functions of the condition only (never of a node, a time or an
// episode), so every node that sees the same condition names the same PagerDuty incident.
import { createHash } from 'node:crypto';

/** PagerDuty caps dedup_key at 255 characters; integration ids are far shorter. */
const maxKeyLength = 255;

export function integrationDedupKey(source: string, integrationId: string): string {
  return `${source}:integration:${integrationId}`.slice(0, maxKeyLength);
}

/** Retention risk is its own incident: it pages at any tier and must not merge with a failure page. */
export function retentionDedupKey(source: string, integrationId: string): string {
  return `${source}:retention:${integrationId}`.slice(0, maxKeyLength);
}

export function fleetDedupKey(source: string): string {
  return `${source}:fleet`;
}

/** Fingerprints are long normalised messages; a short hash keeps the key bounded and stable. */
export function systemicDedupKey(source: string, fingerprint: string): string {
  return `${source}:systemic:${fingerprintHash(fingerprint)}`;
}

export function fingerprintHash(fingerprint: string): string {
  return createHash('sha256').update(fingerprint).digest('hex').slice(0, 16);
}
