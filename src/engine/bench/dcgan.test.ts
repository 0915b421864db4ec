import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../index.js';
import { BenchDcgan } from './dcgan.js';

test('the benchmark DCGAN step updates both networks, keeps losses finite and leaks no tensors', async () => {
  const { backend } = await initEngine();
  await tf.setBackend(backend);
  const m = new BenchDcgan({ size: 32, batch: 4, zDim: 8, seed: 3, width: 8 });
  const g0 = m.g.deconv[2].dataSync().slice(), d0 = m.d.conv[0].dataSync().slice();
  m.step();
  const before = tf.memory().numTensors;
  const [ld, lg] = m.step();
  assert.equal(tf.memory().numTensors, before, 'tensor count grew during a step');
  assert.ok(Number.isFinite(ld) && Number.isFinite(lg), `losses ${ld} ${lg}`);
  // BCE of an untrained D is near log 2 per term.
  assert.ok(ld > 0.5 && ld < 3 && lg > 0.2 && lg < 2, `losses out of range: ${ld} ${lg}`);
  const moved = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).some((v, i) => v !== b[i]);
  assert.ok(moved(m.g.deconv[2].dataSync(), g0), 'G did not update');
  assert.ok(moved(m.d.conv[0].dataSync(), d0), 'D did not update');
  m.dispose();
});
