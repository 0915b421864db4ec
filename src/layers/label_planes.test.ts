import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../engine/index.js';
import { SynthsetLabelPlanes } from './index.js';

before(async () => { await initEngine(); });

test('equals concat(image, tiled one-hot), passes the image gradient through, reloads', async () => {
  const img = tf.input({ shape: [3, 4, 2] }), lab = tf.input({ shape: [3] });
  const m = tf.model({ inputs: [img, lab], outputs: new SynthsetLabelPlanes().apply([img, lab]) as tf.SymbolicTensor });
  assert.deepEqual(m.outputs[0].shape, [null, 3, 4, 5]);
  const x = tf.randomNormal([2, 3, 4, 2], 0, 1, 'float32', 1);
  const hot = tf.oneHot(tf.tensor1d([2, 0], 'int32'), 3).toFloat();
  const want = tf.concat([x, tf.tile(tf.reshape(hot, [2, 1, 1, 3]), [1, 3, 4, 1])], 3);
  const got = m.predict([x, hot]) as tf.Tensor;
  assert.deepEqual(Array.from(got.dataSync()), Array.from(want.dataSync()));
  const probe = tf.randomNormal([2, 3, 4, 5], 0, 1, 'float32', 2);
  const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(m.apply([t, hot]) as tf.Tensor, probe)))(x);
  const dxWant = tf.slice(probe, [0, 0, 0, 0], [-1, -1, -1, 2]);
  assert.ok(tf.max(tf.abs(tf.sub(dx, dxWant))).dataSync()[0] < 1e-6);
  let saved: tf.io.ModelArtifacts | undefined;
  await m.save(tf.io.withSaveHandler(async (a) => {
    saved = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const back = await tf.loadLayersModel(tf.io.fromMemory(saved!));
  const again = back.predict([x, hot]) as tf.Tensor;
  assert.deepEqual(Array.from(again.dataSync()), Array.from(want.dataSync()));
  tf.dispose([x, hot, want, got, probe, dx, dxWant, again]);
  m.dispose();
  back.dispose();
});
