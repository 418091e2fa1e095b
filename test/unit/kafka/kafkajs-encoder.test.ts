// kafkajs's produce request encoding with the encoder fixes (src/kafka/kafkajs-encoder.ts): the
// bytes of whole produce requests, built by kafkajs's own request modules, with adopting on and
// off (off is kafkajs's copying, byte for byte); the values the requests carry left untouched;
// and adopting really taking place where it should (serial: adopting is switched process-wide). No broker: the integration suites produce
// through a real one, which refuses a batch whose CRC or framing is wrong.
import test from 'ava';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { applyKafkajsFixes } from '../../../src/kafka/kafkajs-fixes.js';
import { allocRecordValue, arenaClass, arenaPoolBytes, arenaPoolIdleMs, arenaPoolStats, bigWrite, firstBufferSize, releaseRecordValue, setAdopting, trimArenaPool } from '../../../src/kafka/kafkajs-encoder.js';

const require = createRequire(import.meta.url);
const Encoder = require('kafkajs/src/protocol/encoder.js') as { new (): { buf: Buffer; writeVarIntString(s: string): unknown }; nextPowerOfTwo: (n: number) => number };
/** kafkajs's own first-buffer size (512 zeroed bytes), before the fixes replace it. */
const kafkajsFirstBuffer = Encoder.nextPowerOfTwo;
applyKafkajsFixes();

interface Message {
  key: string | null;
  value: Buffer;
  timestamp: number;
  headers: Record<string, string>;
}
type ProduceV3 = (o: object) => { encode(): Promise<unknown> };
const produceV3 = require('kafkajs/src/protocol/requests/produce/v3/request.js') as ProduceV3;
const createRequest = require('kafkajs/src/protocol/request.js') as (o: object) => Promise<{ buffer: Buffer }>;

/** What kafkajs sends for a produce request (size, header, body), as its connection would get it. */
async function encodeRequest(partitions: { partition: number; messages: Message[] }[], topic = 'tributary.events.encoder-test'): Promise<Buffer> {
  const request = produceV3({
    acks: -1,
    timeout: 30_000,
    compression: 0,
    transactionalId: null,
    producerId: 7,
    producerEpoch: 0,
    topicData: [{ topic, partitions: partitions.map((p) => ({ ...p, firstSequence: 3 })) }],
  });
  return (await createRequest({ correlationId: 42, clientId: 'tributary-test', request: { apiKey: 0, apiVersion: 3, encode: request.encode } })).buffer;
}

/** A copy of the request's bytes, to compare after later encodings. */
const requestBytes = async (partitions: { partition: number; messages: Message[] }[]): Promise<Buffer> => Buffer.from(await encodeRequest(partitions));

const valueOf = (size: number, seed: number): Buffer => {
  const v = allocRecordValue(size);
  for (let i = 0; i < size; i++) v[i] = (i * 31 + seed) & 0xff;
  return v;
};

const message = (size: number, seed: number, key: string | null): Message => ({
  key,
  value: valueOf(size, seed),
  timestamp: 1_700_000_000_000 + seed,
  headers: { 'tributary-integration': 'encoder-test', 'tributary-pack-events': String(seed) },
});

const partitionsArb = fc.array(
  fc.record({
    partition: fc.integer({ min: 0, max: 5 }),
    sizes: fc.array(fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: bigWrite - 10, max: bigWrite + 200_000 })), { minLength: 1, maxLength: 3 }),
    keyed: fc.boolean(),
  }),
  { minLength: 1, maxLength: 4 },
);

test.serial('an encoder starts without a buffer of its own: its first write takes a slice of the pool, and the request bytes are those of kafkajs zeroed 512', async (t) => {
  const e = new Encoder();
  t.is(e.buf.length, 0, 'no 512 zeroed bytes per encoder');
  e.writeVarIntString('tributary-integration');
  t.true(e.buf.length >= 22);
  t.true(e.buf.buffer.byteLength > e.buf.length, 'a slice of a shared ArrayBuffer (Node\'s buffer pool), not one of its own');
  // Small records, each with its headers (an encoder per header): the shape of a quiet integration's packs.
  const build = () => [0, 3].map((partition) => ({ partition, messages: Array.from({ length: 5 }, (_, k) => message(200 + k * 300, partition * 10 + k, k % 2 ? `device-${k}` : null)) }));
  const ours = await requestBytes(build());
  Encoder.nextPowerOfTwo = kafkajsFirstBuffer;
  try {
    t.is(new Encoder().buf.length, 512);
    t.deepEqual(await requestBytes(build()), ours);
  } finally {
    Encoder.nextPowerOfTwo = firstBufferSize;
  }
});

