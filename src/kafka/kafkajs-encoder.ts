// kafkajs's Encoder, made to stop copying a produce request nine times (installed by
// applyKafkajsFixes, fix 2 in kafkajs-fixes.ts).
//
// kafkajs writes a produce request in nested encoders: record, batch body, batch, offset + batch,
// partition, topic, request body, request, size + request. Each level is a new Encoder (a 512-byte
// buffer) that copies the level below into itself, growing by doubling, so every byte of an
// event was copied ~10 times, into fresh buffers up to twice its size at each level. V8 counts
// those buffers as young external memory and forces a scavenge every 32 MB of it (a constant, not
// `--max-semi-space-size`): in scenario 1, 245 of the node's 486 scavenges over 300,000 events
// ("external memory pressure" in `--trace-gc`), with the early promotion they bring. After these
// changes: 93 of 343 (BENCHMARKS.md, "kafkajs's produce encoding without its copies").
//
// Five changes, each keeping the bytes kafkajs would write (a differential test holds them equal):
// - **Big buffers have room in front** (an *arena*). A write of more than 4 KiB grows the encoder
//   into one: 512 bytes of headroom, the bytes, 4 KiB after them for the small fields that follow
//   (a record's headers after its value). Smaller writes still double, as kafkajs does. (64 KiB
//   until 2026-12-06: a quiet integration's packs of 10–40 events, 10–40 KiB, were copied at every
//   level; `npm run bench:kafkajs-encode -- --request-events 60`, BENCHMARKS.md.)
// - **A level adopts the level below instead of copying it.** When an encoder that holds only a
//   small header is asked to write a big buffer that sits at the front of an arena, with nothing
//   of anyone's after it, the header is copied into the headroom just before it and the encoder
//   takes over the arena from there. So a record, its batch, the batch's wrapping and so on up to
//   the request share one buffer. Where adopting does not apply (the buffer is not at an arena's
//   front: a retry re-encoding the same record, a second partition after the first), the bytes
//   are copied as before.
// - **An array of encoders reserves its total size once** (a request's partitions, a batch's
//   records), instead of doubling through them.
// - **`writeBytes` of a big buffer reserves nothing first** (kafkajs's did, for length + 4), so
//   the level that adopts the buffer allocates nothing.
// - **No first buffer** (`firstBufferSize`): kafkajs gave every encoder 512 zeroed bytes of their
//   own, ~2.9 µs each with the GC they bring; the first write now takes a slice of Node's pool.
// The source's packed record values are allocated as arenas too (`allocRecordValue`), so the
// record itself adopts the value it carries: a packed event is copied once, into its pack. Those
// arenas are pooled: the source releases a pack's value once Kafka acknowledged it
// (`releaseRecordValue`), and the next pack of that size class is written into it. A pack waits
// from its batch to its ack (the linger, the produce queue, a broker round trip), long enough to
// be promoted; before the pool each was new external memory that outlived the young generation,
// and every 64 MB of it started a Mark-Compact of the whole heap (BENCHMARKS.md).
//
// The one assumption: kafkajs never writes into an encoder after embedding it in another (each
// level is built, then embedded, then left), so the embedding level may append into the arena
// after the embedded bytes. kafkajs 2.2.4 is unmaintained; these internals do not move.

export interface EncoderLike {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
  writeBufferInternal(buffer: Buffer): void;
  writeArray(array: unknown[], type?: string, length?: number): EncoderLike;
  writeBytes(value: unknown): EncoderLike;
  writeInt32(value: number): EncoderLike;
}

/** A write longer than this gets an arena sized to it, and may be adopted instead of copied. */
export const bigWrite = 4 * 1024;
/** Room in front of an arena's bytes for the headers of the levels that adopt it. */
const headroom = 512;
/** Room after a big write for the small fields that follow it. */
const trailingRoom = 4 * 1024;
/** Room after a record value for the record's headers. */
const valueTrailingRoom = 1024;

interface Arena {
  /** Where the arena starts in its ArrayBuffer. */
  floor: number;
  /** Where the first byte anyone holds is (between `floor` and it: free headroom). */
  front: number;
  /** The encoder whose bytes end the arena's data; undefined once a value was written by hand (then `end`). */
  owner: EncoderLike | undefined;
  end: number;
  /** A record value's arena (`allocRecordValue`): returns to the pool when released. */
  pooled?: true;
}

/** By ArrayBuffer: an arena has one of its own (`allocUnsafeSlow`, never a slice of Node's pool, whatever `Buffer.poolSize` is). */
const arenas = new WeakMap<ArrayBufferLike, Arena>();

