import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../engine/index.js';
import type { Features } from './features.js';
import { kernelDistance, polyKernel } from './kid.js';
import { normalSet } from './test_features.js';

await initEngine();

const row = (f: Features, i: number) => f.data.subarray(i * f.dims, (i + 1) * f.dims);
const k = (x: Float32Array, y: Float32Array) => (x.reduce((s, v, i) => s + v * y[i], 0) / x.length + 1) ** 3;

/** Unbiased MMD² over whole sets, by definition, in float64. */
function mmd2(a: Features, b: Features): number {
  let xx = 0, yy = 0, xy = 0;
  for (let i = 0; i < a.count; i++) for (let j = 0; j < a.count; j++) if (i !== j) xx += k(row(a, i), row(a, j));
  for (let i = 0; i < b.count; i++) for (let j = 0; j < b.count; j++) if (i !== j) yy += k(row(b, i), row(b, j));
  for (let i = 0; i < a.count; i++) for (let j = 0; j < b.count; j++) xy += k(row(a, i), row(b, j));
  return xx / (a.count * (a.count - 1)) + yy / (b.count * (b.count - 1)) - (2 * xy) / (a.count * b.count);
}

test('the kernel matrix is (xᵀy/d + 1)³', () => {
  const a = normalSet(7, 5, 1), b = normalSet(4, 5, 2);
  const km = polyKernel(a, [6, 0, 3], b, null);
  for (const [p, i] of [6, 0, 3].entries()) for (let j = 0; j < 4; j++) assert.ok(Math.abs(km[p * 4 + j] - k(row(a, i), row(b, j))) < 1e-5);
});

test('one subset covering both sets is the unbiased MMD² by definition, on either code path', () => {
  const a = normalSet(60, 6, 3), b = normalSet(60, 6, 4, { mean: [0.5, 0, 0, 0, 0, 0.5] });
  const want = mmd2(a, b);
  for (const maxKernelEntries of [undefined, 10]) {
    const got = kernelDistance(a, b, { subsets: 1, subsetSize: 60, maxKernelEntries });
    assert.ok(Math.abs(got.mean - want) < 1e-5 * Math.abs(want) + 1e-7, `${got.mean} vs ${want}`);
    assert.equal(got.std, null, 'one estimate has no spread');
    assert.equal(got.subsets, 1);
  }
});

test('full kernel matrices and per-subset kernels give the same subsets and values', () => {
  const a = normalSet(90, 4, 5), b = normalSet(70, 4, 6, { mean: [0.3, 0, 0, 0] });
  const full = kernelDistance(a, b, { subsets: 7, subsetSize: 30, seed: 2 });
  const local = kernelDistance(a, b, { subsets: 7, subsetSize: 30, seed: 2, maxKernelEntries: 0 });
  assert.ok(Math.abs(full.mean - local.mean) < 1e-6 && Math.abs(full.std! - local.std!) < 1e-6);
  assert.equal(full.subsetSize, 30);
});

test('KID is unbiased: ≈ 0 between two halves of one distribution, clearly positive after a shift', () => {
  const d = 16;
  const whole = normalSet(800, d, 7);
  const half = (i: number): Features => ({ data: whole.data.subarray(i * 400 * d, (i + 1) * 400 * d), dims: d, count: 400 });
  const same = kernelDistance(half(0), half(1), { subsets: 50, subsetSize: 200, seed: 1 });
  assert.ok(same.std! > 0);
  assert.ok(Math.abs(same.mean) < same.std!, `mean ${same.mean}, std ${same.std}`);
  const shifted = kernelDistance(half(0), normalSet(400, d, 8, { mean: new Array(d).fill(0.4) }), { subsets: 50, subsetSize: 200, seed: 1 });
  assert.ok(shifted.mean > 10 * shifted.std! && shifted.mean > 20 * Math.abs(same.mean), `shifted ${shifted.mean} ± ${shifted.std}`);
  // Bigger shifts, bigger distance.
  const further = kernelDistance(half(0), normalSet(400, d, 8, { mean: new Array(d).fill(0.8) }), { subsets: 50, subsetSize: 200, seed: 1 });
  assert.ok(further.mean > shifted.mean);
});

test('the subset size defaults to min(1000, half the smaller set) and the draws are seeded', () => {
  const a = normalSet(40, 3, 9), b = normalSet(30, 3, 10);
  const r = kernelDistance(a, b, { subsets: 5 });
  assert.equal(r.subsetSize, 15);
  assert.equal(r.subsets, 5);
  assert.ok(r.std! > 0, 'half-size subsets differ, so there is a spread');
  assert.deepEqual(kernelDistance(a, b, { subsets: 5 }), r);
  assert.notDeepEqual(kernelDistance(a, b, { subsets: 5, seed: 1 }), r);
});

test('KID refuses mismatched or too small inputs and bad options', () => {
  const a = normalSet(10, 3, 1);
  assert.throws(() => kernelDistance(a, normalSet(10, 2, 1)), /features of 3 and 2 dims cannot be compared/);
  assert.throws(() => kernelDistance(a, normalSet(1, 3, 1)), /needs at least 2 images per set, got 10 and 1/);
  assert.throws(() => kernelDistance(a, a, { subsets: 0 }), /subsets must be a positive integer, got 0/);
  assert.throws(() => kernelDistance(a, a, { subsetSize: 1 }), /subset size must be an integer ≥ 2, got 1/);
});
