// ReflectionPad2D, InstanceNorm and MinibatchStd against reference formulas, their gradients against finite
// differences (and tf.mirrorPad's wrong gradient shown for contrast), StepDropout's seeding, and a
// model of all three saved and reloaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../engine/index.js';
import './index.js';
import { InstanceNorm } from './instance_norm.js';
import { ReflectionPad2D } from './reflection_pad.js';
import { StepDropout } from './step_dropout.js';
import { MinibatchStd } from './minibatch_std.js';

await initEngine();

const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

/** Central finite difference of f at every coordinate of x (f returns a scalar), in float64 JS. */
function numericGrad(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor, h = 1e-2): Float64Array {
  const base = Float32Array.from(x.dataSync());
  const out = new Float64Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const at = (d: number) => {
      const v = base.slice();
      v[i] += d;
      return tf.tidy(() => f(tf.tensor(v, x.shape)).dataSync()[0]);
    };
    out[i] = (at(h) - at(-h)) / (2 * h);
  }
  return out;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** PyTorch ReflectionPad2d index rule: i < 0 -> -i, i >= n -> 2(n-1) - i. */
const mirror = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);

test('ReflectionPad2D: reflects without repeating the border, equal to mirrorPad reflect', () => {
  const [n, h, w, c, p] = [2, 4, 5, 3, 2];
  const x = rand([n, h, w, c], 1);
  const y = new ReflectionPad2D({ padding: p }).apply(x) as tf.Tensor;
  assert.deepEqual(y.shape, [n, h + 2 * p, w + 2 * p, c]);
  const xs = x.dataSync(), ys = y.dataSync();
  const H = h + 2 * p, W = w + 2 * p;
  for (let b = 0; b < n; b++) for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) for (let k = 0; k < c; k++) {
    const src = ((b * h + mirror(i - p, h)) * w + mirror(j - p, w)) * c + k;
    assert.equal(ys[((b * H + i) * W + j) * c + k], xs[src]);
  }
  const ref = tf.mirrorPad(x, [[0, 0], [p, p], [p, p], [0, 0]], 'reflect');
  assert.deepEqual(Array.from(ref.dataSync()), Array.from(ys));
  assert.throws(() => new ReflectionPad2D({ padding: 4 }).apply(x), /padding 4 needs more than 4 pixels/);
  tf.dispose([x, y, ref]);
});

test('ReflectionPad2D: gradient equals finite differences; tf.mirrorPad\'s does not', () => {
  const x = rand([1, 4, 4, 2], 2);
  const wts = rand([1, 8, 8, 2], 3);
  const layer = new ReflectionPad2D({ padding: 2 });
  const f = (v: tf.Tensor) => tf.sum(tf.mul(layer.apply(v) as tf.Tensor, wts)) as tf.Scalar;
  const analytic = tf.grad(f)(x);
  const numeric = numericGrad(f, x);
  assert.ok(maxDiff(analytic.dataSync(), numeric) < 2e-3, `max |analytic - numeric| = ${maxDiff(analytic.dataSync(), numeric)}`);
  // The bug this layer exists for: mirrorPad's gradient drops the border contributions.
  const g = (v: tf.Tensor) => tf.sum(tf.mul(tf.mirrorPad(v as tf.Tensor4D, [[0, 0], [2, 2], [2, 2], [0, 0]], 'reflect'), wts)) as tf.Scalar;
  const wrong = tf.grad(g)(x);
  assert.ok(maxDiff(wrong.dataSync(), numeric) > 0.1, 'tf.mirrorPad gradient became right: ReflectionPad2D could use it');
  tf.dispose([x, wts, analytic, wrong]);
});

