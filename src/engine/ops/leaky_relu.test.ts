import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../index.js';
import { randArray, relErr, rng, SKIP_NATIVE } from '../test_util.js';

// f(x) = sum(w * leakyRelu(v * x)); g = df/dx = w * v * s with s = 1 or alpha by the sign of v * x.
// The penalty P = sum(g^2) has dP/dw = 2 * w * (v * s)^2: a second-order gradient through LeakyReLU.
for (const backend of ['cpu', 'onednn']) {
  test(`LeakyReLU first and second-order gradients on ${backend} match the analytic ones`,
    { skip: backend === 'onednn' && SKIP_NATIVE }, async () => {
      await initEngine();
      await tf.setBackend(backend);
      const r = rng(51), alpha = 0.2;
      const [x, v, w] = [randArray(r, [6, 40]), randArray(r, [6, 40]), randArray(r, [6, 40])];
      const s = x.values.map((xi, i) => (v.values[i] * xi > 0 ? 1 : alpha));
      tf.tidy(() => {
        const [xt, vt, wt] = [x, v, w].map((a) => tf.tensor(a.values, a.shape));
        const f = (xi: tf.Tensor, wi: tf.Tensor) => tf.sum(tf.mul(wi, tf.leakyRelu(tf.mul(vt, xi), alpha)));
        const g = tf.grad((xi: tf.Tensor) => f(xi, wt))(xt);
        assert.ok(relErr(g.dataSync(), w.values.map((wi, i) => wi * v.values[i] * s[i])) < 1e-5, 'first order');
        const dP = tf.grad((wi: tf.Tensor) => tf.sum(tf.square(tf.grad((xi: tf.Tensor) => f(xi, wi))(xt))))(wt);
        const want = w.values.map((wi, i) => 2 * wi * (v.values[i] * s[i]) ** 2);
        assert.ok(relErr(dP.dataSync(), want) < 1e-5, 'second order');
      });
    });
}

for (const backend of ['cpu', 'onednn']) {
  test(`ReLU gradient on ${backend} is the step mask`, { skip: backend === 'onednn' && SKIP_NATIVE }, async () => {
    await initEngine();
    await tf.setBackend(backend);
    const x = randArray(rng(52), [5, 33]);
    const g = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), 3)))(tf.tensor(x.values, x.shape)).dataSync());
    assert.deepEqual(Array.from(g), Array.from(x.values, (v) => (v > 0 ? 3 : 0)));
  });
}
