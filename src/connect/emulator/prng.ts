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
  return new Sfc32(seed);
}

/**
 * sfc32 (passes PractRand, fast in JS), its four words expanded from one seed by splitmix32.
 * A class rather than closures: generators are created per device, so construction must be cheap.
 */
class Sfc32 implements Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const split = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = split();
    this.b = split();
    this.c = split();
    this.d = split();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  next(): number {
    return this.uint32() / 4_294_967_296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  uuid(): string {
    const w1 = word(this.uint32());
    const w2 = this.uint32();
    const w3 = this.uint32();
    const w4 = word(this.uint32());
    const version = (0x4000 | (w2 & 0x0fff)).toString(16).padStart(4, '0');
    const variant = (0x8000 | ((w3 >>> 16) & 0x3fff)).toString(16).padStart(4, '0');
    return `${w1}-${word(w2).slice(0, 4)}-${version}-${variant}-${byteHex(w3, 8)}${byteHex(w3, 0)}${w4}`;
  }
}

function byteHex(n: number, shift: number): string {
  return hex[(n >>> shift) & 0xff]!;
}

function word(n: number): string {
  return byteHex(n, 24) + byteHex(n, 16) + byteHex(n, 8) + byteHex(n, 0);
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