/** Instance norm and its input gradient in float64: y = gamma * xhat + beta; dx = gamma/sigma (g - mean g - xhat mean(g xhat)). */
function referenceInstanceNorm(x: Float32Array, dy: Float32Array, [n, h, w, c]: number[], gamma: number[], beta: number[], eps: number) {
  const y = new Float64Array(x.length), dx = new Float64Array(x.length), m = h * w;
  for (let b = 0; b < n; b++) for (let k = 0; k < c; k++) {
    const idx = Array.from({ length: m }, (_, i) => (b * m + i) * c + k);
    const mu = idx.reduce((s, i) => s + x[i], 0) / m;
    const v = idx.reduce((s, i) => s + (x[i] - mu) ** 2, 0) / m;
    const sig = Math.sqrt(v + eps);
    const xhat = idx.map((i) => (x[i] - mu) / sig);
    const g = idx.map((i) => dy[i] * gamma[k]);
    const mg = g.reduce((s, t) => s + t, 0) / m;
    const mgx = g.reduce((s, t, j) => s + t * xhat[j], 0) / m;
    idx.forEach((i, j) => {
      y[i] = gamma[k] * xhat[j] + beta[k];
      dx[i] = (g[j] - mg - xhat[j] * mgx) / sig;
    });
  }
  return { y, dx };
}

test('InstanceNorm: per sample and channel over H, W; matches the reference formula and its gradient', () => {
  const shape = [2, 3, 4, 3];
  const x = tf.add(tf.mul(rand(shape, 4), 3), 1);
  const dy = rand(shape, 5);
  for (const affine of [false, true]) {
    const layer = new InstanceNorm({ affine });
    layer.apply(x);
    const gamma = [1.5, -0.5, 2], beta = [0.1, 0.2, -0.3];
    if (affine) layer.setWeights([tf.tensor1d(gamma), tf.tensor1d(beta)]);
    else assert.equal(layer.getWeights().length, 0, 'affine false has no weights');
    const ref = referenceInstanceNorm(x.dataSync() as Float32Array, dy.dataSync() as Float32Array, shape,
      affine ? gamma : [1, 1, 1], affine ? beta : [0, 0, 0], 1e-5);
    const y = layer.apply(x) as tf.Tensor;
    assert.ok(maxDiff(y.dataSync(), ref.y) < 1e-5, `forward off by ${maxDiff(y.dataSync(), ref.y)}`);
    const f = (v: tf.Tensor) => tf.sum(tf.mul(layer.apply(v) as tf.Tensor, dy)) as tf.Scalar;
    const analytic = tf.grad(f)(x);
    assert.ok(maxDiff(analytic.dataSync(), ref.dx) < 1e-4, `gradient vs formula off by ${maxDiff(analytic.dataSync(), ref.dx)}`);
    const numeric = numericGrad(f, x, 5e-3);
    assert.ok(maxDiff(analytic.dataSync(), numeric) < 5e-3, `gradient vs finite differences off by ${maxDiff(analytic.dataSync(), numeric)}`);
    tf.dispose([y, analytic]);
  }
  tf.dispose([x, dy]);
});

test('StepDropout: identity at inference, seeded masks per step that differ between steps', () => {
  const x = tf.ones([2, 8, 8, 4]);
  const layer = new StepDropout({ rate: 0.5 });
  const inf = layer.apply(x) as tf.Tensor;
  assert.deepEqual(Array.from(inf.dataSync()), Array.from(x.dataSync()));
  const run = (seed: number) => {
    layer.reseed(seed);
    return Array.from((layer.apply(x, { training: true }) as tf.Tensor).dataSync());
  };
  const a = run(11), b = run(11), c = run(12);
  assert.deepEqual(a, b, 'same seed, same mask');
  assert.notDeepEqual(a, c, 'another step, another mask');
  const kept = a.filter((v) => v > 0).length / a.length;
  assert.ok(kept > 0.35 && kept < 0.65, `kept ${kept}`);
  assert.ok(a.every((v) => v === 0 || Math.abs(v - 2) < 1e-6), 'kept values are scaled by 1 / (1 - rate)');
  tf.dispose([x, inf]);
});

test('a model of ReflectionPad2D, InstanceNorm and StepDropout saves and reloads unchanged', async () => {
  const inp = tf.input({ shape: [6, 6, 2] });
  let h = new ReflectionPad2D({ padding: 1 }).apply(inp) as tf.SymbolicTensor;
  h = tf.layers.conv2d({ filters: 3, kernelSize: 3 }).apply(h) as tf.SymbolicTensor;
  h = new InstanceNorm({ affine: true }).apply(h) as tf.SymbolicTensor;
  h = new StepDropout({ rate: 0.3 }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: h });
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
  const again = await tf.loadLayersModel(tf.io.fromMemory(saved!));
  const x = rand([2, 6, 6, 2], 6);
  const [a, b] = [model.predict(x), again.predict(x)] as tf.Tensor[];
  assert.deepEqual(b.shape, [2, 6, 6, 3]);
  assert.ok(maxDiff(a.dataSync(), b.dataSync()) < 1e-6);
  tf.dispose([x, a, b]);
});

