// Gaussian feature clouds for the fd, kid and prdc tests: known means and covariances, seeded.
import { rng } from '../util/random.js';
import type { Features } from './features.js';

export function gaussian(seed: number): () => number {
  const r = rng(seed);
  return () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** n points of d dims: standard normal z, then A z + mean (covariance A Aᵀ). */
export function normalSet(n: number, d: number, seed: number, o: { mean?: number[]; a?: number[][] } = {}): Features {
  const g = gaussian(seed);
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: d }, g);
    for (let j = 0; j < d; j++) data[i * d + j] = (o.mean?.[j] ?? 0) + (o.a ? o.a[j].reduce((s, v, k) => s + v * z[k], 0) : z[j]);
  }
  return { data, dims: d, count: n };
}

/** The rows of several sets, one after another. */
export function concatSets(...sets: Features[]): Features {
  const data = new Float32Array(sets.reduce((s, f) => s + f.data.length, 0));
  sets.reduce((o, f) => (data.set(f.data, o), o + f.data.length), 0);
  return { data, dims: sets[0].dims, count: sets.reduce((s, f) => s + f.count, 0) };
}