let adopting = true;
/** Set while an array of encoders is copied into the room reserved for all of it. */
let copyingArray = false;

/** Tests: turn adopting off, to compare the bytes with kafkajs's own copying. */
export function setAdopting(on: boolean): void {
  adopting = on;
}

/** Free record-value arenas by byte size (a size class), and their total. */
const freeArenas = new Map<number, ArrayBuffer[]>();
let freeBytes = 0;
/** What the pool keeps at most; a released arena beyond it is left to the GC. */
export const arenaPoolBytes = 16 * 1024 * 1024;
/** Free arenas no pack took for this long are dropped (after a burst, RSS goes back). */
export const arenaPoolIdleMs = 30_000;
/** When a pack last took an arena (or the pool last went from empty to not). */
let lastUsedAt = 0;
let trimTimer: NodeJS.Timeout | undefined;

/** Drops every free arena when none was taken for `arenaPoolIdleMs` before `now`; true if it did. */
export function trimArenaPool(now = Date.now()): boolean {
  if (freeBytes === 0 || now - lastUsedAt < arenaPoolIdleMs) return false;
  freeArenas.clear();
  freeBytes = 0;
  return true;
}

/** While the pool holds arenas, checks every `arenaPoolIdleMs` whether they are still used. */
function armTrim(): void {
  if (trimTimer) return;
  trimTimer = setTimeout(() => {
    trimTimer = undefined;
    trimArenaPool();
    if (freeBytes > 0) armTrim();
  }, arenaPoolIdleMs);
  trimTimer.unref();
}

/** An arena's size for `n` bytes: eight classes per doubling (at most 1/8 unused), at least 4 KiB apart. */
export function arenaClass(n: number): number {
  const granule = Math.max(4096, 2 ** (28 - Math.clz32(n)));
  return Math.ceil(n / granule) * granule;
}

/**
 * A buffer of `size` bytes for a record value, with room around it for the record to adopt it.
 * Its bytes are not cleared (`allocUnsafe`'s contract): the caller writes every one.
 */
export function allocRecordValue(size: number): Buffer {
  if (size <= bigWrite) return Buffer.allocUnsafe(size);
  const bytes = arenaClass(headroom + size + valueTrailingRoom);
  const reused = freeArenas.get(bytes)?.pop();
  if (reused) {
    freeBytes -= bytes;
    lastUsedAt = Date.now();
  }
  const base = reused ? Buffer.from(reused) : Buffer.allocUnsafeSlow(bytes);
  arenas.set(base.buffer, { floor: base.byteOffset, front: base.byteOffset + headroom, owner: undefined, end: base.byteOffset + headroom + size, pooled: true });
  return base.subarray(headroom, headroom + size);
}

/**
 * Returns a record value's arena to the pool. Only once nothing reads it again: Kafka
 * acknowledged the request that carried it (that request's bytes, which may be this arena, were
 * written out: a broker answers a request only once it has all of it; kafkajs keeps nothing of a
 * request after its answer). Not after a failure: a timed-out request's bytes may still wait on a
 * socket. (One case stays: a timed-out attempt stuck on a leader's socket, then a retry acknowledged
 * by the new leader. Were the stuck bytes written after the reuse, that broker would get a request
 * whose record batch fails its CRC, or whose framing breaks, and refuse it: nothing is written
 * from it.) Anything but a pooled value not yet released is ignored (small values, a second release).
 */
export function releaseRecordValue(value: Buffer): void {
  const ab = value.buffer;
  if (!arenas.get(ab)?.pooled) return;
  arenas.delete(ab);
  const bytes = ab.byteLength;
  if (freeBytes + bytes > arenaPoolBytes || !(ab instanceof ArrayBuffer)) return;
  let list = freeArenas.get(bytes);
  if (!list) freeArenas.set(bytes, (list = []));
  list.push(ab);
  if (freeBytes === 0) lastUsedAt = Date.now();
  freeBytes += bytes;
  armTrim();
}

/** Tests: the pool's free arenas and bytes. */
export function arenaPoolStats(): { arenas: number; bytes: number } {
  let n = 0;
  for (const list of freeArenas.values()) n += list.length;
  return { arenas: n, bytes: freeBytes };
}

/** kafkajs's growth rule: the next power of two that holds `n` bytes. */
const nextPowerOfTwo = (n: number): number => 1 << (32 - Math.clz32(n));

