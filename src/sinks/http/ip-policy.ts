// Which IP addresses a sink may connect to (the SSRF guard's core, RELIABILITY.md §c).
// Pure: parses an address to bytes and matches it against the refused ranges; no DNS, no I/O.
import { isIPv4, isIPv6 } from 'node:net';

/** Why an address is refused; a closed set so logs and metrics stay low-cardinality. */
export const RefusalReason = {
  invalid: 'invalid',
  unspecified: 'unspecified',
  loopback: 'loopback',
  private: 'private',
  linkLocal: 'link-local',
  cgnat: 'cgnat',
  multicast: 'multicast',
  broadcast: 'broadcast',
  reserved: 'reserved',
  uniqueLocal: 'unique-local',
} as const;
export type RefusalReason = (typeof RefusalReason)[keyof typeof RefusalReason];

export interface AddressPolicy {
  /** Local mode: loopback is allowed (and only loopback; private and metadata ranges stay refused). */
  local: boolean;
}

export type AddressVerdict = { allowed: true } | { allowed: false; reason: RefusalReason };

interface Range4 {
  base: number;
  bits: number;
  reason: RefusalReason;
}

const ip4 = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

// Every IPv4 range that is not public unicast. Metadata endpoints (169.254.169.254 for EC2,
// 169.254.170.2 for ECS task credentials) sit in link-local, which is refused in every mode.
const refused4: readonly Range4[] = [
  { base: ip4(0, 0, 0, 0), bits: 8, reason: 'unspecified' }, // "this network"
  { base: ip4(10, 0, 0, 0), bits: 8, reason: 'private' }, // RFC 1918
  { base: ip4(100, 64, 0, 0), bits: 10, reason: 'cgnat' }, // RFC 6598 shared address space
  { base: ip4(127, 0, 0, 0), bits: 8, reason: 'loopback' },
  { base: ip4(169, 254, 0, 0), bits: 16, reason: 'link-local' }, // incl. cloud metadata
  { base: ip4(172, 16, 0, 0), bits: 12, reason: 'private' }, // RFC 1918
  { base: ip4(192, 0, 0, 0), bits: 24, reason: 'reserved' }, // IETF protocol assignments
  { base: ip4(192, 0, 2, 0), bits: 24, reason: 'reserved' }, // TEST-NET-1
  { base: ip4(192, 88, 99, 0), bits: 24, reason: 'reserved' }, // 6to4 relay anycast (deprecated)
  { base: ip4(192, 168, 0, 0), bits: 16, reason: 'private' }, // RFC 1918
  { base: ip4(198, 18, 0, 0), bits: 15, reason: 'reserved' }, // benchmarking
  { base: ip4(198, 51, 100, 0), bits: 24, reason: 'reserved' }, // TEST-NET-2
  { base: ip4(203, 0, 113, 0), bits: 24, reason: 'reserved' }, // TEST-NET-3
  { base: ip4(224, 0, 0, 0), bits: 4, reason: 'multicast' },
  { base: ip4(255, 255, 255, 255), bits: 32, reason: 'broadcast' }, // before 240/4 so it names itself
  { base: ip4(240, 0, 0, 0), bits: 4, reason: 'reserved' },
];

/** Parses a dotted-quad IPv4 (strict: four decimal parts, no leading zeros) to a uint32. */
export function parseIPv4(text: string): number | undefined {
  if (!isIPv4(text)) return undefined;
  const parts = text.split('.').map(Number);
  return ip4(parts[0]!, parts[1]!, parts[2]!, parts[3]!);
}

/** Parses an IPv6 literal (no brackets, no zone id) to 16 bytes; handles `::` and a dotted tail. */
export function parseIPv6(text: string): Uint8Array | undefined {
  if (!isIPv6(text) || text.includes('%')) return undefined;
  let head = text;
  const tail: number[] = [];
  const lastColon = head.lastIndexOf(':');
  if (head.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4(head.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail.push(v4 >>> 16, v4 & 0xffff);
    head = head.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const groups = (s: string | undefined): number[] => (s ? s.split(':').filter((g) => g !== '').map((g) => parseInt(g, 16)) : []);
  const l = groups(left);
  const r = [...groups(right), ...tail];
  const fill = 8 - l.length - r.length;
  if (fill < 0 || (right === undefined && fill !== 0)) return undefined;
  const words = [...l, ...new Array<number>(fill).fill(0), ...r];
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[i * 2] = w >> 8;
    bytes[i * 2 + 1] = w & 0xff;
  });
  return bytes;
}

