// Seeds for every random draw of training. Each draw takes its seed from (run seed, step, purpose),
// never from a running generator, so a run resumed at any step repeats the same draws.
import { rng } from '../data/split.js';

/** Mixes integers into one uint32 (murmur3 finaliser per word); order matters. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    let k = Math.imul((p >>> 0) ^ Math.floor(p / 4294967296), 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Purposes, so the step seed, the sample z and the initial weights never share a stream. */
export const SEED = { step: 1, init: 2, samples: 3 } as const;

/** The seed handed to the family for step `step` (FamilyContext/StepContext `seed`). */
export const stepSeed = (runSeed: number, step: number): number => mixSeed(runSeed, SEED.step, step);

/** `n` standard normal draws from a seed (Box-Muller), for fixed sample z. */
export function normals(seed: number, n: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(r(), 1e-12);
    const v = r();
    const m = Math.sqrt(-2 * Math.log(u));
    out[i] = m * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  return out;
}
