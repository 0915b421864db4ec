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

/** Eigenvalues (ascending) of a symmetric n x n matrix: Householder reduction to tridiagonal form,
 * then implicit QL with Wilkinson shifts. `a` (row-major, float64) is overwritten. */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  if (a.length !== n * n) throw new Error(`symmetricEigenvalues: ${a.length} values do not form a ${n}x${n} matrix.`);
  const d = new Float64Array(n), e = new Float64Array(n);
  const v = new Float64Array(n), p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    // Reflect column k below the diagonal onto its first entry; update the trailing block T by
    // T ← H T H = T − v qᵀ − q vᵀ with H = I − v vᵀ (|v|² = 2), p = T v, q = p − (vᵀp / 2) v.
    let norm = 0;
    for (let i = k + 1; i < n; i++) norm += a[i * n + k] ** 2;
    norm = Math.sqrt(norm);
    d[k] = a[k * n + k];
    const x0 = a[(k + 1) * n + k];
    if (norm === 0) {
      e[k] = 0;
      continue;
    }
    const alpha = x0 > 0 ? -norm : norm;
    const scale = 1 / Math.sqrt(norm * norm - x0 * alpha); // |x − αe1|² = 2(norm² − x0 α), and |v|² = 2
    for (let i = k + 1; i < n; i++) v[i] = a[i * n + k] * scale;
    v[k + 1] = (x0 - alpha) * scale;
    e[k] = alpha;
    let vp = 0;
    for (let i = k + 1; i < n; i++) {
      let s = 0;
      const row = i * n;
      for (let j = k + 1; j < n; j++) s += a[row + j] * v[j];
      p[i] = s;
      vp += v[i] * s;
    }
    for (let i = k + 1; i < n; i++) p[i] -= 0.5 * vp * v[i];
    for (let i = k + 1; i < n; i++) {
      const row = i * n, vi = v[i], qi = p[i];
      for (let j = k + 1; j < n; j++) a[row + j] -= vi * p[j] + qi * v[j];
    }
  }
  if (n >= 2) {
    d[n - 2] = a[(n - 2) * n + n - 2];
    e[n - 2] = a[(n - 1) * n + n - 2];
  }
  if (n >= 1) d[n - 1] = a[n * n - 1];
  tridiagonalEigenvalues(d, e);
  return d.sort();
}

/** Implicit QL on a symmetric tridiagonal matrix: diagonal `d`, sub-diagonal e[i] between rows i
 * and i+1 (e[n−1] unused). Eigenvalues replace `d`. */
function tridiagonalEigenvalues(d: Float64Array, e: Float64Array): void {
  const n = d.length;
  if (n) e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    for (let iter = 0; ; iter++) {
      let m = l;
      while (m < n - 1 && Math.abs(e[m]) > Number.EPSILON * (Math.abs(d[m]) + Math.abs(d[m + 1]))) m++;
      if (m === l) break;
      if (iter === 60) throw new Error('symmetricEigenvalues: QL iteration did not converge (matrix holds NaN or Infinity?).');
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1, c = 1, p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        const f = s * e[i], b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // Deflation: the matrix splits; restart on the smaller block.
          d[i + 1] -= p;
          e[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
      }
      if (r === 0 && i >= l) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
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
