// ConditionalBatchNorm, ProjectionHead, LayerNorm2D: arithmetic against hand-computed values, and
// a model using them saved and reloaded through tf.io with only the layer modules imported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../engine/index.js';
import './index.js';
import { ConditionalBatchNorm } from './conditional_batch_norm.js';
import { LayerNorm2D } from './layer_norm.js';
import { GlobalSumPooling2D, ProjectionHead } from './projection.js';

await initEngine();

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-4) =>
  assert.ok(Array.from(a).every((v, i) => Math.abs(v - b[i]) < tol), `${Array.from(a).slice(0, 6)} vs ${Array.from(b).slice(0, 6)}`);

test('ConditionalBatchNorm: batch statistics shared, scale and shift per class', () => {
  const layer = new ConditionalBatchNorm({ numClasses: 2, epsilon: 1e-5 });
  const x = tf.tensor4d([1, 3, 5, 7], [4, 1, 1, 1]);
  const hot = tf.tensor2d([1, 0, 0, 1, 1, 0, 0, 1], [4, 2]);
  layer.apply([x, hot], { training: false });
  layer.setWeights([tf.tensor2d([[2], [-1]]), tf.tensor2d([[0], [10]]), tf.tensor1d([0]), tf.tensor1d([1])]);
  const y = layer.apply([x, hot], { training: true }) as tf.Tensor;
  // mean 4, variance 5: xhat = (x - 4) / sqrt(5)
  const xhat = [1, 3, 5, 7].map((v) => (v - 4) / Math.sqrt(5 + 1e-5));
  close(y.dataSync(), [2 * xhat[0], -xhat[1] + 10, 2 * xhat[2], -xhat[3] + 10]);
  const [, , mean, variance] = layer.getWeights().map((w) => w.dataSync()[0]);
  close([mean, variance], [0.01 * 4, 0.99 + 0.01 * 5]);
  tf.dispose([x, hot, y]);
});

test('ProjectionHead: logit = dense(h) + <embed(y), h>; GlobalSumPooling2D sums space', () => {
  const head = new ProjectionHead({ numClasses: 2, spectral: false });
  const h = tf.tensor2d([1, 2, 3, -1], [2, 2]);
  const hot = tf.tensor2d([0, 1, 1, 0], [2, 2]);
  head.apply([h, hot]);
  head.setWeights([tf.tensor2d([[1], [2]]), tf.tensor1d([0.5]), tf.tensor2d([[1, 0], [0, 3]])]);
  const out = head.apply([h, hot]) as tf.Tensor;
  // row 0: 1 + 4 + 0.5 + (class 1: 0*1 + 3*2) = 11.5; row 1: 3 - 2 + 0.5 + (class 0: 1*3) = 4.5
  close(out.dataSync(), [11.5, 4.5]);
  const pooled = new GlobalSumPooling2D({}).apply(tf.ones([1, 2, 3, 2])) as tf.Tensor;
  close(pooled.dataSync(), [6, 6]);
  tf.dispose([h, hot, out, pooled]);
});

test('LayerNorm2D normalises each sample over H, W, C and is twice differentiable', () => {
  const ln = new LayerNorm2D();
  const x = tf.randomNormal([2, 3, 3, 4], 2, 3, 'float32', 1);
  const y = ln.apply(x) as tf.Tensor;
  const m = tf.moments(y, [1, 2, 3]);
  close(m.mean.dataSync(), [0, 0]);
  close(m.variance.dataSync(), [1, 1], 1e-3);
  const g2 = tf.grad((xi: tf.Tensor) => tf.sum(tf.square(tf.grad((xj: tf.Tensor) => tf.sum(tf.mul(ln.apply(xj) as tf.Tensor, xj)))(xi))))(x);
  assert.ok(g2.dataSync().every(Number.isFinite));
  tf.dispose([x, y, m.mean, m.variance, g2]);
});

test('a model of the custom layers reloads from memory with identical outputs', async () => {
  const img = tf.input({ shape: [4, 4, 2] }), lab = tf.input({ shape: [3] });
  let h = new ConditionalBatchNorm({ numClasses: 3 }).apply([img, lab]) as tf.SymbolicTensor;
  h = new LayerNorm2D().apply(h) as tf.SymbolicTensor;
  const f = new GlobalSumPooling2D({}).apply(h) as tf.SymbolicTensor;
  const out = new ProjectionHead({ numClasses: 3, seed: 2 }).apply([f, lab]) as tf.SymbolicTensor;
  const model = tf.model({ inputs: [img, lab], outputs: out });
  const x = tf.randomNormal([3, 4, 4, 2], 0, 1, 'float32', 4), y = tf.oneHot(tf.tensor1d([0, 2, 1], 'int32'), 3).toFloat();
  model.apply([x, y], { training: true });
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
  const again = await tf.loadLayersModel(tf.io.fromMemory(saved!));
  const [a, b] = [model.predict([x, y]), again.predict([x, y])] as tf.Tensor[];
  assert.deepEqual(b.dataSync(), a.dataSync());
  tf.dispose([x, y, a, b]);
  model.dispose();
  again.dispose();
});