test.serial('a produce request is the same bytes with adopting on as with kafkajs copying, and its values are left as they were', async (t) => {
  await fc.assert(
    fc.asyncProperty(partitionsArb, async (spec) => {
      const build = () => spec.map((p, i) => ({ partition: p.partition, messages: p.sizes.map((s, k) => message(s, i * 10 + k, p.keyed ? `device-${k}` : null)) }));
      setAdopting(false);
      const expected = await requestBytes(build());
      setAdopting(true);
      const parts = build();
      const before = parts.map((p) => p.messages.map((m) => Buffer.from(m.value)));
      const got = await requestBytes(parts);
      // A retry encodes the same messages again: their values are no longer at their arenas' front.
      const again = await requestBytes(parts);
      const intact = parts.every((p, i) => p.messages.every((m, k) => m.value.equals(before[i]![k]!)));
      return got.equals(expected) && again.equals(expected) && intact;
    }),
    { numRuns: 60 },
  );
  t.pass();
});

test.serial('one big packed record is carried from its value to the request in one buffer, not copied', async (t) => {
  const m = message(300_000, 1, null);
  // No level allocates a buffer of its own for it either (kafkajs's writeBytes reserved one).
  const allocUnsafe = Buffer.allocUnsafe;
  const big: number[] = [];
  Buffer.allocUnsafe = (n: number) => {
    if (n > bigWrite) big.push(n);
    return allocUnsafe(n);
  };
  let bytes: Buffer;
  try {
    bytes = await encodeRequest([{ partition: 0, messages: [m] }], 't');
  } finally {
    Buffer.allocUnsafe = allocUnsafe;
  }
  t.deepEqual(big, []);
  t.is(bytes.buffer, m.value.buffer, 'the request is written into the value\'s own buffer');
  t.true(bytes.includes(m.value.subarray(0, 64)));
});

test.serial('two partitions\' big records are copied once, into room reserved for both', async (t) => {
  const a = message(200_000, 1, null);
  const b = message(200_000, 2, null);
  const bytes = await encodeRequest([{ partition: 0, messages: [a] }, { partition: 1, messages: [b] }], 't');
  t.not(bytes.buffer, a.value.buffer);
  t.not(bytes.buffer, b.value.buffer);
  // Reserved once for both, with the header room in front: no doubling to 512 KiB.
  t.true(bytes.buffer.byteLength < 400_000 + 600 + 4096 + 1024, `${bytes.buffer.byteLength} bytes`);
});

test.serial('small values are plain buffers, as before', (t) => {
  const v = allocRecordValue(1_000);
  t.is(v.length, 1_000);
  t.is(allocRecordValue(0).length, 0);
});

test.serial('an arena has an ArrayBuffer of its own even when Node pools buffers that large', async (t) => {
  const poolSize = Buffer.poolSize;
  Buffer.poolSize = 1024 * 1024;
  try {
    // A slab of the new size, then two values past bigWrite: with allocUnsafe both would be slices of it, one arena key.
    Buffer.allocUnsafe(9_000);
    const a = valueOf(bigWrite + 100, 1);
    const b = valueOf(bigWrite + 200, 2);
    t.not(a.buffer, b.buffer);
    const build = () => [{ partition: 0, messages: [{ ...message(0, 1, null), value: Buffer.from(a) }] }, { partition: 1, messages: [{ ...message(0, 2, null), value: Buffer.from(b) }] }];
    const parts = [{ partition: 0, messages: [{ ...message(0, 1, null), value: a }] }, { partition: 1, messages: [{ ...message(0, 2, null), value: b }] }];
    setAdopting(false);
    const expected = await requestBytes(build());
    setAdopting(true);
    t.deepEqual(await requestBytes(parts), expected);
  } finally {
    Buffer.poolSize = poolSize;
  }
});

