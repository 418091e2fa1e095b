// A bounded window of recently seen event ids, so re-sent events (source restarts, Connect's
// own duplicates) are delivered once. It holds the last `capacity` recorded ids.
//
// Connect's event ids are UUIDs, so the window keeps a lowercase UUID as its 128 bits in typed
// arrays (a ring of insertion slots, and an open-addressing table of slot numbers), not as a
// string in a Map. The comparison is exact: the 128 bits are the id. Any other id (uppercase,
// another format) is kept as a string in a Map beside it, in the same ring, so eviction order is
// one. Why: at the large tier's 200,000 ids, the strings and the Map's entries were ~400,000
// objects in the old generation that every major GC marked again, and each delivered id was
// promoted there before dying 200,000 events later. In scenario 1 a 100-id window ran the node
// at 41–43 µs of CPU per event against 44–47 µs with 200,000 string ids, and its heap after a
// major GC was 29–32 MB against 49–57 (BENCHMARKS.md, "A dedup window without strings").
//
// The oldest id leaves through the ring, O(1) per event. (Evicting through a Set's first element
// was O(deleted ids) per eviction: V8 skips every deleted entry until the table is rebuilt. At
// 200,000 ids that cost ~126 µs per delivered event once the window was full: bench/dedup-window.ts.)
// The arrays start small and double up to `capacity`, so a quiet integration's window stays small.

/** A quiet integration's window: ~7.5 KB of arrays (1,000 of them idle in scenario 3). */
const initialSlots = 256;
const uuidKind = 0;
const stringKind = 1;

/** Parses a lowercase UUID (8-4-4-4-12 hex) into `out[0..3]`; false for anything else. */
function parseUuid(id: string, out: Uint32Array): boolean {
  if (id.length !== 36 || id.charCodeAt(8) !== 45 || id.charCodeAt(13) !== 45 || id.charCodeAt(18) !== 45 || id.charCodeAt(23) !== 45) return false;
  let word = 0;
  let digits = 0;
  let w = 0;
  for (let i = 0; i < 36; i++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) continue;
    const c = id.charCodeAt(i);
    let v: number;
    if (c >= 48 && c <= 57) v = c - 48;
    else if (c >= 97 && c <= 102) v = c - 87;
    else return false;
    word = (word << 4) | v;
    if (++digits === 8) {
      out[w++] = word >>> 0;
      word = 0;
      digits = 0;
    }
  }
  return true;
}

