import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertSameAsCpu, randArray, randInt, rng, SKIP_NATIVE, HAVE_NATIVE } from '../test_util.js';
import { loadNative } from '../native.js';

const convCalls = () => (HAVE_NATIVE ? loadNative()!.stats().convCalls : 0);
type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

test('conv2d forward matches cpu over random shapes, strides, paddings and dilations', { skip: SKIP_NATIVE }, async () => {
  const r = rng(7);
  const before = convCalls();
  for (let i = 0; i < 24; i++) {
    const n = [1, 3, 2][i % 3], h = randInt(r, 5, 13), w = randInt(r, 5, 13), ci = randInt(r, 1, 9), co = randInt(r, 1, 11);
    const k = randInt(r, 1, 4), stride = 1 + (i % 2), dil = stride === 1 && i % 4 === 0 ? 2 : 1;
    const pads: Pad[] = ['same', 'valid', [[0, 0], [randInt(r, 0, 2), randInt(r, 0, 2)], [randInt(r, 0, 2), randInt(r, 0, 2)], [0, 0]]];
    const pad = pads[i % 3];
    const x = randArray(r, [n, h, w, ci]), f = randArray(r, [k, k, ci, co]);
    await assertSameAsCpu(`conv ${JSON.stringify({ n, h, w, ci, co, k, stride, dil, pad })}`, [x, f],
      (a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad, 'NHWC', dil));
  }
  assert.ok(convCalls() > before, 'the native convolution was not used');
});

test('fused conv2d (bias + activation) matches cpu', { skip: SKIP_NATIVE }, async () => {
  const r = rng(11);
  const acts = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid'] as const;
  for (const activation of acts) {
    const x = randArray(r, [3, 8, 7, 5]), f = randArray(r, [3, 3, 5, 6]), b = randArray(r, [6]);
    await assertSameAsCpu(`fused ${activation}`, [x, f, b], (a, w, bias) =>
      tf.fused.conv2d({ x: a as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 2, pad: 'same', bias, activation, leakyreluAlpha: 0.1 }));
  }
});

test('conv2dTranspose (backprop input) matches cpu', { skip: SKIP_NATIVE }, async () => {
  const r = rng(3);
  for (const [n, h, ci, co, k, s, pad] of [[1, 4, 8, 3, 4, 2, 'same'], [3, 5, 6, 4, 3, 1, 'same'], [2, 3, 5, 7, 4, 2, 'valid'], [5, 4, 2, 3, 2, 2, 'same']] as const) {
    const oh = pad === 'same' ? h * s : (h - 1) * s + k;
    const x = randArray(r, [n, h, h, ci]), f = randArray(r, [k, k, co, ci]);
    await assertSameAsCpu(`deconv ${[n, h, ci, co, k, s, pad]}`, [x, f],
      (a, w) => tf.conv2dTranspose(a as tf.Tensor4D, w as tf.Tensor4D, [n, oh, oh, co], s, pad));
  }
});

test('gradients of a small conv net (input and filters) match cpu', { skip: SKIP_NATIVE }, async () => {
  const r = rng(5);
  for (const n of [1, 3]) {
    const x = randArray(r, [n, 9, 9, 3]), f1 = randArray(r, [3, 3, 3, 8], 0.5), f2 = randArray(r, [4, 4, 5, 8], 0.5);
    const b = randArray(r, [8], 0.1);
    await assertSameAsCpu(`grads n=${n}`, [x, f1, f2, b], (a, w1, w2, bias) => {
      const g = tf.grads((xi: tf.Tensor, k1: tf.Tensor, k2: tf.Tensor, bb: tf.Tensor) => {
        const h1 = tf.leakyRelu(tf.add(tf.conv2d(xi as tf.Tensor4D, k1 as tf.Tensor4D, 2, 'same'), bb), 0.2);
        const h2 = tf.conv2dTranspose(h1 as tf.Tensor4D, k2 as tf.Tensor4D, [n, 10, 10, 5], 2, 'same');
        return tf.mean(tf.square(tf.tanh(h2)));
      });
      return g([a, w1, w2, bias]);
    });
  }
});

test('fused conv2d gradients match cpu', { skip: SKIP_NATIVE }, async () => {
  const r = rng(9);
  const x = randArray(r, [2, 6, 6, 4]), f = randArray(r, [3, 3, 4, 5]), b = randArray(r, [5]);
  await assertSameAsCpu('fused grads', [x, f, b], (a, w, bias) => tf.grads((xi: tf.Tensor, k: tf.Tensor, bb: tf.Tensor) =>
    tf.sum(tf.fused.conv2d({ x: xi as tf.Tensor4D, filter: k as tf.Tensor4D, strides: 1, pad: 'valid', bias: bb, activation: 'relu' })))([a, w, bias]));
});

// Only where bf16 can be switched on (initEngine refuses --bf16 elsewhere; oneDNN's emulation is not a product path).
const SKIP_BF16 = SKIP_NATIVE || (loadNative()!.info().bf16Supported ? false : 'no native bfloat16 on this CPU (or ONEDNN_MAX_CPU_ISA caps it)');

test('bf16 convolutions stay within 2e-2 of fp32', { skip: SKIP_BF16 }, async () => {
  const r = rng(13);
  const native = loadNative()!;
  const x = randArray(r, [4, 16, 16, 32]), f = randArray(r, [4, 4, 32, 64], 0.2);
  try {
    native.setBf16(true);
    await assertSameAsCpu('bf16 conv', [x, f], (a, w) => tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'), 2e-2);
    await assertSameAsCpu('bf16 conv grads', [x, f], (a, w) =>
      tf.grads((xi: tf.Tensor, k: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xi as tf.Tensor4D, k as tf.Tensor4D, 2, 'same'))))([a, w]), 2e-2);
  } finally {
    native.setBf16(false);
  }
});
