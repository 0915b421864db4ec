import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../engine/index.js';
import { frechetDistance, mulABt, psdFactor, symmetricEigenvalues } from './fd.js';
import type { Features } from './features.js';
import { gaussian, normalSet } from './test_features.js';

await initEngine();

function randomOrthogonal(n: number, seed: number): Float64Array {
  // Gram–Schmidt on a Gaussian matrix.
  const g = gaussian(seed);
  const q = Float64Array.from({ length: n * n }, g);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < i; p++) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += q[i * n + k] * q[p * n + k];
      for (let k = 0; k < n; k++) q[i * n + k] -= dot * q[p * n + k];
    }
    const norm = Math.hypot(...q.subarray(i * n, (i + 1) * n));
    for (let k = 0; k < n; k++) q[i * n + k] /= norm;
  }
  return q;
}

function withSpectrum(lambda: number[], seed: number): Float64Array {
  const n = lambda.length, q = randomOrthogonal(n, seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += q[k * n + i] * lambda[k] * q[k * n + j];
  return a;
}

/** Empirical mean and unbiased covariance, in float64. */
function empirical(f: Features): { mean: number[]; cov: number[][] } {
  const { count: n, dims: d, data } = f;
  const mean = Array.from({ length: d }, (_, j) => Array.from({ length: n }, (_, i) => data[i * d + j]).reduce((a, b) => a + b, 0) / n);
  const cov = Array.from({ length: d }, (_, p) => Array.from({ length: d }, (_, q) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (data[i * d + p] - mean[p]) * (data[i * d + q] - mean[q]);
    return s / (n - 1);
  }));
  return { mean, cov };
}

// Closed form in 2-D: the eigenvalues λ1, λ2 ≥ 0 of S1 S2 give (√λ1 + √λ2)² = tr(S1S2) + 2√(det S1 det S2).
function closedForm2d(a: Features, b: Features): number {
  const [x, y] = [empirical(a), empirical(b)];
  const [s, t] = [x.cov, y.cov];
  const trProd = s[0][0] * t[0][0] + s[0][1] * t[1][0] + s[1][0] * t[0][1] + s[1][1] * t[1][1];
  const det = (m: number[][]) => m[0][0] * m[1][1] - m[0][1] * m[1][0];
  const trSqrt = Math.sqrt(trProd + 2 * Math.sqrt(Math.max(0, det(s) * det(t))));
  const dm = (x.mean[0] - y.mean[0]) ** 2 + (x.mean[1] - y.mean[1]) ** 2;
  return dm + s[0][0] + s[1][1] + t[0][0] + t[1][1] - 2 * trSqrt;
}

/** The same points with `extra` all-zero dimensions after the real ones. */
function padDims(f: Features, extra: number): Features {
  const d = f.dims + extra;
  const data = new Float32Array(f.count * d);
  for (let i = 0; i < f.count; i++) data.set(f.data.subarray(i * f.dims, (i + 1) * f.dims), i * d);
  return { data, dims: d, count: f.count };
}

test('symmetric eigenvalues match a known spectrum (repeated, zero and negative values too)', () => {
  for (const lambda of [[3.5], [2, -1], [5, 5, 5, 0, 0, -2, 1e-9], Array.from({ length: 60 }, (_, i) => (i % 7) - 2.5 + i / 10)]) {
    const ev = symmetricEigenvalues(withSpectrum(lambda, lambda.length), lambda.length);
    const want = [...lambda].sort((p, q) => p - q);
    ev.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-11 * Math.max(1, Math.abs(want[i]) * 10), `${v} vs ${want[i]}`));
  }
  const diag = Float64Array.from([4, 0, 0, 0, 1, 0, 0, 0, 9]);
  assert.deepEqual([...symmetricEigenvalues(diag, 3)], [1, 4, 9]);
  assert.throws(() => symmetricEigenvalues(new Float64Array(5), 2), /5 values do not form a 2x2 matrix/);
});

test('A Bᵀ and its symmetric half agree with a direct product', () => {
  const g = gaussian(1);
  const a = Float64Array.from({ length: 7 * 5 }, g), b = Float64Array.from({ length: 9 * 5 }, g);
  const c = mulABt(a, 7, b, 9, 5);
  const s = mulABt(a, 7, a, 7, 5, true);
  for (let i = 0; i < 7; i++) {
    for (let j = 0; j < 9; j++) assert.ok(Math.abs(c[i * 9 + j] - [0, 1, 2, 3, 4].reduce((t, k) => t + a[i * 5 + k] * b[j * 5 + k], 0)) < 1e-12);
    for (let j = 0; j < 7; j++) assert.ok(Math.abs(s[i * 7 + j] - [0, 1, 2, 3, 4].reduce((t, k) => t + a[i * 5 + k] * a[j * 5 + k], 0)) < 1e-12);
  }
});