/**
 * The size of kafkajs's first buffer, in place of its `Encoder.nextPowerOfTwo(511)`: none.
 * kafkajs's constructor calls that static for one thing, its first buffer: `Buffer.alloc(512)`,
 * 512 zeroed bytes in an ArrayBuffer of their own for every encoder, i.e. for every record, every
 * record header, every batch and every level of every request. That cost ~2.9 µs each here, most
 * of it the GC work their external memory brings (a packed record with its six headers: seven).
 * With this, the constructor's buffer is empty and the first write takes a slice of Node's
 * buffer pool (`ensureAvailable`, at least `firstBytes`): no ArrayBuffer of its own. kafkajs
 * calls the static nowhere else once `ensureAvailable` is replaced.
 */
export const firstBufferSize = (): number => 0;
/** The first buffer an encoder takes: a record header fits it; pooled (under 4 KiB). */
const firstBytes = 128;

export function ensureAvailable(this: EncoderLike, length: number): void {
  const need = this.offset + length;
  if (need <= this.buf.length) return;
  // allocUnsafe: every byte is written before it is read (`buffer` is the written prefix only).
  if (length <= bigWrite) {
    const grown = Buffer.allocUnsafe(need <= firstBytes ? firstBytes : nextPowerOfTwo(need));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
    return;
  }
  const base = Buffer.allocUnsafeSlow(headroom + need + trailingRoom);
  const grown = base.subarray(headroom);
  this.buf.copy(grown, 0, 0, this.offset);
  arenas.set(base.buffer, { floor: base.byteOffset, front: base.byteOffset + headroom, owner: this, end: 0 });
  this.buf = grown;
}

/** Where the arena's data ends: its owner's last written byte, or the hand-written value's end. */
function dataEnd(arena: Arena, ab: ArrayBufferLike): number {
  const o = arena.owner;
  if (!o) return arena.end;
  return o.buf.buffer === ab ? o.buf.byteOffset + o.offset : -1;
}

export function writeBufferInternal(this: EncoderLike, buffer: Buffer): void {
  if (adopting && !copyingArray && buffer.length > bigWrite && adopt(this, buffer)) return;
  this.ensureAvailable(buffer.length);
  buffer.copy(this.buf, this.offset, 0);
  this.offset += buffer.length;
}

function adopt(enc: EncoderLike, buffer: Buffer): boolean {
  const ab = buffer.buffer;
  const arena = arenas.get(ab);
  if (!arena) return false;
  const start = buffer.byteOffset;
  const end = start + buffer.length;
  // At the front (nothing anyone holds before it), with enough headroom, and the last bytes of the arena.
  if (start !== arena.front || start - enc.offset < arena.floor || end !== dataEnd(arena, ab)) return false;
  const at = start - enc.offset;
  const taken = Buffer.from(ab, at, ab.byteLength - at);
  enc.buf.copy(taken, 0, 0, enc.offset);
  arena.front = at;
  arena.owner = enc;
  enc.buf = taken;
  enc.offset += buffer.length;
  return true;
}

/**
 * kafkajs's writeBytes, except that a big buffer is not given room first (kafkajs reserves
 * length + 4 before writing them): it may be adopted, and the room would be a wasted allocation
 * the size of the buffer. The same bytes: its length, then it.
 */
export function adoptingWriteBytes(original: EncoderLike['writeBytes']): EncoderLike['writeBytes'] {
  return function writeBytes(this: EncoderLike, value) {
    if (!Buffer.isBuffer(value) || value.length <= bigWrite) return original.call(this, value);
    this.writeInt32(value.length);
    this.writeBufferInternal(value);
    return this;
  };
}

const isEncoder = (v: unknown): v is EncoderLike => typeof v === 'object' && v !== null && Buffer.isBuffer((v as EncoderLike).buf);

/** kafkajs's writeArray, after reserving room for all of an array of encoders at once. */
export function presizedWriteArray(original: EncoderLike['writeArray']): EncoderLike['writeArray'] {
  return function writeArray(this: EncoderLike, array, type, length) {
    if (array.length > 1 && (type === 'object' || type === undefined)) {
      let total = 4;
      for (const v of array) {
        if (!isEncoder(v)) {
          total = 0;
          break;
        }
        total += v.offset;
      }
      if (total > 0) {
        this.ensureAvailable(total);
        // Copied into the reserved room: adopting the first would leave the rest no room.
        copyingArray = true;
        try {
          return original.call(this, array, type, length);
        } finally {
          copyingArray = false;
        }
      }
    }
    return original.call(this, array, type, length);
  };
}
