// A small seeded PRNG (sfc32 seeded through splitmix32) and the draws the generator needs.
// Deterministic for a seed on every platform, so a seed reproduces an app's whole event stream.

export interface Prng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Exponentially distributed with the given mean (inter-arrival gaps). */
  exponential(mean: number): number;
  /** A version-4-shaped UUID drawn from this generator. */
  uuid(): string;
  /** A uint32. */
  uint32(): number;
}

/** FNV-1a 32-bit: stable, fast hash for seeds and PARTITION subsets. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Mixes numbers into one 32-bit seed, so sub-generators (per device, per concern) are independent. */
export function mixSeed(...parts: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

const hex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function createPrng(seed: number): Prng {
  // splitmix32 expands one seed into sfc32's four words; sfc32 passes PractRand and is fast in JS.
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const uint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) uint32();
  const next = () => uint32() / 4_294_967_296;
  const byteHex = (n: number, shift: number) => hex[(n >>> shift) & 0xff]!;
  const word = (n: number) => byteHex(n, 24) + byteHex(n, 16) + byteHex(n, 8) + byteHex(n, 0);
  return {
    next,
    uint32,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => p > 0 && next() < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new RangeError('pick from an empty list');
      return items[Math.floor(next() * items.length)]!;
    },
    exponential: (mean) => -Math.log(1 - next()) * mean,
    uuid: () => {
      const w1 = word(uint32());
      const w2 = uint32();
      const w3 = uint32();
      const w4 = word(uint32());
      const version = (0x4000 | (w2 & 0x0fff)).toString(16).padStart(4, '0');
      const variant = (0x8000 | (w3 >>> 16 & 0x3fff)).toString(16).padStart(4, '0');
      return `${w1}-${word(w2).slice(0, 4)}-${version}-${variant}-${byteHex(w3, 8)}${byteHex(w3, 0)}${w4}`;
    },
  };
}

/** Draws an item by weight; `weights` must be non-empty with a positive total. */
export function weightedPick<T>(prng: Prng, items: readonly { item: T; weight: number }[]): T {
  let total = 0;
  for (const i of items) total += i.weight;
  let r = prng.next() * total;
  for (const i of items) {
    r -= i.weight;
    if (r < 0) return i.item;
  }
  return items[items.length - 1]!.item;
}
