import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertSameAsCpu, randArray, rng, SKIP_NATIVE } from '../test_util.js';

test('softmax over the last axis and its gradient match cpu', { skip: SKIP_NATIVE }, async () => {
  const r = rng(31);
  for (const shape of [[7, 5], [2, 3, 4, 13], [1, 1], [3, 2]]) {
    const x = randArray(r, shape, 8); // large logits: the max subtraction matters
    await assertSameAsCpu(`softmax ${shape}`, [x], (a) => tf.softmax(a));
    const w = randArray(r, shape);
    await assertSameAsCpu(`softmax grad ${shape}`, [x, w], (a, b) =>
      tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(tf.softmax(xi), b)))(a));
  }
  const big = tf.tensor2d([[1000, 0, -1000]]);
  assert.deepEqual(Array.from(tf.softmax(big).dataSync()).map((v) => Math.round(v)), [1, 0, 0], 'no overflow at logit 1000');
});

test('argMax over the last axis matches cpu, ties go to the first maximum; other axes still work', { skip: SKIP_NATIVE }, async () => {
  const r = rng(32);
  for (const shape of [[6, 13], [2, 4, 4, 3], [5, 1]]) {
    await assertSameAsCpu(`argMax ${shape}`, [randArray(r, shape)], (a) => tf.argMax(a, -1));
  }
  await assertSameAsCpu('argMax axis 0', [randArray(r, [4, 6])], (a) => tf.argMax(a, 0));
  const tied = tf.tensor2d([[1, 3, 3, 0], [2, 2, 2, 2]]);
  const am = tf.argMax(tied, 1);
  assert.equal(am.dtype, 'int32');
  assert.deepEqual(Array.from(am.dataSync()), [1, 0]);
});
