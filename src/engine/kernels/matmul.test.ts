import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertSameAsCpu, randArray, rng, SKIP_NATIVE } from '../test_util.js';
import { loadNative } from '../native.js';

test('matMul matches cpu for transposes, batches and broadcast batches', { skip: SKIP_NATIVE }, async () => {
  const r = rng(21);
  const before = loadNative()!.stats().matmulCalls;
  const cases: [number[], number[], boolean, boolean][] = [
    [[7, 5], [5, 3], false, false], [[5, 7], [5, 3], true, false], [[7, 5], [3, 5], false, true],
    [[5, 7], [3, 5], true, true], [[4, 7, 5], [4, 5, 3], false, false], [[1, 7, 5], [4, 5, 3], false, false],
    [[2, 3, 7, 5], [5, 3], false, false], [[1, 1], [1, 9], false, false], [[64, 100], [100, 257], false, false],
  ];
  for (const [as, bs, ta, tb] of cases) {
    await assertSameAsCpu(`matMul ${as} x ${bs} ${ta} ${tb}`, [randArray(r, as), randArray(r, bs)],
      (a, b) => tf.matMul(a, b, ta, tb));
  }
  assert.ok(loadNative()!.stats().matmulCalls > before, 'the native matmul was not used');
});

test('fused matMul (dense) with bias and activation, and its gradients, match cpu', { skip: SKIP_NATIVE }, async () => {
  const r = rng(22);
  for (const activation of ['linear', 'relu', 'elu', 'leakyrelu', 'sigmoid', 'relu6'] as const) {
    const x = randArray(r, [9, 6]), w = randArray(r, [6, 4]), b = randArray(r, [4]);
    await assertSameAsCpu(`dense ${activation}`, [x, w, b], (a, k, bias) =>
      tf.fused.matMul({ a: a as tf.Tensor2D, b: k as tf.Tensor2D, bias, activation, leakyreluAlpha: 0.3 }));
    await assertSameAsCpu(`dense grads ${activation}`, [x, w, b], (a, k, bias) =>
      tf.grads((xi: tf.Tensor, ki: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.square(
        tf.fused.matMul({ a: xi as tf.Tensor2D, b: ki as tf.Tensor2D, bias: bi, activation, leakyreluAlpha: 0.3 }))))([a, k, bias]));
  }
});

test('outer products (K = 1) match cpu in every transpose combination', { skip: SKIP_NATIVE }, async () => {
  const r = rng(23);
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
    const a = randArray(r, ta ? [1, 64] : [64, 1]), b = randArray(r, tb ? [300, 1] : [1, 300]);
    await assertSameAsCpu(`outer ${ta} ${tb}`, [a, b], (p, q) => tf.matMul(p, q, ta, tb));
  }
});
