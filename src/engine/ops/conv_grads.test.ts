// Second-order gradients through convolutions: the registrations of conv_grads.ts against analytic
// adjoints, and a WGAN-GP-style penalty's weight gradient against central finite differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../index.js';
import { randArray, relErr, rng, SKIP_NATIVE } from '../test_util.js';

const t = (a: { values: Float32Array; shape: number[] }) => tf.tensor(a.values, a.shape);
const dot = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(a, b)).dataSync()[0];

for (const backend of ['cpu', 'onednn']) {
  const skip = backend === 'onednn' && SKIP_NATIVE;

  test(`AvgPoolGrad and Conv2DBackpropFilter are differentiable on ${backend} (adjoint identities)`, { skip }, async () => {
    await initEngine();
    await tf.setBackend(backend);
    const r = rng(3);
    tf.tidy(() => {
      // h(q) = <AvgPoolGrad(q), S> = <q, AvgPool(S)>, so dh/dq = AvgPool(S).
      const x = t(randArray(r, [2, 6, 6, 3])) as tf.Tensor4D, s = t(randArray(r, [2, 6, 6, 3]));
      const q0 = t(randArray(r, [2, 3, 3, 3]));
      const h = (q: tf.Tensor) => tf.sum(tf.mul(tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(xi as tf.Tensor4D, 2, 2, 'valid'), q)))(x), s));
      const dq = tf.grad(h)(q0);
      assert.ok(relErr(dq.dataSync(), tf.avgPool(s as tf.Tensor4D, 2, 2, 'valid').dataSync()) < 1e-5, 'AvgPoolGrad');

      // dW(x, dy) is the filter gradient of conv2d(x, W) for output gradient dy; <dW, R> is bilinear,
      // so its gradients are <dW(x', dy), R> in x and <dW(x, dy'), R> in dy, checked against probes.
      const dy = t(randArray(r, [2, 3, 3, 4])), rr = t(randArray(r, [3, 3, 3, 4]));
      const w0 = t(randArray(r, [3, 3, 3, 4])) as tf.Tensor4D;
      const dW = (xi: tf.Tensor, dyi: tf.Tensor) => tf.grad((w: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(xi as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'), dyi)))(w0);
      const [gx, gdy] = tf.grads((xi: tf.Tensor, dyi: tf.Tensor) => tf.sum(tf.mul(dW(xi, dyi), rr)))([x, dy]);
      const px = t(randArray(r, [2, 6, 6, 3])), pdy = t(randArray(r, [2, 3, 3, 4]));
      assert.ok(Math.abs(dot(gx, px) - dot(dW(px, dy), rr)) < 1e-3 * Math.abs(dot(dW(px, dy), rr)) + 1e-4, 'd/dx');
      assert.ok(Math.abs(dot(gdy, pdy) - dot(dW(x, pdy), rr)) < 1e-3 * Math.abs(dot(dW(x, pdy), rr)) + 1e-4, 'd/ddy');
    });
  });

  test(`gradient penalty: weight gradient of a conv + LeakyReLU + dense critic matches finite differences on ${backend}`,
    { skip }, async () => {
      await initEngine();
      await tf.setBackend(backend);
      const { gradientPenalty } = await import('../../losses/index.js');
      const r = rng(11);
      const real = t(randArray(r, [3, 6, 6, 2])) as tf.Tensor4D, fake = t(randArray(r, [3, 6, 6, 2])) as tf.Tensor4D;
      const w1 = tf.variable(t(randArray(r, [3, 3, 2, 4], 0.5)));
      const b1 = tf.variable(t(randArray(r, [4], 0.1)));
      const w2 = tf.variable(t(randArray(r, [36, 1], 0.5)));
      const critic = (x: tf.Tensor4D) => {
        const h = tf.leakyRelu(tf.add(tf.conv2d(x, w1 as tf.Tensor4D, 2, 'same'), b1), 0.2);
        return tf.matMul(tf.reshape(h, [x.shape[0], -1]), w2);
      };
      const gp = () => gradientPenalty(critic, real, fake, 5, 1);
      const { grads } = tf.variableGrads(gp, [w1, w2]);
      // The interpolates the penalty draws (same seed, same shape), to see which side of LeakyReLU's
      // kink each hidden unit is on.
      const xHat = tf.tidy(() => tf.add(real, tf.mul(tf.randomUniform([3, 1, 1, 1], 0, 1, 'float32', 5), tf.sub(fake, real))));
      const mask = () => tf.tidy(() => tf.greater(tf.add(tf.conv2d(xHat as tf.Tensor4D, w1 as tf.Tensor4D, 2, 'same'), b1), 0).dataSync().join());
      // A random direction per variable: the directional derivative from the analytic gradient
      // against a central difference. The critic is piecewise linear in x, so the penalty is a
      // polynomial in the weights between LeakyReLU kinks: take the largest step that crosses none.
      for (const v of [w1, w2]) {
        const d = tf.tidy(() => { const u = t(randArray(r, v.shape)); return tf.div(u, tf.norm(u)); });
        const orig = v.clone();
        const base = mask();
        const set = (s: number) => v.assign(tf.tidy(() => tf.add(orig, tf.mul(d, s))));
        const value = () => tf.tidy(() => gp().dataSync()[0]);
        let fd = NaN, used = 0;
        for (const eps of [1e-2, 5e-3, 2e-3, 1e-3]) {
          set(eps);
          const [plus, mPlus] = [value(), mask()];
          set(-eps);
          const [minus, mMinus] = [value(), mask()];
          if (mPlus === base && mMinus === base) { fd = (plus - minus) / (2 * eps); used = eps; break; }
        }
        v.assign(orig);
        assert.ok(used > 0, `every step crossed a LeakyReLU kink for ${v.name}`);
        const analytic = dot(grads[v.name], d);
        assert.ok(Math.abs(analytic) > 1e-3, `degenerate direction for ${v.name}`);
        assert.ok(Math.abs(fd - analytic) <= 1e-2 * Math.abs(analytic), `${v.name}: finite difference ${fd} (step ${used}) vs analytic ${analytic}`);
        tf.dispose([d, orig]);
      }
      xHat.dispose();
      tf.dispose([real, fake, w1, b1, w2, ...Object.values(grads)]);
    });
}
