import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { batchNormTrain, FusedAdamOptimizer, initEngine } from '../index.js';
import { assertSameAsCpu, randArray, relErr, rng, SKIP_NATIVE } from '../test_util.js';

// The composite reference: moments + batchNorm, differentiated op by op.
function composite(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const m = tf.moments(x, axes);
  return tf.batchNorm(x, m.mean, m.variance, b, g, 1e-3);
}

const lossOf = (bn: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor, w: tf.Tensor) =>
  (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.tanh(bn(x, g, b)), w));

for (const backend of ['cpu', 'onednn']) {
  test(`batchNormTrain on ${backend}: output, statistics and gradients match the composite form`,
    { skip: backend === 'onednn' && SKIP_NATIVE }, async () => {
      await initEngine();
      await tf.setBackend(backend);
      const r = rng(41);
      for (const shape of [[8, 5], [3, 4, 4, 6], [1, 7, 7, 3]]) {
        const x = randArray(r, shape, 2), g = randArray(r, [shape.at(-1)!]), b = randArray(r, [shape.at(-1)!]);
        const w = randArray(r, shape);
        tf.tidy(() => {
          const [xt, gt, bt, wt] = [x, g, b, w].map((s) => tf.tensor(s.values, s.shape));
          const ours = batchNormTrain(xt, gt, bt, 1e-3);
          const m = tf.moments(xt, shape.slice(0, -1).map((_, i) => i));
          assert.ok(relErr(ours.y.dataSync(), composite(xt, gt, bt).dataSync()) < 1e-4, `${shape}: y`);
          assert.ok(relErr(ours.mean.dataSync(), m.mean.dataSync()) < 1e-4, `${shape}: mean`);
          assert.ok(relErr(ours.variance.dataSync(), m.variance.dataSync()) < 1e-4, `${shape}: variance`);
          const want = tf.grads(lossOf(composite, wt))([xt, gt, bt]);
          const got = tf.grads(lossOf((p, q, s) => batchNormTrain(p, q, s, 1e-3).y, wt))([xt, gt, bt]);
          got.forEach((t, i) => assert.ok(relErr(t.dataSync(), want[i].dataSync()) < 1e-4, `${shape}: gradient ${i}`));
        });
      }
    });

  test(`FusedAdamOptimizer on ${backend} follows tf.train.adam step for step`,
    { skip: backend === 'onednn' && SKIP_NATIVE }, async () => {
      await initEngine();
      await tf.setBackend(backend);
      const r = rng(42);
      const init = randArray(r, [5, 3]);
      const target = tf.tensor(randArray(r, [5, 3]).values, [5, 3]);
      const run = (opt: tf.Optimizer) => {
        const v = tf.variable(tf.tensor(init.values, init.shape));
        for (let i = 0; i < 5; i++) opt.minimize(() => tf.sum(tf.square(tf.sub(v, target))) as tf.Scalar);
        const out = v.dataSync().slice();
        v.dispose();
        return out;
      };
      const want = run(tf.train.adam(0.01, 0.5, 0.999));
      const fused = new FusedAdamOptimizer(0.01, 0.5, 0.999);
      const got = run(fused);
      assert.ok(relErr(got, want) < 1e-5, `relative error ${relErr(got, want)}`);
      assert.ok(relErr(got, init.values) > 1e-3, 'the variable did not move');
      const weights = await fused.getWeights();
      assert.equal(weights.length, 3, 'iterations + m + v are saved like tf.train.adam');
    });
}

test('the native batch-norm kernels match the cpu reference loops', { skip: SKIP_NATIVE }, async () => {
  const r = rng(43);
  const x = randArray(r, [6, 5, 5, 16], 3), g = randArray(r, [16]), b = randArray(r, [16]), w = randArray(r, [6, 5, 5, 16]);
  await assertSameAsCpu('bn train', [x, g, b, w], (xt, gt, bt, wt) => {
    const o = batchNormTrain(xt, gt, bt);
    return [o.y, o.mean, o.variance, ...tf.grads(lossOf((p, q, s) => batchNormTrain(p, q, s).y, wt))([xt, gt, bt])];
  });
});
