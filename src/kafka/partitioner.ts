// The partition Kafka's default partitioner (the Java client's, and kafkajs's DefaultPartitioner)
// gives a keyed record: murmur2 of the key's UTF-8 bytes, made positive, modulo the partitions.
// kafkajs computes murmur2 with 64-bit Long objects, ~1 µs a key; this is the same 32-bit
// arithmetic with Math.imul (a property test holds it to kafkajs's result).

const seed = 0x9747b28c;
const m = 0x5bd1e995;

/** Kafka's murmur2 of the bytes (a signed 32-bit int, as the Java client returns it). */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = seed ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  // The last 1-3 bytes (the Java client's switch falls through from case 3 to case 1).
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

const ascii = new Uint8Array(256);

/** The partition of a record keyed `key` among `partitions`, as Kafka's default partitioner picks it. */
export function keyPartition(key: string, partitions: number): number {
  let bytes: Uint8Array;
  if (key.length <= ascii.length && /^[\x00-\x7f]*$/.test(key)) {
    // A short ASCII key (device channels are UUIDs): its bytes without a Buffer allocation.
    for (let i = 0; i < key.length; i++) ascii[i] = key.charCodeAt(i);
    bytes = ascii.subarray(0, key.length);
  } else bytes = Buffer.from(key, 'utf8');
  return (murmur2(bytes) & 0x7fffffff) % partitions;
}
