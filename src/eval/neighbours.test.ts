import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { rng } from '../util/random.js';
import { initEngine } from '../engine/index.js';
import { memorySet } from '../data/image_set.js';
import { matrixRows, nearest, pickRows, pixelRows, type Rows } from './neighbours.js';

await initEngine();

function all(r: Rows): Float32Array {
  return r.read(Array.from({ length: r.count }, (_, i) => i));
}

/** The plain double loop, in float64 from the same float32 values. */
function brute(q: Rows, r: Rows, exclude?: Int32Array, mask?: Uint8Array) {
  const a = all(q), b = all(r), d = q.dims;
  const d2 = (i: number, j: number) => {
    let s = 0;
    for (let k = 0; k < d; k++) s += (a[i * d + k] - b[j * d + k]) ** 2;
    return s;
  };
  const rowDist = new Float64Array(q.count).fill(Infinity), rowIdx = new Int32Array(q.count).fill(-1);
  const mDist = new Float64Array(q.count).fill(Infinity), mIdx = new Int32Array(q.count).fill(-1);
  const colDist = new Float64Array(r.count).fill(Infinity), colIdx = new Int32Array(r.count).fill(-1);
  for (let i = 0; i < q.count; i++) {
    for (let j = 0; j < r.count; j++) {
      if (exclude && exclude[i] === j) continue;
      const v = Math.sqrt(d2(i, j));
      if (v < rowDist[i]) { rowDist[i] = v; rowIdx[i] = j; }
      if (mask && mask[j] && v < mDist[i]) { mDist[i] = v; mIdx[i] = j; }
      if (v < colDist[j]) { colDist[j] = v; colIdx[j] = i; }
    }
  }
  return { rowDist, rowIdx, mDist, mIdx, colDist, colIdx };
}

function randomRows(name: string, n: number, d: number, seed: number): Rows {
  const rand = rng(seed);
  return matrixRows(name, Float32Array.from({ length: n * d }, () => rand() * 4 - 2), d);
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

test('blocked matmul search equals a brute-force loop: rows, masked rows, columns, exclusions', () => {
  // Block 16 against 37 x 53 rows: full and partial blocks on both sides.
  const q = randomRows('q', 37, 9, 1), r = randomRows('r', 53, 9, 2);
  const rand = rng(3);
  const mask = Uint8Array.from({ length: 53 }, () => (rand() < 0.3 ? 1 : 0));
  const exclude = Int32Array.from({ length: 37 }, (_, i) => (i % 3 ? (i * 7) % 53 : -1));
  const before = tf.memory().numTensors;
  const got = nearest(q, r, { block: 16, mask, columns: true, exclude });
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
  const want = brute(q, r, exclude, mask);
  assert.deepEqual(Array.from(got.index), Array.from(want.rowIdx));
  assert.deepEqual(Array.from(got.masked!.index), Array.from(want.mIdx));
  assert.deepEqual(Array.from(got.columns!.index), Array.from(want.colIdx));
  close(got.dist, want.rowDist, 1e-12, 'dist');
  close(got.masked!.dist, want.mDist, 1e-12, 'masked');
  close(got.columns!.dist, want.colDist, 1e-12, 'columns');
  for (const i of [0, 1, 2, 3]) assert.notEqual(got.index[i], exclude[i]);
});

test('pixel rows: copies are found at distance exactly 0 despite float32 cancellation', () => {
  const rand = rng(4);
  const bytes = Uint8Array.from({ length: 30 * 32 * 32 }, () => Math.floor(rand() * 256));
  const ref = memorySet({ name: 'ref', size: 32, channels: 1, classes: [], labels: null, bytes });
  const copies = pixelRows(ref);
  const picked = pickRows(copies, [29, 3, 3, 17], 'copies');
  const got = nearest(picked, copies, { block: 8 });
  assert.deepEqual(Array.from(got.index), [29, 3, 3, 17]);
  assert.deepEqual(Array.from(got.dist), [0, 0, 0, 0]);
  // A copy off by one level in one pixel: distance 1/127.5 in [-1, 1] units.
  const nudged = bytes.slice(0, 32 * 32);
  nudged[5] = nudged[5] === 255 ? 254 : nudged[5] + 1;
  const one = nearest(pixelRows(memorySet({ name: 'one', size: 32, channels: 1, classes: [], labels: null, bytes: nudged })), copies);
  assert.equal(one.index[0], 0);
  assert.ok(Math.abs(one.dist[0] - 1 / 127.5) < 1e-6, `${one.dist[0]}`);
  // Excluding itself, a row's nearest is another row.
  const self = nearest(copies, copies, { exclude: Int32Array.from({ length: 30 }, (_, i) => i) });
  const want = brute(copies, copies, Int32Array.from({ length: 30 }, (_, i) => i));
  assert.deepEqual(Array.from(self.index), Array.from(want.rowIdx));
});

test('bad inputs are refused with the reason', () => {
  const q = randomRows('q', 4, 3, 1), r = randomRows('r', 5, 3, 2);
  assert.throws(() => nearest(matrixRows('empty', new Float32Array(0), 3), r), /empty has no images/);
  assert.throws(() => nearest(q, matrixRows('none', new Float32Array(0), 3)), /none has no images/);
  assert.throws(() => nearest(q, randomRows('wide', 5, 4, 2)), /q has 3-dimensional rows but wide 4/);
  assert.throws(() => nearest(q, r, { mask: new Uint8Array(4) }), /mask lists 4 rows for 5/);
  assert.throws(() => nearest(q, r, { mask: new Uint8Array(5) }), /selects no reference row/);
  assert.throws(() => nearest(q, r, { exclude: new Int32Array(5) }), /exclude lists 5 rows for 4/);
  assert.throws(() => nearest(q, r, { block: 0 }), /block must be a positive integer/);
  assert.throws(() => nearest(pickRows(r, [0]), pickRows(r, [0]), { exclude: Int32Array.of(0) }), /no row other than the excluded one/);
  assert.throws(() => matrixRows('m', new Float32Array(7), 3), /7 values are not a whole number of 3-dimensional rows/);
});
