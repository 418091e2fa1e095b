// Named crash points for the chaos suite (chaos/, RELIABILITY.md): at a named place in the
// pipeline the process SIGKILLs itself with a given probability, from a seeded PRNG so a failing
// run can be replayed. Off unless TRIBUTARY_CRASHPOINTS is set; then a call costs one boolean test.
//
//   TRIBUTARY_CRASHPOINTS=source.afterAck:0.05,sink.afterDelivery:0.02
//   TRIBUTARY_CRASH_SEED=42            (any string; default "1")
import { writeSync } from 'node:fs';

export const crashpointNames = ['source.afterRead', 'source.afterAck', 'sink.afterDelivery', 'sink.duringDlq'] as const;
export type CrashpointName = (typeof crashpointNames)[number];

/** Parses `name:prob[,name:prob]`; throws on an unknown name or a probability outside [0, 1]. */
export function parseCrashpoints(text: string): Map<CrashpointName, number> {
  const out = new Map<CrashpointName, number>();
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = part.lastIndexOf(':');
    const name = (i === -1 ? part : part.slice(0, i)) as CrashpointName;
    const prob = i === -1 ? 1 : Number(part.slice(i + 1));
    if (!crashpointNames.includes(name)) throw new Error(`TRIBUTARY_CRASHPOINTS: unknown crash point "${name}" (known: ${crashpointNames.join(', ')})`);
    if (!(prob >= 0 && prob <= 1)) throw new Error(`TRIBUTARY_CRASHPOINTS: probability of ${name} must be in [0, 1]`);
    out.set(name, prob);
  }
  return out;
}

/** mulberry32 over a 32-bit FNV-1a hash of the seed string: small, fast, reproducible. */
export function seededRandom(seed: string): () => number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193) >>> 0;
  let a = h;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const configured = process.env.TRIBUTARY_CRASHPOINTS ? parseCrashpoints(process.env.TRIBUTARY_CRASHPOINTS) : undefined;
const enabled = configured !== undefined && configured.size > 0;
const random = enabled ? seededRandom(process.env.TRIBUTARY_CRASH_SEED ?? '1') : () => 1;
const calls = new Map<CrashpointName, number>();

/** Maybe SIGKILLs this process here (only when TRIBUTARY_CRASHPOINTS names this point). */
export function crashpoint(name: CrashpointName): void {
  if (!enabled) return;
  const prob = configured?.get(name);
  if (prob === undefined) return;
  const n = (calls.get(name) ?? 0) + 1;
  calls.set(name, n);
  if (random() >= prob) return;
  // Synchronous, so the line is out before the signal: the chaos harness counts fired points.
  writeSync(2, `TRIBUTARY_CRASHPOINT fired ${name} call=${n} pid=${process.pid}\n`);
  process.kill(process.pid, 'SIGKILL');
}
