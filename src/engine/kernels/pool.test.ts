import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { loadNative } from '../native.js';
import { assertSameAsCpu, randArray, rng, SKIP_NATIVE } from '../test_util.js';

/** Counts calls of one addon function while `fn` runs: a cpu fallback would pass the comparison too. */
async function countCalls(name: 'pool2d' | 'concat', fn: () => Promise<void>): Promise<number> {
  const addon = loadNative() as unknown as Record<string, (...a: unknown[]) => unknown>;
  const orig = addon[name];
  let calls = 0;
  addon[name] = (...a) => (calls++, orig(...a));
  try {
    await fn();
  } finally {
    addon[name] = orig;
  }
  return calls;
}

test('max and average pooling match cpu (same/valid padding, odd sizes, strides), natively', { skip: SKIP_NATIVE }, async () => {
  const r = rng(41);
  const cases: [[number, number, number, number], [number, number], [number, number], 'same' | 'valid'][] = [
    [[2, 35, 35, 5], [3, 3], [2, 2], 'valid'], [[2, 17, 17, 3], [3, 3], [1, 1], 'same'], [[1, 8, 8, 4], [8, 8], [1, 1], 'valid'],
    [[3, 7, 9, 2], [2, 3], [2, 1], 'same'], [[1, 6, 6, 1], [2, 2], [2, 2], 'same'], [[2, 5, 5, 3], [1, 1], [1, 1], 'same'],
  ];
  const calls = await countCalls('pool2d', async () => {
    for (const [shape, k, s, pad] of cases) {
      const x = randArray(r, shape);
      await assertSameAsCpu(`maxPool ${shape} k${k} s${s} ${pad}`, [x], (t) => tf.maxPool(t as tf.Tensor4D, k, s, pad), 0);
      await assertSameAsCpu(`avgPool ${shape} k${k} s${s} ${pad}`, [x], (t) => tf.avgPool(t as tf.Tensor4D, k, s, pad), 1e-6);
    }
  });
  assert.ok(calls >= 2 * cases.length - 2, `native pooling ran ${calls} times`);
  // The gradient (cpu kernels, reading the forward input) still flows through natively pooled layers.
  const x = randArray(r, [2, 6, 6, 3]);
  await assertSameAsCpu('maxPool + avgPool gradient', [x], (t) => tf.grad((u: tf.Tensor) =>
    tf.sum(tf.mul(tf.maxPool(u as tf.Tensor4D, 3, 2, 'same'), tf.avgPool(u as tf.Tensor4D, 3, 2, 'same'))))(t), 1e-5);
});

test('avgPool gradient: the non-overlapping fast path and the general fallback match cpu', { skip: SKIP_NATIVE }, async () => {
  const r = rng(9);
  const cases: [[number, number, number, number], [number, number], [number, number], 'same' | 'valid'][] = [
    [[2, 8, 8, 5], [2, 2], [2, 2], 'valid'], [[3, 9, 7, 2], [2, 2], [2, 2], 'valid'], [[1, 6, 9, 3], [2, 3], [2, 3], 'same'],
    [[2, 7, 7, 2], [2, 2], [2, 2], 'same'], [[2, 6, 6, 3], [3, 3], [2, 2], 'same'],
  ];
  for (const [shape, k, s, pad] of cases) {
    const x = randArray(r, shape);
    const pooled = tf.avgPool(tf.zeros(shape) as tf.Tensor4D, k, s, pad).shape;
    const w = randArray(r, pooled);
    // A random weighting so that every window's gradient differs.
    await assertSameAsCpu(`avgPool grad ${shape} k${k} s${s} ${pad}`, [x, w], (t, u) => tf.grad((v: tf.Tensor) =>
      tf.sum(tf.mul(tf.avgPool(v as tf.Tensor4D, k, s, pad), u as tf.Tensor4D)))(t), 1e-6);
  }
});

test('concat along every axis matches cpu exactly, natively', { skip: SKIP_NATIVE }, async () => {
  const r = rng(42);
  const calls = await countCalls('concat', async () => {
    await assertSameAsCpu('concat channels', [randArray(r, [2, 5, 5, 3]), randArray(r, [2, 5, 5, 7]), randArray(r, [2, 5, 5, 1])],
      (a, b, c) => tf.concat([a, b, c], 3), 0);
    await assertSameAsCpu('concat rows', [randArray(r, [2, 3, 4]), randArray(r, [2, 5, 4])], (a, b) => tf.concat([a, b], 1), 0);
    await assertSameAsCpu('concat batch', [randArray(r, [1, 4]), randArray(r, [3, 4])], (a, b) => tf.concat([a, b], 0), 0);
    await assertSameAsCpu('concat last, negative axis', [randArray(r, [3, 2]), randArray(r, [3, 6])], (a, b) => tf.concat([a, b], -1), 0);
  });
  assert.equal(calls, 4);
});
