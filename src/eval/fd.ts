// Fréchet distance between Gaussians fitted to two feature clouds:
//   FD = |μ1 − μ2|² + tr S1 + tr S2 − 2 tr (S1 S2)^{1/2}
// (FID when the features are the TF-slim Inception graph's; ours are not, see features.ts).
// The trace of the matrix square root is computed exactly, without forming sqrtm(S1 S2): write each
// covariance as S = GᵀG (G = the centred data / √(n−1) when n ≤ d, else a pivoted Cholesky
// factor); then the eigenvalues of S1 S2 are the squared singular values of M = G1 G2ᵀ, so
// tr (S1 S2)^{1/2} = Σ √eig(M Mᵀ), one symmetric eigenvalue problem of size ≤ min(n, d).
// Everything runs in float64: the trace term nearly cancels the others for similar sets.
import { compareSets, assertFeaturePair, type Features } from './features.js';
import { registerMetric } from './registry.js';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/** C = A Bᵀ for row-major A [ra x d], B [rb x d]; with `sym` (A = B) only the lower half is
 * computed and mirrored. Four rows of A at a time against a cache-sized tile of B's rows. */
export function mulABt(a: Float64Array, ra: number, b: Float64Array, rb: number, d: number, sym = false): Float64Array {
  const c = new Float64Array(ra * rb);
  const TILE = 64;
  for (let j0 = 0; j0 < rb; j0 += TILE) {
    const j1 = Math.min(rb, j0 + TILE);
    for (let i = sym ? j0 - (j0 % 4) : 0; i < ra; i += 4) {
      const rows = Math.min(4, ra - i);
      const a0 = i * d, a1 = (i + Math.min(1, rows - 1)) * d, a2 = (i + Math.min(2, rows - 1)) * d, a3 = (i + rows - 1) * d;
      for (let j = j0; j < j1; j++) {
        if (sym && j > i + 3) break;
        const bj = j * d;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let k = 0; k < d; k++) {
          const v = b[bj + k];
          s0 += a[a0 + k] * v;
          s1 += a[a1 + k] * v;
          s2 += a[a2 + k] * v;
          s3 += a[a3 + k] * v;
        }
        c[i * rb + j] = s0;
        if (rows > 1) c[(i + 1) * rb + j] = s1;
        if (rows > 2) c[(i + 2) * rb + j] = s2;
        if (rows > 3) c[(i + 3) * rb + j] = s3;
      }
    }
  }
  if (sym) for (let i = 0; i < ra; i++) for (let j = i + 1; j < rb; j++) c[i * rb + j] = c[j * rb + i];
  return c;
}

/** Eigenvalues (ascending) of a symmetric n x n matrix (row-major, float64), by ml-matrix's
 * symmetric eigen-decomposition (tridiagonal reduction + QL), values only. */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  if (a.length !== n * n) throw new Error(`symmetricEigenvalues: ${a.length} values do not form a ${n}x${n} matrix.`);
  if (n === 0) return new Float64Array(0);
  if (!a.every(Number.isFinite)) throw new Error('symmetricEigenvalues: the matrix holds NaN or Infinity.');
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, a[i * n + j]);
  const ev = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  return Float64Array.from(ev.realEigenvalues).sort();
}

/** Rows G [r x d] with GᵀG = S for a symmetric positive semi-definite S [d x d]: pivoted
 * Cholesky, stopped once every remaining pivot is at rounding level (so r = rank S). */
export function psdFactor(s: Float64Array, d: number): { g: Float64Array; rows: number } {
  const diag = Float64Array.from({ length: d }, (_, i) => s[i * d + i]);
  const tol = d * Number.EPSILON * Math.max(0, ...diag);
  const cols: Float64Array[] = [];
  while (cols.length < d) {
    let piv = -1;
    for (let i = 0; i < d; i++) if (diag[i] > tol && (piv < 0 || diag[i] > diag[piv])) piv = i;
    if (piv < 0) break;
    const l = new Float64Array(d);
    const root = Math.sqrt(diag[piv]);
    for (let i = 0; i < d; i++) {
      let x = s[i * d + piv];
      for (const c of cols) x -= c[i] * c[piv];
      l[i] = x / root;
    }
    for (let i = 0; i < d; i++) diag[i] -= l[i] * l[i];
    diag[piv] = 0;
    cols.push(l);
  }
  const g = new Float64Array(cols.length * d);
  cols.forEach((c, i) => g.set(c, i * d));
  return { g, rows: cols.length };
}

export interface Moments { mean: Float64Array; trace: number; g: Float64Array; rows: number; dims: number }

/** Mean, trace and a factor G (GᵀG = the unbiased covariance) of row-major features. */
export function moments(f: Features): Moments {
  const { data, count: n, dims: d } = f;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const c = new Float64Array(n * d);
  const scale = 1 / Math.sqrt(n - 1);
  let trace = 0;
  for (let i = 0; i < n * d; i++) {
    c[i] = (data[i] - mean[i % d]) * scale;
    trace += c[i] * c[i];
  }
  if (n <= d) return { mean, trace, g: c, rows: n, dims: d };
  const t = transpose(c, n, d);
  const { g, rows } = psdFactor(mulABt(t, d, t, d, n, true), d);
  return { mean, trace, g, rows, dims: d };
}

function transpose(x: Float64Array, r: number, c: number): Float64Array {
  const t = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = x[i * c + j];
  return t;
}

/** tr (S1 S2)^{1/2} = nuclear norm of G1 G2ᵀ. */
export function traceSqrtProduct(a: Moments, b: Moments): number {
  const m = mulABt(a.g, a.rows, b.g, b.rows, a.dims);
  // The smaller of M Mᵀ and Mᵀ M: same non-zero eigenvalues.
  const [x, r, c] = a.rows <= b.rows ? [m, a.rows, b.rows] : [transpose(m, a.rows, b.rows), b.rows, a.rows];
  const ev = symmetricEigenvalues(mulABt(x, r, x, r, c, true), r);
  // K is positive semi-definite and usually rank-deficient (n < d): eigenvalues within the
  // solver's rounding (r·ε·λmax) are zeros, and their square roots (√ε-sized) would add up.
  const floor = r * Number.EPSILON * Math.max(0, ev[r - 1]);
  let sum = 0;
  for (const v of ev) if (v > floor) sum += Math.sqrt(v);
  return sum;
}

export function frechetDistance(a: Features, b: Features): number {
  assertFeaturePair(a, b, 2, 'Fréchet distance');
  for (const f of [a, b]) if (!f.data.every(Number.isFinite)) throw new Error('Fréchet distance: features hold NaN or Infinity; the feature extractor failed on some images.');
  const ma = moments(a), mb = moments(b);
  let dm = 0;
  for (let j = 0; j < a.dims; j++) dm += (ma.mean[j] - mb.mean[j]) ** 2;
  // Rounding can leave an identical pair a hair below zero.
  return Math.max(0, dm + ma.trace + mb.trace - 2 * traceSqrtProduct(ma, mb));
}

registerMetric({
  name: 'fd',
  description: 'Fréchet distance between Gaussians fitted to real and synthetic features (InceptionV3 of nsfwjs, and the domain classifier); lower is closer',
  run: (ctx) => compareSets(ctx, 'FD', frechetDistance),
});
