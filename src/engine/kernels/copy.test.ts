// The block-copy kernels (Slice, SplitV, Reverse, PadV2) give cpu's results exactly, over ranks,
// partial and whole axes, empty slices, recycled buffers; and they handle the calls themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../index.js';
import type { OneDnnBackend } from '../backend.js';
import { ReflectionPad2D } from '../../layers/index.js';
import { assertSameAsCpu, randArray, rng, SKIP_NATIVE } from '../test_util.js';
import { copyOverrides } from './copy.js';

const r = rng(7);

test('slice, split, reverse and pad equal cpu exactly', { skip: SKIP_NATIVE }, async () => {
  const x4 = randArray(r, [3, 5, 6, 4]);
  const slices: [number[], number[]][] = [
    [[0, 0, 0, 0], [-1, -1, -1, -1]], [[1, 0, 0, 0], [2, -1, -1, -1]], [[0, 1, 0, 0], [-1, 3, -1, -1]],
    [[0, 0, 4, 0], [-1, -1, 2, -1]], [[0, 0, 0, 1], [-1, -1, -1, 2]], [[2, 4, 5, 3], [1, 1, 1, 1]], [[1, 2, 3, 0], [1, 0, 2, 4]],
  ];
  for (const [b, s] of slices) await assertSameAsCpu(`slice ${b} ${s}`, [x4], (t) => tf.slice(t, b, s), 0);
  const x1 = randArray(r, [17]), x5 = randArray(r, [2, 3, 2, 3, 2]);
  await assertSameAsCpu('slice rank 1', [x1], (t) => tf.slice(t, [3], [9]), 0);
  await assertSameAsCpu('slice rank 5', [x5], (t) => tf.slice(t, [1, 1, 0, 2, 1], [1, 2, 2, 1, 1]), 0);
  for (const axis of [0, 1, 2, 3]) {
    await assertSameAsCpu(`split axis ${axis}`, [x4], (t) => tf.split(t, [1, t.shape[axis]! - 1], axis), 0);
  }
  await assertSameAsCpu('split in 3 equal parts', [x4], (t) => tf.split(t, 3, 0), 0);
  for (const dims of [[0], [1], [2], [3], [1, 2], [0, 3], [0, 1, 2, 3]]) {
    await assertSameAsCpu(`reverse ${dims}`, [x4], (t) => tf.reverse(t, dims), 0);
  }
  await assertSameAsCpu('reverse rank 1', [x1], (t) => tf.reverse(t), 0);
  // A pad after a dispose gets a recycled buffer: its border must still be the constant.
  await assertSameAsCpu('pad', [x4], (t) => {
    tf.dispose(tf.mul(t, 2));
    return [tf.pad(t, [[0, 0], [1, 2], [3, 0], [0, 1]]), tf.pad(t, [[1, 1], [0, 0], [0, 0], [0, 0]], -0.5)];
  }, 0);
});

test('reflection padding and its gradient equal cpu exactly through the copy kernels', { skip: SKIP_NATIVE }, async () => {
  const x = randArray(r, [2, 7, 6, 3]), dy = randArray(r, [2, 13, 12, 3]);
  const layer = new ReflectionPad2D({ padding: 3 });
  await assertSameAsCpu('reflection pad', [x], (t) => layer.apply(t) as tf.Tensor, 0);
  await assertSameAsCpu('reflection pad gradient', [x, dy], (t, g) => tf.grad((u: tf.Tensor) => tf.sum(tf.mul(layer.apply(u) as tf.Tensor, g)))(t), 1e-6);
});

test('the copy kernels handle float32 calls themselves (no cpu fallback)', { skip: SKIP_NATIVE }, async () => {
  await initEngine();
  await tf.setBackend('onednn');
  const backend = tf.backend() as OneDnnBackend;
  const x = tf.tensor4d(randArray(r, [2, 4, 4, 3]).values, [2, 4, 4, 3]);
  const attrs: Record<string, Record<string, unknown>> = {
    Slice: { begin: [0, 1, 0, 0], size: [-1, 2, -1, -1] }, SplitV: { numOrSizeSplits: [1, 3], axis: 2 },
    Reverse: { dims: [1] }, PadV2: { paddings: [[0, 0], [1, 1], [1, 1], [0, 0]], constantValue: 0 },
  };
  for (const o of copyOverrides) {
    const out = o.native({ inputs: { x }, attrs: attrs[o.kernelName] as never, backend, addon: null as never });
    assert.ok(out, `${o.kernelName} fell back to cpu`);
    for (const t of Array.isArray(out) ? out : [out]) backend.disposeData(t.dataId);
  }
  assert.equal(copyOverrides[0].native({ inputs: { x: tf.tensor1d([1, 2], 'int32') }, attrs: attrs.Slice as never, backend, addon: null as never }), null, 'int32 goes to cpu');
  x.dispose();
});
