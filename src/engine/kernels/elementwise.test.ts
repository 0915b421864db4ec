import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { assertSameAsCpu, randArray, rng, SKIP_NATIVE } from '../test_util.js';

const SHAPES: [number[], number[]][] = [
  [[2, 3, 4, 5], [2, 3, 4, 5]], [[2, 3, 4, 5], [5]], [[2, 3, 4, 5], []], [[], [3, 4]], [[2, 1, 4, 1], [1, 3, 1, 5]],
  [[64, 1], [1, 64]], [[3, 1, 1, 7], [3, 5, 5, 7]], [[7], [3, 7]], [[1], [1]], [[9, 4, 4, 3], [9, 1, 1, 1]],
];

test('unary kernels match cpu', { skip: SKIP_NATIVE }, async () => {
  const r = rng(31);
  const x = randArray(r, [3, 17, 5], 3), pos = { values: x.values.map((v) => Math.abs(v) + 0.1), shape: x.shape };
  const ops: [string, (t: tf.Tensor) => tf.Tensor, boolean?][] = [
    ['relu', tf.relu], ['relu6', (t) => tf.relu6(t.mul(3))], ['elu', tf.elu], ['leakyRelu', (t) => tf.leakyRelu(t, 0.13)],
    ['sigmoid', tf.sigmoid], ['tanh', tf.tanh], ['exp', tf.exp], ['log', tf.log, true], ['neg', tf.neg], ['abs', tf.abs],
    ['sqrt', tf.sqrt, true], ['rsqrt', tf.rsqrt, true], ['square', tf.square], ['step', (t) => tf.step(t, 0.25)],
    ['reciprocal', tf.reciprocal, true], ['softplus', tf.softplus], ['log1p', tf.log1p, true], ['sign', tf.sign],
    ['clip', (t) => tf.clipByValue(t, -0.5, 1.5)],
  ];
  for (const [name, f, positive] of ops) await assertSameAsCpu(name, [positive ? pos : x], f);
});

test('broadcasting binary kernels and comparisons match cpu', { skip: SKIP_NATIVE }, async () => {
  const r = rng(32);
  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', tf.add], ['sub', tf.sub], ['mul', tf.mul], ['div', tf.div], ['maximum', tf.maximum], ['minimum', tf.minimum],
    ['squaredDifference', tf.squaredDifference], ['greater', tf.greater], ['greaterEqual', tf.greaterEqual],
    ['less', tf.less], ['lessEqual', tf.lessEqual], ['equal', tf.equal], ['notEqual', tf.notEqual],
  ];
  for (const [as, bs] of SHAPES) {
    const a = randArray(r, as), b = randArray(r, bs);
    // Equal values somewhere, so that equal / notEqual / >= are not decided by chance alone.
    if (as.length === bs.length && as.every((d, i) => d === bs[i])) b.values.set(a.values.subarray(0, 4));
    for (const [name, f] of ops) await assertSameAsCpu(`${name} ${as} ${bs}`, [a, b], (p, q) => tf.cast(f(p, q), 'float32'));
  }
  const base = randArray(r, [4, 5]);
  const expo = { values: randArray(r, [5]).values.map((v) => v * 2), shape: [5] };
  await assertSameAsCpu('pow', [{ values: base.values.map(Math.abs), shape: [4, 5] }, expo], tf.pow);
});

test('select, addN, tile, broadcastTo, batchNorm and eluGrad match cpu', { skip: SKIP_NATIVE }, async () => {
  const r = rng(33);
  const a = randArray(r, [4, 6, 3]), b = randArray(r, [4, 6, 3]), c = randArray(r, [4, 6, 3]);
  await assertSameAsCpu('where', [a, b], (p, q) => tf.where(tf.greater(p, q), p, q));
  await assertSameAsCpu('addN', [a, b, c], (p, q, s) => tf.addN([p, q, s]));
  await assertSameAsCpu('broadcastTo', [randArray(r, [4, 1, 3])], (p) => tf.broadcastTo(p, [2, 4, 6, 3]));
  await assertSameAsCpu('tile general', [a], (p) => tf.tile(p, [2, 1, 3]));
  const mean = randArray(r, [3]), variance = { values: randArray(r, [3]).values.map((v) => v * v + 0.1), shape: [3] };
  await assertSameAsCpu('batchNorm', [a, mean, variance, randArray(r, [3]), randArray(r, [3])],
    (x, m, v, off, sc) => tf.batchNorm(x, m, v, off, sc, 1e-3));
  await assertSameAsCpu('batchNorm without offset/scale', [a, mean, variance], (x, m, v) => tf.batchNorm(x, m, v));
  await assertSameAsCpu('elu gradient', [a], (x) => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.elu(t), t)))(x));
  await assertSameAsCpu('relu6 gradient (bool cast to float32)', [a], (x) => tf.grad((t: tf.Tensor) => tf.sum(tf.relu6(tf.mul(t, 8))))(x));
  await assertSameAsCpu('leakyRelu + sigmoid gradient', [a], (x) =>
    tf.grad((t: tf.Tensor) => tf.sum(tf.sigmoid(tf.leakyRelu(t, 0.2))))(x));
});

test('reductions over contiguous and scattered axes match cpu', { skip: SKIP_NATIVE }, async () => {
  const r = rng(34);
  const x = randArray(r, [6, 5, 4, 7]);
  const axesList: (number | number[])[] = [[0, 1, 2], 3, 0, [1, 2], [0, 1, 2, 3], [0, 2], -1];
  for (const axes of axesList) {
    for (const keep of [false, true]) {
      await assertSameAsCpu(`sum ${axes} ${keep}`, [x], (t) => tf.sum(t, axes, keep));
      await assertSameAsCpu(`mean ${axes} ${keep}`, [x], (t) => tf.mean(t, axes, keep));
      await assertSameAsCpu(`max ${axes} ${keep}`, [x], (t) => tf.max(t, axes, keep));
      await assertSameAsCpu(`min ${axes} ${keep}`, [x], (t) => tf.min(t, axes, keep));
    }
  }
  const big = randArray(r, [64, 16, 16, 8]);
  await assertSameAsCpu('sum over N,H,W of a large NHWC tensor', [big], (t) => tf.sum(t, [0, 1, 2]));
  await assertSameAsCpu('mean gradient', [x], (t) => tf.grad((u: tf.Tensor) => tf.mean(tf.square(tf.mean(u, [0, 1]))))(t));
});
