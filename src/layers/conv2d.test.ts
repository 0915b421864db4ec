import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../engine/index.js';
import { SynthsetConv2D } from './index.js';

before(async () => { await initEngine(); });

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

test('matches tf.layers.conv2d (values and gradients) and reloads from its saved form', async () => {
  const mk = (layer: tf.layers.Layer) => {
    const inp = tf.input({ shape: [9, 9, 3] });
    return tf.model({ inputs: inp, outputs: layer.apply(inp) as tf.SymbolicTensor });
  };
  const ours = mk(new SynthsetConv2D({ filters: 5, kernelSize: 4, strides: 2, seed: 1 }));
  const ref = mk(tf.layers.conv2d({ filters: 5, kernelSize: 4, strides: 2, padding: 'same' }));
  const w = [tf.randomNormal([4, 4, 3, 5], 0, 1, 'float32', 2), tf.randomNormal([5], 0, 1, 'float32', 3)];
  ours.setWeights(w);
  ref.setWeights(w);
  assert.deepEqual(ours.outputs[0].shape, [null, 5, 5, 5]);
  const x = tf.randomNormal([2, 9, 9, 3], 0, 1, 'float32', 4);
  const a = ours.predict(x) as tf.Tensor, b = ref.predict(x) as tf.Tensor;
  assert.ok(maxDiff(a, b) < 1e-4);
  const grads = (m: tf.LayersModel) => Object.values(tf.variableGrads(() => tf.sum(tf.square(m.apply(x) as tf.Tensor)) as tf.Scalar,
    m.trainableWeights.map((v) => v.read() as tf.Variable)).grads);
  const ga = grads(ours), gb = grads(ref);
  ga.forEach((g, i) => assert.ok(maxDiff(g, gb[i]) < 1e-3, `gradient ${i}`));
  let saved: tf.io.ModelArtifacts | undefined;
  await ours.save(tf.io.withSaveHandler(async (art) => {
    saved = art;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const back = await tf.loadLayersModel(tf.io.fromMemory(saved!));
  const c = back.predict(x) as tf.Tensor;
  assert.ok(maxDiff(a, c) < 1e-6);
  assert.throws(() => new SynthsetConv2D({ filters: 0, kernelSize: 3 }), /filters must be a positive integer/);
  tf.dispose([...w, x, a, b, c, ...ga, ...gb]);
  [ours, ref, back].forEach((m) => m.dispose());
});