/** ProGAN's formula, in float64: per group (images m, m + n/g, ...), the mean over pixels and channels of the std over members. */
function referenceMinibatchStd(x: Float32Array, [n, h, w, c]: number[], g: number): number[] {
  const groups = n / g, px = h * w * c;
  return Array.from({ length: n }, (_, i) => {
    const m = i % groups;
    let sum = 0;
    for (let p = 0; p < px; p++) {
      const v = Array.from({ length: g }, (_, j) => x[(j * groups + m) * px + p]);
      const mean = v.reduce((a, b) => a + b, 0) / g;
      sum += Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / g + 1e-8);
    }
    return sum / px;
  });
}

test('MinibatchStd: the group std plane equals the formula, is ~0 for a collapsed batch, and its gradient equals finite differences', () => {
  const shape = [8, 3, 3, 2];
  const x = rand(shape, 7);
  const y = new MinibatchStd().apply(x) as tf.Tensor4D;
  assert.deepEqual(y.shape, [8, 3, 3, 3]);
  const ref = referenceMinibatchStd(x.dataSync() as Float32Array, shape, 4);
  const plane = tf.slice(y, [0, 0, 0, 2], [8, 3, 3, 1]).dataSync();
  for (let i = 0; i < 8; i++) for (let p = 0; p < 9; p++) assert.ok(Math.abs(plane[i * 9 + p] - ref[i]) < 1e-5, `image ${i}`);
  assert.deepEqual(Array.from(tf.slice(y, [0, 0, 0, 0], [8, 3, 3, 2]).dataSync()), Array.from(x.dataSync()), 'the input passes through');
  const same = tf.tile(tf.slice(x, [0, 0, 0, 0], [1, 3, 3, 2]), [8, 1, 1, 1]);
  const flat = (new MinibatchStd().apply(same) as tf.Tensor).slice([0, 0, 0, 2], [8, 3, 3, 1]).max().dataSync()[0];
  assert.ok(flat < 1e-3, `a batch of one image repeated: std plane ${flat}`);
  assert.ok(Math.min(...ref) > 0.3, 'random images: a clearly larger std');
  // Odd batch: one group of all 5.
  const odd = rand([5, 2, 2, 1], 8);
  const oddRef = referenceMinibatchStd(odd.dataSync() as Float32Array, [5, 2, 2, 1], 5);
  assert.ok(Math.abs((new MinibatchStd().apply(odd) as tf.Tensor).dataSync()[1] - oddRef[0]) < 1e-5);
  const wts = rand([8, 3, 3, 3], 9);
  const f = (t: tf.Tensor) => tf.sum(tf.mul(new MinibatchStd().apply(t) as tf.Tensor, wts)) as tf.Scalar;
  const small = tf.slice(x, [0, 0, 0, 0], [8, 3, 3, 2]);
  const analytic = tf.grad(f)(small);
  const numeric = numericGrad(f, small);
  assert.ok(maxDiff(analytic.dataSync(), numeric) < 5e-3, `gradient vs finite differences off by ${maxDiff(analytic.dataSync(), numeric)}`);
  assert.throws(() => new MinibatchStd({ groupSize: 1 }), /groupSize must be an integer >= 2/);
  tf.dispose([x, y, same, odd, wts, analytic]);
});

test('a discriminator with MinibatchStd saves and reloads unchanged', async () => {
  const inp = tf.input({ shape: [4, 4, 3] });
  const h = tf.layers.flatten().apply(new MinibatchStd({ groupSize: 2 }).apply(inp)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: tf.layers.dense({ units: 1 }).apply(h) as tf.SymbolicTensor });
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
  const again = await tf.loadLayersModel(tf.io.fromMemory(saved!));
  const x = rand([4, 4, 4, 3], 10);
  assert.ok(maxDiff((model.predict(x) as tf.Tensor).dataSync(), (again.predict(x) as tf.Tensor).dataSync()) < 1e-6);
  assert.equal((again.layers[1] as MinibatchStd).groupSize, 2);
  tf.dispose(x);
});
