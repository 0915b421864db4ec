// Precision, recall, density and coverage (Naeem et al. 2020, "Reliable Fidelity and Diversity
// Metrics for Generative Models"), with k = 5 nearest neighbours. Each real point owns a ball
// reaching its k-th nearest real neighbour (each synthetic point one reaching its k-th nearest
// synthetic neighbour):
//   precision  share of synthetic points inside some real ball            (fidelity)
//   recall     share of real points inside some synthetic ball            (diversity)
//   density    real balls holding each synthetic point, averaged, over k  (fidelity; ≈1 when the
//              distributions match, above 1 when synthetic points crowd dense real regions)
//   coverage   share of real balls holding at least one synthetic point   (diversity, robust to
//              real outliers)
// Distances are Euclidean; squared ones are compared, which orders the same.
import { compareSets, assertFeaturePair, type FeatureContext, type Features } from './features.js';
import { forEachDistanceBlock, matrixRows } from './neighbours.js';
import { registerMetric } from './registry.js';

export const PRDC_K = 5;

export interface PrdcResult { precision: number; recall: number; density: number; coverage: number; k: number }

/** Squared distances |aᵢ − bⱼ|², handed to `onBlock` a block of a's rows at a time against all of b
 * (row-major [rows x b.count], clamped at 0: float32 cancellation can dip below). */
export function squaredDistances(a: Features, b: Features, onBlock: (start: number, rows: number, d2: Float32Array) => void): void {
  const rows = Math.max(1, Math.floor(8e6 / Math.max(b.count, a.dims)));
  forEachDistanceBlock(matrixRows('a', a.data, a.dims), matrixRows('b', b.data, b.dims), { query: rows, ref: b.count }, ({ q0, nq, nr, qn, rn, dot }) => {
    const d2 = dot;
    for (let i = 0; i < nq; i++) {
      for (let j = 0, at = i * nr; j < nr; j++, at++) d2[at] = Math.max(0, qn[i] + rn[j] - 2 * dot[at]);
    }
    onBlock(q0, nq, d2);
  });
}

/** Squared distance from each point to its k-th nearest other point of the same set (the point
 * itself, at distance 0, is the 0-th). */
export function kthNeighbourSq(f: Features, k: number): Float32Array {
  const out = new Float32Array(f.count);
  const best = new Float64Array(k + 1);
  squaredDistances(f, f, (start, rows, d2) => {
    for (let r = 0; r < rows; r++) {
      // The k+1 smallest of the row, kept sorted by insertion.
      best.fill(Infinity);
      const row = r * f.count;
      for (let j = 0; j < f.count; j++) {
        const v = d2[row + j];
        if (v >= best[k]) continue;
        let p = k;
        while (p > 0 && best[p - 1] > v) {
          best[p] = best[p - 1];
          p--;
        }
        best[p] = v;
      }
      out[start + r] = best[k];
    }
  });
  return out;
}

export function prdc(real: Features, fake: Features, k = PRDC_K): PrdcResult {
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`PRDC: k must be a positive integer, got ${k}.`);
  assertFeaturePair(real, fake, k + 1, `PRDC with k=${k}`);
  const realR = kthNeighbourSq(real, k), fakeR = kthNeighbourSq(fake, k);
  const recalled = new Uint8Array(real.count);
  const nearest = new Float32Array(real.count).fill(Infinity);
  let precise = 0, inBalls = 0;
  squaredDistances(fake, real, (start, rows, d2) => {
    for (let r = 0; r < rows; r++) {
      const rf = fakeR[start + r], row = r * real.count;
      let count = 0;
      for (let i = 0; i < real.count; i++) {
        const v = d2[row + i];
        if (v < realR[i]) count++;
        if (v < rf) recalled[i] = 1;
        if (v < nearest[i]) nearest[i] = v;
      }
      inBalls += count;
      if (count) precise++;
    }
  });
  let covered = 0, recall = 0;
  for (let i = 0; i < real.count; i++) {
    if (nearest[i] < realR[i]) covered++;
    recall += recalled[i];
  }
  return {
    precision: precise / fake.count,
    recall: recall / real.count,
    density: inBalls / (k * fake.count),
    coverage: covered / real.count,
    k,
  };
}

registerMetric({
  name: 'prdc',
  description: `precision, recall, density and coverage of synthetic against real features (k=${PRDC_K} nearest neighbours); 1 is best (density can exceed 1)`,
  // compareSets hands (synthetic, real) or (test, train): the second is the reference set.
  run: (ctx) => compareSets(ctx as FeatureContext, 'PRDC', (candidate, reference) => prdc(reference, candidate)),
});
