import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../engine/index.js';
import { SNConv2D, SNDense, estimatedSigma, spectralNormalize } from './spectral_norm.js';

await initEngine();

/** Largest singular value of a row-major [rows, cols] matrix, by power iteration on W^T W in float64. */
function sigmaMax(w: Float32Array, rows: number, cols: number): number {
  let v = Float64Array.from({ length: cols }, (_, i) => Math.sin(i + 1));
  let s = 0;
  for (let it = 0; it < 500; it++) {
    const wv = new Float64Array(rows);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) wv[r] += w[r * cols + c] * v[c];
    const next = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) next[c] += w[r * cols + c] * wv[r];
    const n = Math.hypot(...next);
    s = Math.sqrt(n);
    v = next.map((x) => x / n);
  }
  return s;
}

const calls = (layer: tf.layers.Layer, x: tf.Tensor, n: number, training: boolean) => {
  for (let i = 0; i < n; i++) tf.tidy(() => { layer.apply(x, { training }); });
};

for (const kind of ['SNDense', 'SNConv2D'] as const) {
  test(`${kind}: u converges to the top singular vector, so the normalised weight has spectral norm 1`, () => {
    const dense = kind === 'SNDense';
    const layer = dense ? new SNDense({ units: 5, seed: 3 }) : new SNConv2D({ filters: 6, kernelSize: 3, seed: 3 });
    const x = dense ? tf.randomNormal([2, 7], 0, 1, 'float32', 1) : tf.randomNormal([2, 5, 5, 4], 0, 1, 'float32', 1);
    calls(layer, x, 1, true);
    const [kernel, u] = [(layer as SNDense).kernel.read(), (layer as SNDense).u.read()];
    const out = kernel.shape[kernel.shape.length - 1];
    const rows = kernel.size / out;
    const want = sigmaMax(kernel.dataSync() as Float32Array, rows, out);
    calls(layer, x, 60, true);
    assert.ok(Math.abs(estimatedSigma(kernel, u) - want) < 1e-3 * want, `estimate ${estimatedSigma(kernel, u)} vs ${want}`);
    const normalised = tf.tidy(() => spectralNormalize(kernel, (layer as SNDense).u, false));
    const after = sigmaMax(normalised.dataSync() as Float32Array, rows, out);
    assert.ok(Math.abs(after - 1) < 1e-3, `normalised weight's spectral norm ${after}`);
    tf.dispose([x, normalised]);
    layer.dispose();
  });
}

test('u moves only in training calls and travels with getWeights/setWeights', () => {
  const a = new SNConv2D({ filters: 4, kernelSize: 3, seed: 9 });
  const x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 2);
  calls(a, x, 1, false);
  const u0 = a.u.read().dataSync().slice();
  calls(a, x, 2, false);
  assert.deepEqual(a.u.read().dataSync(), u0, 'inference changed u');
  calls(a, x, 3, true);
  const u1 = a.u.read().dataSync().slice();
  assert.notDeepEqual(u1, u0, 'training did not update u');
  const names = a.weights.map((w) => w.name);
  assert.ok(names.some((n) => n.includes('sn_u')), `u is not a layer weight: ${names}`);
  assert.equal(a.trainableWeights.length, 2, 'u must not be trainable');
  const b = new SNConv2D({ filters: 4, kernelSize: 3, seed: 99 });
  calls(b, x, 1, false);
  b.setWeights(a.getWeights());
  assert.deepEqual(b.u.read().dataSync(), u1);
  const [ya, yb] = [a.apply(x, { training: false }), b.apply(x, { training: false })] as tf.Tensor[];
  assert.deepEqual(yb.dataSync(), ya.dataSync());
  tf.dispose([x, ya, yb]);
  a.dispose();
  b.dispose();
});

test('the power iteration is not differentiated: gradient flows through W only', () => {
  const layer = new SNDense({ units: 3, useBias: false, seed: 4 });
  const x = tf.randomNormal([4, 5], 0, 1, 'float32', 3);
  calls(layer, x, 50, true);
  const w = layer.kernel.read() as tf.Variable;
  // With u, v fixed at the top singular pair, d sigma / dW = v u^T; the loss sum(W/sigma * G) has
  // gradient G/sigma - <W, G> v u^T / sigma^2. Check against that form.
  const g = tf.randomNormal(w.shape, 0, 1, 'float32', 5);
  const grad = tf.grad((k: tf.Tensor) => tf.sum(tf.mul(spectralNormalize(k, layer.u, false), g)))(w);
  const got = grad.dataSync();
  const want = tf.tidy(() => {
    const uCol = tf.reshape(layer.u.read(), [-1, 1]);
    const wu = tf.matMul(w, uCol);
    const sigma = tf.norm(wu);
    const v = tf.div(wu, sigma);
    const outer = tf.matMul(v, uCol, false, true);
    return tf.sub(tf.div(g, sigma), tf.mul(tf.div(tf.sum(tf.mul(w, g)), tf.square(sigma)), outer)).dataSync();
  });
  const err = Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i])));
  assert.ok(err < 1e-4, `max error ${err}`);
  tf.dispose([x, g, grad]);
  layer.dispose();
});
