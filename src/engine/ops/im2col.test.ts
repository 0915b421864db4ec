// im2col's contract is the identity conv2d(x, w) = im2col(x) · reshape(w, [k·k·c, cout]) for the
// geometries a discriminator uses; the native copy must equal the JS one bit for bit (it moves
// numbers, it does no arithmetic).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { im2col, initEngine, type PatchGeometry } from '../index.js';
import { randArray, relErr, rng, SKIP_NATIVE } from '../test_util.js';

const CASES: Array<{ shape: [number, number, number, number]; g: PatchGeometry }> = [
  { shape: [2, 7, 5, 3], g: { k: 3, stride: 1, padding: 'same' } },
  { shape: [3, 8, 8, 2], g: { k: 4, stride: 2, padding: 'same' } },
  { shape: [2, 9, 7, 4], g: { k: 5, stride: 2, padding: 'same' } },
  { shape: [1, 6, 9, 3], g: { k: 3, stride: 2, padding: 'valid' } },
  { shape: [2, 4, 4, 5], g: { k: 4, stride: 1, padding: 'valid' } },
];

async function patches(backend: string, values: Float32Array, shape: number[], g: PatchGeometry) {
  await tf.setBackend(backend);
  const x = tf.tensor4d(values, shape as [number, number, number, number]);
  const p = im2col(x, g);
  const out = { shape: p.shape, values: await p.data() as Float32Array };
  tf.dispose([x, p]);
  return out;
}

for (const backend of ['cpu', 'onednn']) {
  const skip = backend === 'onednn' && SKIP_NATIVE;

  test(`im2col times the flattened kernel is conv2d on ${backend}`, { skip }, async () => {
    await initEngine();
    await tf.setBackend(backend);
    const r = rng(11);
    for (const { shape, g } of CASES) {
      const [n, , , c] = shape, cout = 3;
      const x = randArray(r, shape), w = randArray(r, [g.k, g.k, c, cout]);
      const [want, got] = tf.tidy(() => {
        const xt = tf.tensor4d(x.values, shape), wt = tf.tensor4d(w.values, [g.k, g.k, c, cout]);
        const conv = tf.conv2d(xt, wt, g.stride, g.padding);
        const p = im2col(xt, g);
        const prod = tf.matMul(p, tf.tile(tf.reshape(wt, [1, g.k * g.k * c, cout]), [n, 1, 1]));
        return [conv, tf.reshape(prod, conv.shape)];
      });
      assert.deepEqual(got.shape, want.shape, `${JSON.stringify({ shape, g })}`);
      assert.ok(relErr(await got.data(), await want.data()) < 1e-5, `${JSON.stringify({ shape, g })}`);
      tf.dispose([want, got]);
    }
  });
}

test('the native im2col copies exactly what the JS loop copies, zeros in the padding included', { skip: SKIP_NATIVE }, async () => {
  await initEngine();
  const r = rng(5);
  for (const { shape, g } of CASES) {
    const x = randArray(r, shape);
    const cpu = await patches('cpu', x.values, shape, g), native = await patches('onednn', x.values, shape, g);
    assert.deepEqual(native.shape, cpu.shape);
    assert.deepEqual(Array.from(native.values), Array.from(cpu.values), JSON.stringify({ shape, g }));
  }
  // The padding reads as zeros whatever the input holds (the native kernel writes into recycled buffers).
  const big = await patches('onednn', new Float32Array(2 * 6 * 6 * 2).fill(7), [2, 6, 6, 2], { k: 3, stride: 1, padding: 'same' });
  assert.equal(big.values[0], 0, 'top-left patch starts in the padding');
});

test('im2col refuses input it cannot take, with the reason', async () => {
  await initEngine();
  await tf.setBackend('cpu');
  const ints = tf.zeros([1, 4, 4, 1], 'int32') as tf.Tensor4D;
  assert.throws(() => im2col(ints, { k: 3, stride: 1, padding: 'same' }), /float32/);
  const small = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
  assert.throws(() => im2col(small, { k: 3, stride: 1, padding: 'valid' }), /does not fit a 2x2 input/);
  tf.dispose([ints, small]);
});