test('the pivoted Cholesky factor reproduces a rank-deficient covariance with rank rows', () => {
  const d = 6;
  const s = withSpectrum([4, 2, 1, 0, 0, 0], 3);
  const { g, rows } = psdFactor(s, d);
  assert.equal(rows, 3);
  const gtg = new Float64Array(d * d);
  for (let r = 0; r < rows; r++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) gtg[i * d + j] += g[r * d + i] * g[r * d + j];
  gtg.forEach((v, i) => assert.ok(Math.abs(v - s[i]) < 1e-12));
});

test('FD equals the 2-D closed form on the sets\' own moments, through both covariance factorisations', () => {
  const a = normalSet(50, 2, 1, { mean: [1, -2], a: [[2, 0], [1.5, 0.5]] });
  const b = normalSet(40, 2, 2, { mean: [0.5, 0], a: [[0.3, -1], [0.8, 0.2]] });
  const want = closedForm2d(a, b);
  assert.ok(want > 1);
  // n > d: pivoted Cholesky of the d x d covariance, also with all-zero dimensions to drop.
  assert.ok(Math.abs(frechetDistance(a, b) - want) < 1e-9 * want, `${frechetDistance(a, b)} vs ${want}`);
  assert.ok(Math.abs(frechetDistance(padDims(a, 8), padDims(b, 8)) - want) < 1e-9 * want);
  // n ≤ d: the centred data is the factor.
  const [a5, b4] = [{ ...a, count: 5, data: a.data.subarray(0, 10) }, { ...b, count: 4, data: b.data.subarray(0, 8) }];
  const small = closedForm2d(a5, b4);
  assert.ok(Math.abs(frechetDistance(padDims(a5, 8), padDims(b4, 8)) - small) < 1e-9 * small);
});

test('FD of sampled Gaussians approaches the population closed form', () => {
  // Commuting covariances: FD = |μ1 − μ2|² + Σ (σ1ᵢ − σ2ᵢ)².
  const s1 = [1, 2, 0.5, 3], s2 = [1.5, 1, 0.5, 2];
  const diag = (s: number[]) => s.map((v, i) => s.map((_, j) => (i === j ? v : 0)));
  const a = normalSet(20000, 4, 3, { a: diag(s1) }), b = normalSet(20000, 4, 4, { mean: [1, 0, 0, -1], a: diag(s2) });
  const want = 2 + s1.reduce((t, v, i) => t + (v - s2[i]) ** 2, 0);
  const got = frechetDistance(a, b);
  assert.ok(Math.abs(got - want) < 0.05 * want, `${got} vs ${want}`);
});

test('FD of a set with itself is 0 and grows with added noise', () => {
  const a = normalSet(300, 16, 5, { a: Array.from({ length: 16 }, (_, i) => Array.from({ length: 16 }, (_, j) => (i === j ? 1 : 0.2))) });
  assert.ok(frechetDistance(a, a) < 1e-9);
  const noise = normalSet(300, 16, 6);
  const noisy = (s: number) => ({ ...a, data: a.data.map((v, i) => v + s * noise.data[i]) });
  const fds = [0.1, 0.3, 1, 3].map((s) => frechetDistance(a, noisy(s)));
  for (let i = 1; i < fds.length; i++) assert.ok(fds[i] > fds[i - 1], fds.join(', '));
});

test('FD at d = 2048 runs and is symmetric', () => {
  const a = normalSet(64, 2048, 7), b = normalSet(48, 2048, 8, { mean: new Array(2048).fill(0.05) });
  const ab = frechetDistance(a, b), ba = frechetDistance(b, a);
  assert.ok(Number.isFinite(ab) && ab > 0);
  assert.ok(Math.abs(ab - ba) < 1e-9 * ab);
});

test('FD refuses mismatched, too small or broken inputs', () => {
  const a = normalSet(10, 3, 1);
  assert.throws(() => frechetDistance(a, normalSet(10, 4, 1)), /features of 3 and 4 dims cannot be compared/);
  assert.throws(() => frechetDistance(a, normalSet(1, 3, 1)), /needs at least 2 images per set, got 10 and 1/);
  assert.throws(() => frechetDistance(a, { ...a, data: a.data.map((v, i) => (i === 4 ? NaN : v)) }), /NaN or Infinity/);
  assert.throws(() => frechetDistance(a, { ...a, count: 11 }), /does not hold count x dims/);
});
