import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../engine/index.js';
import { SynthsetBatchNorm } from './index.js';

before(async () => { await initEngine(); });

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

/** Two one-layer models on the same input, the reference with the same (non-trivial) weights. */
function pair(ch: number) {
  const mk = (layer: tf.layers.Layer) => {
    const inp = tf.input({ shape: [5, 5, ch] });
    return tf.model({ inputs: inp, outputs: layer.apply(inp) as tf.SymbolicTensor });
  };
  const ours = mk(new SynthsetBatchNorm({ momentum: 0.9, epsilon: 1e-3 }));
  const ref = mk(tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 }));
  const w = [tf.randomUniform([ch], 0.5, 2, 'float32', 1), tf.randomNormal([ch], 0, 1, 'float32', 2),
    tf.randomNormal([ch], 0, 1, 'float32', 3), tf.randomUniform([ch], 0.5, 2, 'float32', 4)];
  ours.setWeights(w);
  ref.setWeights(w);
  const initialMean = w[2].dataSync().slice();
  tf.dispose(w);
  return { ours, ref, initialMean };
}

test('matches tf.layers.batchNormalization in training and inference, and updates moving stats alike', () => {
  const { ours, ref, initialMean } = pair(6);
  const x = tf.randomNormal([4, 5, 5, 6], 0.3, 2, 'float32', 9);
  for (const training of [true, true, false]) {
    const a = ours.apply(x, { training }) as tf.Tensor, b = ref.apply(x, { training }) as tf.Tensor;
    assert.ok(maxDiff(a, b) < 1e-4, `outputs differ (training=${training})`);
    tf.dispose([a, b]);
  }
  const ws = ours.getWeights(), wr = ref.getWeights();
  assert.equal(ws.length, 4);
  ws.forEach((w, i) => assert.ok(maxDiff(w, wr[i]) < 1e-4, `weight ${i} differs`));
  // Moving stats moved away from the set values (training calls update them).
  assert.ok(ws[2].dataSync().some((v, i) => Math.abs(v - initialMean[i]) > 1e-3), 'moving mean did not move');
  tf.dispose([x]);
  ours.dispose();
  ref.dispose();
});

test('gradients match the reference layer', () => {
  const { ours, ref } = pair(3);
  const x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 5);
  const probe = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 6);
  const grads = (m: tf.LayersModel) => tf.variableGrads(
    () => tf.sum(tf.mul(m.apply(x, { training: true }) as tf.Tensor, probe)) as tf.Scalar,
    m.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val));
  const gOurs = grads(ours), gRef = grads(ref);
  const a = Object.values(gOurs.grads), b = Object.values(gRef.grads);
  assert.equal(a.length, 2);
  a.forEach((g, i) => assert.ok(maxDiff(g, b[i]) < 1e-4, `gradient ${i} differs`));
  const dx = (m: tf.LayersModel) => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(m.apply(t, { training: true }) as tf.Tensor, probe)))(x);
  const dxa = dx(ours), dxb = dx(ref);
  assert.ok(maxDiff(dxa, dxb) < 1e-4, 'input gradient differs');
  tf.dispose([x, probe, ...a, ...b, gOurs.value, gRef.value, dxa, dxb]);
  ours.dispose();
  ref.dispose();
});

test('survives save and reload through tf.loadLayersModel', async () => {
  const { ours } = pair(4);
  const x = tf.randomNormal([3, 5, 5, 4], 0, 1, 'float32', 11);
  tf.dispose(ours.apply(x, { training: true }) as tf.Tensor);
  let saved: tf.io.ModelArtifacts | undefined;
  await ours.save(tf.io.withSaveHandler(async (a) => {
    saved = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  assert.ok(saved && JSON.stringify(saved.modelTopology).includes('SynthsetBatchNorm'));
  const back = await tf.loadLayersModel(tf.io.fromMemory(saved));
  const a = ours.predict(x) as tf.Tensor, b = back.predict(x) as tf.Tensor;
  assert.ok(maxDiff(a, b) < 1e-6, 'reloaded model differs');
  tf.dispose([a, b]);
  const l = back.layers[1] as SynthsetBatchNorm;
  assert.ok(l instanceof SynthsetBatchNorm);
  assert.equal(l.momentum, 0.9);
  tf.dispose(x);
  ours.dispose();
  back.dispose();
});

test('rejects bad settings clearly', () => {
  assert.throws(() => new SynthsetBatchNorm({ momentum: 1 }), /momentum must be in \[0, 1\)/);
  assert.throws(() => new SynthsetBatchNorm({ epsilon: 0 }), /epsilon must be > 0/);
});