/** A 32-bit mix of the four words (ids need not be random: v1 UUIDs, test ids). */
function hashWords(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ c, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ d, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class DedupWindow {
  /** Ring of insertion slots: per slot its UUID's 4 words, hash and kind (UUID or string). */
  private words: Uint32Array;
  private hashes: Uint32Array;
  private kinds: Uint8Array;
  /** Per slot its string id, for ids that are not lowercase UUIDs (made when first needed). */
  private strings: (string | undefined)[] | undefined;
  /** Open addressing, linear probing: slot + 1 of each UUID in the window, 0 for empty. */
  private table: Int32Array;
  private mask: number;
  /** String ids in the window → their slot. */
  private readonly stringSlots = new Map<string, number>();
  private slots: number;
  private inserted = 0;
  private uuids = 0;
  private readonly key = new Uint32Array(4);

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.slots = Math.min(capacity, initialSlots);
    this.words = new Uint32Array(this.slots * 4);
    this.hashes = new Uint32Array(this.slots);
    this.kinds = new Uint8Array(this.slots);
    this.table = new Int32Array(tableSizeFor(this.slots));
    this.mask = this.table.length - 1;
  }

  /** True when the id is in the window; otherwise records it (the oldest recorded id leaves) and returns false. */
  seen(id: string): boolean {
    const key = this.key;
    if (parseUuid(id, key)) {
      const h = this.keyHash();
      if (this.find(h) >= 0) return true;
      const slot = this.nextSlot();
      this.words.set(key, slot * 4);
      this.hashes[slot] = h;
      this.kinds[slot] = uuidKind;
      let i = h & this.mask;
      while (this.table[i] !== 0) i = (i + 1) & this.mask;
      this.table[i] = slot + 1;
      this.uuids++;
      return false;
    }
    if (this.stringSlots.has(id)) return true;
    const slot = this.nextSlot();
    this.kinds[slot] = stringKind;
    (this.strings ??= [])[slot] = id;
    this.stringSlots.set(id, slot);
    return false;
  }

  has(id: string): boolean {
    if (parseUuid(id, this.key)) return this.find(this.keyHash()) >= 0;
    return this.stringSlots.has(id);
  }

  /** Records a delivered id; the window keeps the last `capacity` recorded. */
  add(id: string): void {
    this.seen(id);
  }

  /** Forgets every id: a replay must deliver again what was delivered before. */
  clear(): void {
    this.table.fill(0);
    this.stringSlots.clear();
    this.strings = undefined;
    this.inserted = 0;
    this.uuids = 0;
  }

  /** Forgets an id (its delivery failed, so a retry must not be taken for a duplicate). */
  forget(id: string): void {
    if (parseUuid(id, this.key)) {
      const i = this.find(this.keyHash());
      if (i >= 0) this.remove(i);
      return;
    }
    this.stringSlots.delete(id);
  }

  get size(): number {
    return this.uuids + this.stringSlots.size;
  }

  /** The hash of the UUID in `this.key`. */
  private keyHash(): number {
    const k = this.key;
    return hashWords(k[0]!, k[1]!, k[2]!, k[3]!);
  }

  /** The table index holding the UUID in `this.key` (hash `h`), or -1. */
  private find(h: number): number {
    const { table, words, hashes, key, mask } = this;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = table[i]!;
      if (v === 0) return -1;
      const s = v - 1;
      const at = s * 4;
      if (hashes[s] === h && words[at] === key[0] && words[at + 1] === key[1] && words[at + 2] === key[2] && words[at + 3] === key[3]) return i;
    }
  }

  /** The slot for the next id: the oldest one's once the window is full (evicting what it held). */
  private nextSlot(): number {
    const n = this.inserted++;
    if (n < this.capacity) {
      if (n === this.slots) this.grow();
      return n;
    }
    const slot = n % this.capacity;
    this.evict(slot);
    return slot;
  }

  /** Removes what `slot` holds from the window, unless it was forgotten (and maybe recorded again elsewhere). */
  private evict(slot: number): void {
    if (this.kinds[slot] === stringKind) {
      const id = this.strings![slot]!;
      if (this.stringSlots.get(id) === slot) this.stringSlots.delete(id);
      this.strings![slot] = undefined;
      return;
    }
    const { table, mask } = this;
    for (let i = this.hashes[slot]! & mask; table[i] !== 0; i = (i + 1) & mask) {
      if (table[i] === slot + 1) {
        this.remove(i);
        return;
      }
    }
  }

  /** Deletes table entry `i`, shifting back the entries after it that probed past it. */
  private remove(i: number): void {
    const { table, hashes, mask } = this;
    for (let j = (i + 1) & mask; table[j] !== 0; j = (j + 1) & mask) {
      const home = hashes[table[j]! - 1]! & mask;
      // Entry j may move to i when i lies cyclically in [home, j).
      if (((j - home) & mask) >= ((j - i) & mask)) {
        table[i] = table[j]!;
        i = j;
      }
    }
    table[i] = 0;
    this.uuids--;
  }

  /** Doubles the ring (up to `capacity`) and rebuilds the table for it; only before the window first fills. */
  private grow(): void {
    const slots = Math.min(this.capacity, this.slots * 2);
    const words = new Uint32Array(slots * 4);
    words.set(this.words);
    const hashes = new Uint32Array(slots);
    hashes.set(this.hashes);
    const kinds = new Uint8Array(slots);
    kinds.set(this.kinds);
    const table = new Int32Array(tableSizeFor(slots));
    const mask = table.length - 1;
    for (const v of this.table) {
      if (v === 0) continue;
      let i = hashes[v - 1]! & mask;
      while (table[i] !== 0) i = (i + 1) & mask;
      table[i] = v;
    }
    this.words = words;
    this.hashes = hashes;
    this.kinds = kinds;
    this.table = table;
    this.mask = mask;
    this.slots = slots;
  }
}

/** A power of two at least twice the slots: probes stay short at a load of ≤ 0.5. */
function tableSizeFor(slots: number): number {
  return 1 << (32 - Math.clz32(Math.max(2, slots * 2) - 1));
}
