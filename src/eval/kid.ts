// Kernel distance between feature clouds (KID when the features are the TF-slim Inception's; ours
// are not, see features.ts): the unbiased estimate of the squared maximum mean discrepancy with the
// cubic polynomial kernel k(x, y) = (xᵀy / d + 1)³, averaged over random subsets. Unlike FD it has
// no bias that depends on the sample size, so it is the one to read on small sets: its expectation
// is 0 when both sets come from one distribution, and single estimates may then be negative.
import { rng } from '../util/random.js';
import { compareSets, assertFeaturePair, type FeatureContext, type Features } from './features.js';
import { forEachDistanceBlock, matrixRows, pickRows, type Rows } from './neighbours.js';
import { registerMetric } from './registry.js';

export interface KidOptions {
  /** Random subsets to average over (default 100). */
  subsets?: number;
  /** Images per set in each subset (default min(1000, smaller set)). */
  subsetSize?: number;
  seed?: number;
  /** Kernel matrices over whole sets are kept when they hold at most this many entries in all
   * (default 40 M, 160 MB), so each subset is a lookup; beyond it each subset computes its own. */
  maxKernelEntries?: number;
}

// Subsets of half the sample (at most 1000), so even a small sample gives a spread, not one estimate.
export const KID_DEFAULTS = { subsets: 100, subsetSize: 1000, maxKernelEntries: 40e6 };

export interface KidResult {
  mean: number;
  /** Spread of the subset estimates; null when each subset is the whole of both sets (then there
   * is one estimate, and no spread to report: use larger sets or a smaller subset size). */
  std: number | null;
  subsets: number;
  subsetSize: number;
}

/** Kernel matrix k(xᵢ, yⱼ) over the given rows (all rows when null), row-major [rows(x) x rows(y)],
 * from the block-wise products of neighbours.ts (one backend matmul per block of x's rows). */
export function polyKernel(x: Features, xRows: ArrayLike<number> | null, y: Features, yRows: ArrayLike<number> | null): Float32Array {
  const d = x.dims;
  const rowsOf = (name: string, f: Features, r: ArrayLike<number> | null): Rows => {
    const all = matrixRows(name, f.data, f.dims);
    return r ? pickRows(all, r) : all;
  };
  const xs = rowsOf('x', x, xRows), ys = rowsOf('y', y, yRows);
  const out = new Float32Array(xs.count * ys.count);
  const rows = Math.max(1, Math.floor(8e6 / Math.max(ys.count, d)));
  forEachDistanceBlock(xs, ys, { query: rows, ref: ys.count }, ({ q0, dot }) => {
    const at = q0 * ys.count;
    for (let i = 0; i < dot.length; i++) {
      const v = dot[i] / d + 1;
      out[at + i] = v * v * v;
    }
  });
  return out;
}

/** Sum of k over ia x ib of a row-major kernel matrix with `cols` columns, leaving out the
 * diagonal pairs (i, i) when `offDiagonal` (ia and ib then index one set). */
function blockSum(k: Float32Array, cols: number, ia: ArrayLike<number>, ib: ArrayLike<number>, offDiagonal: boolean): number {
  let s = 0;
  for (let p = 0; p < ia.length; p++) {
    const row = ia[p] * cols;
    let r = 0;
    for (let q = 0; q < ib.length; q++) r += k[row + ib[q]];
    s += r;
  }
  if (offDiagonal) for (let p = 0; p < ia.length; p++) s -= k[ia[p] * cols + ia[p]];
  return s;
}

function draw(n: number, m: number, rand: () => number): Int32Array {
  const all = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rand() * (n - i));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, m);
}

export function kernelDistance(a: Features, b: Features, o: KidOptions = {}): KidResult {
  assertFeaturePair(a, b, 2, 'Kernel distance');
  const subsets = o.subsets ?? KID_DEFAULTS.subsets;
  const m = o.subsetSize ?? Math.min(KID_DEFAULTS.subsetSize, Math.floor(Math.min(a.count, b.count) / 2));
  if (!(Number.isInteger(subsets) && subsets >= 1)) throw new Error(`Kernel distance: subsets must be a positive integer, got ${subsets}.`);
  if (!(Number.isInteger(m) && m >= 2)) throw new Error(`Kernel distance: subset size must be an integer ≥ 2, got ${o.subsetSize}.`);
  const rand = rng(o.seed ?? 0);
  const full = a.count * a.count + b.count * b.count + a.count * b.count <= (o.maxKernelEntries ?? KID_DEFAULTS.maxKernelEntries);
  const kxx = full ? polyKernel(a, null, a, null) : null;
  const kyy = full ? polyKernel(b, null, b, null) : null;
  const kxy = full ? polyKernel(a, null, b, null) : null;
  const local = Int32Array.from({ length: m }, (_, i) => i);
  const whole = m === a.count && m === b.count;
  const runs = whole ? 1 : subsets;
  const values: number[] = [];
  for (let s = 0; s < runs; s++) {
    const ix = draw(a.count, m, rand), iy = draw(b.count, m, rand);
    const [xx, yy, xy] = full
      ? [blockSum(kxx!, a.count, ix, ix, true), blockSum(kyy!, b.count, iy, iy, true), blockSum(kxy!, b.count, ix, iy, false)]
      : [blockSum(polyKernel(a, ix, a, ix), m, local, local, true), blockSum(polyKernel(b, iy, b, iy), m, local, local, true), blockSum(polyKernel(a, ix, b, iy), m, local, local, false)];
    values.push((xx + yy) / (m * (m - 1)) - (2 * xy) / (m * m));
  }
  const mean = values.reduce((p, v) => p + v, 0) / runs;
  // Population std over subsets, as the common KID implementations report it.
  const std = whole ? null : Math.sqrt(values.reduce((p, v) => p + (v - mean) ** 2, 0) / runs);
  return { mean, std, subsets: runs, subsetSize: m };
}

registerMetric({
  name: 'kid',
  description: 'unbiased kernel (MMD², cubic polynomial) distance between real and synthetic features, mean and std over subsets; 0 means indistinguishable',
  run: (ctx) => compareSets(ctx as FeatureContext, 'KID', (a, b) => kernelDistance(a, b, { seed: ctx.seed })),
});