function check4(addr: number, policy: AddressPolicy): AddressVerdict {
  for (const r of refused4) {
    const mask = r.bits === 0 ? 0 : (0xffffffff << (32 - r.bits)) >>> 0;
    if ((addr & mask) >>> 0 === r.base) {
      if (r.reason === 'loopback' && policy.local) return { allowed: true };
      return { allowed: false, reason: r.reason };
    }
  }
  return { allowed: true };
}

const startsWith = (b: Uint8Array, prefix: readonly number[], bits: number): boolean => {
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const bit = 7 - (i & 7);
    if (((b[byte]! >> bit) & 1) !== ((prefix[byte] ?? 0) >> bit & 1)) return false;
  }
  return true;
};

const v4At = (b: Uint8Array, at: number): number => ip4(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);

function check6(b: Uint8Array, policy: AddressPolicy): AddressVerdict {
  const zeroUpTo = (n: number): boolean => b.subarray(0, n).every((x) => x === 0);
  if (zeroUpTo(16)) return { allowed: false, reason: 'unspecified' }; // ::
  if (zeroUpTo(15) && b[15] === 1) return policy.local ? { allowed: true } : { allowed: false, reason: 'loopback' }; // ::1
  // Forms that embed an IPv4 address are judged by that address, so ::ffff:127.0.0.1,
  // 64:ff9b::a9fe:a9fe (NAT64) and 2002:a9fe:a9fe:: (6to4) cannot smuggle a refused target.
  if (zeroUpTo(10) && b[10] === 0xff && b[11] === 0xff) return check4(v4At(b, 12), policy); // ::ffff:0:0/96 mapped
  if (startsWith(b, [0, 0x64, 0xff, 0x9b], 32) && b.subarray(4, 12).every((x) => x === 0)) return check4(v4At(b, 12), policy); // 64:ff9b::/96
  if (startsWith(b, [0x20, 0x02], 16)) return check4(v4At(b, 2), policy); // 2002::/16 6to4
  if (zeroUpTo(12)) return { allowed: false, reason: 'reserved' }; // ::a.b.c.d IPv4-compatible (deprecated)
  if (startsWith(b, [0, 0, 0, 0, 0, 0, 0, 0], 64) && b[8] === 0xff && b[9] === 0xff && b[10] === 0 && b[11] === 0) {
    return { allowed: false, reason: 'reserved' }; // ::ffff:0:a.b.c.d (SIIT translated)
  }
  if (startsWith(b, [0x01, 0x00], 64)) return { allowed: false, reason: 'reserved' }; // 100::/64 discard
  if (startsWith(b, [0x20, 0x01, 0x0d, 0xb8], 32)) return { allowed: false, reason: 'reserved' }; // documentation
  if (startsWith(b, [0x20, 0x01, 0, 0], 32)) return { allowed: false, reason: 'reserved' }; // Teredo: hides its IPv4 target
  if (startsWith(b, [0xfc], 7)) return { allowed: false, reason: 'unique-local' }; // fc00::/7
  if (startsWith(b, [0xfe, 0x80], 10)) return { allowed: false, reason: 'link-local' }; // fe80::/10
  if (startsWith(b, [0xfe, 0xc0], 10)) return { allowed: false, reason: 'private' }; // fec0::/10 site-local (deprecated)
  if (b[0] === 0xff) return { allowed: false, reason: 'multicast' };
  return { allowed: true };
}

/**
 * Judges one IP address (as text: dotted IPv4 or IPv6 without brackets) against the policy.
 * Anything that is not a well-formed address is refused.
 */
export function checkAddress(address: string, policy: AddressPolicy): AddressVerdict {
  const v4 = parseIPv4(address);
  if (v4 !== undefined) return check4(v4, policy);
  const v6 = parseIPv6(address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address);
  if (v6 !== undefined) return check6(v6, policy);
  return { allowed: false, reason: 'invalid' };
}

/** True for an IPv6 address that carries an IPv4 one in its low 32 bits (::ffff:a.b.c.d). */
export function isIPv4Mapped(address: string): boolean {
  const b = parseIPv6(address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address);
  return b !== undefined && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
}