test.serial('a released value\'s arena is the next one of its size class; small values, foreign buffers and a second release are ignored', (t) => {
  const before = arenaPoolStats();
  const a = allocRecordValue(100_000);
  releaseRecordValue(a);
  releaseRecordValue(a);
  t.deepEqual(arenaPoolStats(), { arenas: before.arenas + 1, bytes: before.bytes + a.buffer.byteLength });
  // Another size in the same class (1/8 of a doubling) takes it; its bytes are not cleared.
  const b = allocRecordValue(100_500);
  t.is(b.buffer, a.buffer);
  t.is(b.length, 100_500);
  t.deepEqual(arenaPoolStats(), before);
  // A size of another class does not.
  releaseRecordValue(b);
  const c = allocRecordValue(200_000);
  t.not(c.buffer, a.buffer);
  t.is(allocRecordValue(100_000).buffer, a.buffer);
  releaseRecordValue(allocRecordValue(1_000));
  releaseRecordValue(Buffer.allocUnsafeSlow(100_000));
  releaseRecordValue(Buffer.alloc(0));
  t.deepEqual(arenaPoolStats(), before);
});

test.serial('size classes: eight per doubling, at least 4 KiB apart, never smaller than asked', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 64 * 1024 * 1024 }), (n) => {
      const c = arenaClass(n);
      return c >= n && c - n < Math.max(4096, n / 8 + 1) && c % 4096 === 0 && arenaClass(c) === c;
    }),
  );
  t.is(arenaClass(512 * 1024 + 1536), 576 * 1024, 'a full 512 KiB pack with its room');
});

test.serial('the pool keeps at most its bound; what is released beyond it is left to the GC', (t) => {
  const size = 1_000_000;
  const held = Array.from({ length: Math.ceil(arenaPoolBytes / arenaClass(size)) + 4 }, () => allocRecordValue(size));
  for (const v of held) releaseRecordValue(v);
  t.true(arenaPoolStats().bytes <= arenaPoolBytes);
  t.true(arenaPoolStats().bytes > arenaPoolBytes - 2 * arenaClass(size));
  // Taken back, so later tests start from a small pool.
  for (let i = 0; i < held.length; i++) allocRecordValue(size);
});

test.serial('produce requests written into reused arenas are kafkajs\'s bytes: a value carried to the request leaves no trace in the next', async (t) => {
  await fc.assert(
    fc.asyncProperty(partitionsArb, fc.integer({ min: 1, max: 3 }), async (spec, rounds) => {
      const build = (seed: number) => spec.map((p, i) => ({ partition: p.partition, messages: p.sizes.map((s, k) => message(s, seed + i * 10 + k, p.keyed ? `device-${k}` : null)) }));
      for (let r = 0; r < rounds; r++) {
        setAdopting(false);
        const expected = await requestBytes(build(r * 100));
        setAdopting(true);
        const parts = build(r * 100);
        const got = await encodeRequest(parts);
        if (!got.equals(expected)) return false;
        // Acknowledged: the values (and with them a request written into one) go back to the pool.
        for (const p of parts) for (const m of p.messages) releaseRecordValue(m.value);
      }
      return true;
    }),
    { numRuns: 60 },
  );
  t.pass();
});

test.serial('free arenas no pack takes for a while are dropped; a pool in use is kept', (t) => {
  const now = Date.now();
  const v = allocRecordValue(300_000);
  releaseRecordValue(v);
  t.true(arenaPoolStats().arenas > 0);
  t.false(trimArenaPool(now + arenaPoolIdleMs / 2), 'released just now');
  // Taken and given back: in use.
  const again = allocRecordValue(300_000);
  t.is(again.buffer, v.buffer);
  releaseRecordValue(again);
  t.false(trimArenaPool(Date.now() + arenaPoolIdleMs - 1_000));
  t.true(trimArenaPool(Date.now() + arenaPoolIdleMs + 1));
  t.deepEqual(arenaPoolStats(), { arenas: 0, bytes: 0 });
  t.false(trimArenaPool(Date.now() + 10 * arenaPoolIdleMs), 'nothing to drop');
  t.not(allocRecordValue(300_000).buffer, v.buffer, 'a new arena after the trim');
});
