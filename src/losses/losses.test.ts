import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../engine/index.js';
import { getLoss, gradientPenalty, lossNames } from './index.js';

before(async () => { await initEngine(); });

const real = [2, -1, 0.25], fake = [0.5, -3, 1];
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const sig = (x: number) => 1 / (1 + Math.exp(-x));
// Cross-entropy written the textbook way, independent of the softplus form under test.
const xent = (x: number, t: number) => -(t * Math.log(sig(x)) + (1 - t) * Math.log(1 - sig(x)));

function value(fn: () => tf.Scalar): number {
  const t = fn();
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

function check(name: Parameters<typeof getLoss>[0], d: number, g: number, smoothing?: number): void {
  const loss = getLoss(name);
  const r = tf.tensor2d(real, [3, 1]), f = tf.tensor2d(fake, [3, 1]);
  const before = tf.memory().numTensors;
  assert.ok(Math.abs(value(() => loss.d(r, f, { smoothing })) - d) < 1e-5, `${name} d`);
  assert.ok(Math.abs(value(() => loss.g(f)) - g) < 1e-5, `${name} g`);
  assert.equal(tf.memory().numTensors, before, `${name} leaks tensors`);
  tf.dispose([r, f]);
}

test('every loss is registered', () => {
  assert.deepEqual(lossNames().sort(), ['bce', 'hinge', 'lsgan', 'wasserstein']);
  assert.throws(() => getLoss('nope' as 'bce'), /Unknown GAN loss "nope".*bce/);
});

test('bce (non-saturating, with and without one-sided smoothing)', () => {
  const g = mean(fake.map((x) => xent(x, 1)));
  check('bce', mean(real.map((x) => xent(x, 1))) + mean(fake.map((x) => xent(x, 0))), g);
  check('bce', mean(real.map((x) => xent(x, 0.9))) + mean(fake.map((x) => xent(x, 0))), g, 0.1);
});

test('hinge', () => {
  check('hinge', mean(real.map((x) => Math.max(0, 1 - x))) + mean(fake.map((x) => Math.max(0, 1 + x))), -mean(fake));
});

test('wasserstein', () => {
  check('wasserstein', mean(fake) - mean(real), -mean(fake));
});

test('lsgan (with and without smoothing)', () => {
  const g = 0.5 * mean(fake.map((x) => (x - 1) ** 2));
  check('lsgan', 0.5 * (mean(real.map((x) => (x - 1) ** 2)) + mean(fake.map((x) => x * x))), g);
  check('lsgan', 0.5 * (mean(real.map((x) => (x - 0.8) ** 2)) + mean(fake.map((x) => x * x))), g, 0.2);
});

test('smoothing is validated and refused where there are no labels', () => {
  const r = tf.zeros([2, 1]), f = tf.zeros([2, 1]);
  assert.throws(() => getLoss('hinge').d(r, f, { smoothing: 0.1 }), /no labels to smooth/);
  assert.throws(() => getLoss('bce').d(r, f, { smoothing: 1 }), /must be in \[0, 1\)/);
  tf.dispose([r, f]);
});

test('gradient penalty: linear critic has gradient w everywhere, so GP = lambda (|w| - 1)^2', () => {
  const shape: [number, number, number, number] = [3, 2, 2, 1];
  const wv = [0.5, -1, 2, 0.25];
  const w = tf.variable(tf.tensor4d(wv, [1, 2, 2, 1]));
  const realX = tf.randomNormal(shape, 0, 1, 'float32', 1) as tf.Tensor4D;
  const fakeX = tf.randomNormal(shape, 0, 1, 'float32', 2) as tf.Tensor4D;
  const critic = (x: tf.Tensor4D) => tf.sum(tf.mul(x, w), [1, 2, 3]);
  const norm = Math.hypot(...wv);
  const before = tf.memory().numTensors;
  assert.ok(Math.abs(value(() => gradientPenalty(critic, realX, fakeX, 7, 10)) - 10 * (norm - 1) ** 2) < 1e-4);
  // The penalty must pass gradient to the critic's weights (second order): d/dw = 2 lambda (|w| - 1) w / |w|.
  const { value: v, grads } = tf.variableGrads(() => gradientPenalty(critic, realX, fakeX, 7, 10), [w]);
  const gw = grads[w.name].dataSync();
  wv.forEach((x, i) => assert.ok(Math.abs(gw[i] - (2 * 10 * (norm - 1) * x) / norm) < 1e-3, `dGP/dw[${i}]`));
  tf.dispose([v, ...Object.values(grads)]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([w, realX, fakeX]);
});

test('gradient penalty: quadratic critic depends on the interpolates, and the seed fixes them', () => {
  // critic(x) = sum(x^2) has gradient 2x, so GP = lambda * mean((2 |x_hat| - 1)^2); with real = fake = a
  // the interpolate is a whatever eps is, which gives an exact value.
  const a = tf.tensor4d([0.1, 0.2, 0.3, 0.4, 1, 0, 0, 0], [2, 2, 2, 1]);
  const critic = (x: tf.Tensor4D) => tf.sum(tf.square(x), [1, 2, 3]);
  const n1 = Math.hypot(0.1, 0.2, 0.3, 0.4), n2 = 1;
  const want = 10 * mean([(2 * n1 - 1) ** 2, (2 * n2 - 1) ** 2]);
  assert.ok(Math.abs(value(() => gradientPenalty(critic, a, a, 3)) - want) < 1e-4);
  const b = tf.zeros([2, 2, 2, 1]) as tf.Tensor4D;
  const p1 = value(() => gradientPenalty(critic, a, b, 3)), p2 = value(() => gradientPenalty(critic, a, b, 3));
  const p3 = value(() => gradientPenalty(critic, a, b, 4));
  assert.equal(p1, p2);
  assert.notEqual(p1, p3);
  assert.throws(() => gradientPenalty(critic, a, tf.zeros([1, 2, 2, 1]) as tf.Tensor4D, 1), /differ in shape/);
  tf.dispose([a, b]);
});
