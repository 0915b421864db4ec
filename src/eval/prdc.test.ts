import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../engine/index.js';
import type { Features } from './features.js';
import { kthNeighbourSq, prdc } from './prdc.js';
import { concatSets, normalSet } from './test_features.js';

await initEngine();

const dist = (a: Features, i: number, b: Features, j: number) => {
  let s = 0;
  for (let p = 0; p < a.dims; p++) s += (a.data[i * a.dims + p] - b.data[j * b.dims + p]) ** 2;
  return Math.sqrt(s);
};

/** The definitions of Naeem et al. 2020, written out with explicit distances in float64. */
function reference(real: Features, fake: Features, k: number) {
  const radius = (f: Features) => Array.from({ length: f.count }, (_, i) => Array.from({ length: f.count }, (_, j) => dist(f, i, f, j)).sort((p, q) => p - q)[k]);
  const rr = radius(real), rf = radius(fake);
  const inReal = (j: number) => rr.filter((r, i) => dist(real, i, fake, j) < r).length;
  const fakes = Array.from({ length: fake.count }, (_, j) => j), reals = Array.from({ length: real.count }, (_, i) => i);
  return {
    precision: fakes.filter((j) => inReal(j) > 0).length / fake.count,
    recall: reals.filter((i) => fakes.some((j) => dist(real, i, fake, j) < rf[j])).length / real.count,
    density: fakes.reduce((s, j) => s + inReal(j), 0) / (k * fake.count),
    coverage: reals.filter((i) => Math.min(...fakes.map((j) => dist(real, i, fake, j))) < rr[i]).length / real.count,
    k,
  };
}

test('PRDC follows the definitions exactly', () => {
  const real = normalSet(60, 3, 1), fake = normalSet(45, 3, 2, { mean: [0.7, 0, 0], a: [[1.3, 0, 0], [0, 0.6, 0], [0, 0, 1]] });
  for (const k of [1, 5]) assert.deepEqual(prdc(real, fake, k), reference(real, fake, k));
});

test('the k-th neighbour distance skips the point itself', () => {
  const line: Features = { data: Float32Array.from([0, 1, 3, 7, 15]), dims: 1, count: 5 };
  assert.deepEqual([...kthNeighbourSq(line, 1)], [1, 1, 4, 16, 64]);
  assert.deepEqual([...kthNeighbourSq(line, 2)], [9, 4, 9, 36, 144]);
});

const D = 4, N = 600;
const cluster = (seed: number, at: number) => normalSet(N, D, seed, { mean: [at, 0, 0, 0] });

test('identical distributions: precision, recall, density and coverage all ≈ 1', () => {
  const r = prdc(cluster(1, 0), cluster(2, 0));
  assert.ok(r.precision > 0.9 && r.recall > 0.9, JSON.stringify(r));
  assert.ok(Math.abs(r.density - 1) < 0.15, JSON.stringify(r));
  // Coverage of a perfect generator tends to 1 − 2⁻ᵏ ≈ 0.97 (Naeem et al.).
  assert.ok(r.coverage > 0.93, JSON.stringify(r));
  // The same set on both sides. Precision, recall and coverage are 1 with a margin of a whole ball
  // radius (each point is at distance ~0 from its twin), so they hold exactly on any ISA. Density is
  // 1 only in exact arithmetic: each real ball then holds its centre and the k−1 points strictly
  // inside it, k·N in all. Its boundary point is at distance d(i, kth) evaluated once as the radius
  // and once as the cross distance d(kth, i); float32 sgemm sums those two dot products in different
  // orders (differently on AVX-512, AVX2, SSE4.1), so a boundary point can fall in or out of its ball:
  // at most one per ball (|density − 1| ≤ 1/k), in practice a handful of the N = 600 (AVX2: 2 in).
  // 0.01 allows 30 such flips of 3000 and still fails on any real miscount of a whole neighbour set.
  const same = prdc(cluster(1, 0), cluster(1, 0));
  assert.deepEqual({ ...same, density: 1 }, { precision: 1, recall: 1, density: 1, coverage: 1, k: 5 });
  assert.ok(Math.abs(same.density - 1) <= 0.01, JSON.stringify(same));
});

test('disjoint distributions: all four are 0', () => {
  assert.deepEqual(prdc(cluster(1, 0), cluster(2, 100)), { precision: 0, recall: 0, density: 0, coverage: 0, k: 5 });
});

test('partial overlap lands in between, on the side each metric measures', () => {
  // Real images in two far-apart modes; a generator that draws only one of them is faithful but
  // not diverse: precision ≈ 1, recall and coverage ≈ ½, and density ≈ 1 (inside the real
  // support each point still falls in about k real balls).
  const twoModes = concatSets(normalSet(N / 2, D, 3), normalSet(N / 2, D, 4, { mean: [50, 0, 0, 0] }));
  const oneMode = normalSet(N, D, 5);
  const collapsed = prdc(twoModes, oneMode);
  assert.ok(collapsed.precision > 0.9, JSON.stringify(collapsed));
  assert.ok(Math.abs(collapsed.recall - 0.5) < 0.05 && Math.abs(collapsed.coverage - 0.5) < 0.05, JSON.stringify(collapsed));
  assert.ok(Math.abs(collapsed.density - 1) < 0.15, JSON.stringify(collapsed));
  // The other way round, half the synthetic points are off the real data: precision and density
  // ≈ ½, recall and coverage ≈ 1.
  const spread = prdc(oneMode, twoModes);
  assert.ok(Math.abs(spread.precision - 0.5) < 0.05 && Math.abs(spread.density - 0.5) < 0.1, JSON.stringify(spread));
  assert.ok(spread.recall > 0.9 && spread.coverage > 0.85, JSON.stringify(spread));
  // Shifting one Gaussian away from the other: every metric falls from ≈ 1 to 0, through values
  // strictly between.
  const shifts = [0, 1.5, 2.5, 4, 100].map((at) => prdc(cluster(1, 0), cluster(2, at)));
  for (const key of ['precision', 'recall', 'density', 'coverage'] as const) {
    const v = shifts.map((r) => r[key]);
    for (let i = 1; i < v.length; i++) assert.ok(v[i] < v[i - 1], `${key}: ${v.join(', ')}`);
    assert.ok(v[2] > 0.1 && v[2] < 0.9, `${key}: ${v.join(', ')}`);
  }
});

test('PRDC refuses mismatched or too small inputs', () => {
  const a = normalSet(10, 3, 1);
  assert.throws(() => prdc(a, normalSet(10, 2, 1)), /features of 3 and 2 dims cannot be compared/);
  assert.throws(() => prdc(a, normalSet(5, 3, 1)), /PRDC with k=5: needs at least 6 images per set, got 10 and 5/);
  assert.throws(() => prdc(a, a, 0), /k must be a positive integer, got 0/);
});
