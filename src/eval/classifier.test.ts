import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../engine/index.js';
import { augmentBytes, embed, predict, score, trainClassifier } from './classifier.js';
import { memorySet, subset } from '../data/image_set.js';
import { shapesSet } from './test_sets.js';

// At top level, so the learning test can decide whether to skip from the active backend.
const engine = await initEngine();
const slow = engine.backend === 'cpu' ? 'pure-JS cpu backend is ~1000x slower than onednn' : false;

const FAST = { epochs: 8, width: 16, batchSize: 32 };

test('the fixed classifier learns procedural shapes far above chance and scores held-out images', { skip: slow }, () => {
  const train = shapesSet(320, { seed: 1 });
  const test = shapesSet(160, { seed: 2 });
  const before = tf.memory().numTensors;
  const c = trainClassifier(train, { ...FAST, seed: 3 });
  const s = score(c, test);
  assert.ok(s.accuracy > 0.65, `accuracy ${s.accuracy} (chance 0.25)`);
  assert.equal(s.confusion.flat().reduce((a, b) => a + b, 0), 160);
  assert.deepEqual(s.confusion.map((row) => row.reduce((a, b) => a + b, 0)), [40, 40, 40, 40]);
  const f = embed(c, test);
  assert.equal(f.data.length, 160 * f.dims);
  assert.ok(f.data.every(Number.isFinite));
  c.dispose();
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
});

test('training is seeded: same seed, same predictions; another seed, other weights', () => {
  const train = shapesSet(64, { seed: 4 });
  const run = (seed: number) => {
    const c = trainClassifier(train, { epochs: 1, width: 4, batchSize: 16, seed });
    const p = predict(c, train);
    c.dispose();
    return p;
  };
  const a = run(5), b = run(5), other = run(6);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, other);
});

test('bad inputs are refused with the reason', () => {
  const set = shapesSet(16);
  assert.throws(() => trainClassifier({ ...set, labels: null }, FAST), /needs labelled images/);
  assert.throws(() => trainClassifier(subset(set, [0, 4, 8]), FAST), /at least 2 classes/);
  assert.throws(() => trainClassifier(set, { epochs: 0 }), /epochs must be a positive integer/);
  assert.throws(() => memorySet({ name: 'x', size: 4, channels: 1, classes: ['a'], labels: null, bytes: new Uint8Array(15) }), /not a whole number of 4x4x1 images/);
  const c = trainClassifier(set, { epochs: 1, width: 4 });
  assert.throws(() => predict(c, shapesSet(4, { size: 32 })), /32x32x1 images, but the classifier was trained on 16x16x1/);
  assert.throws(() => score(c, { ...set, classes: ['p', 'q', 'r', 's'] }), /both sets need the same class folders/);
  c.dispose();
});

test('augmentation flips and shifts each image exactly like reverse + zero-pad + crop', () => {
  const size = 5, ch = 2, rowBytes = size * size * ch;
  const src = Uint8Array.from({ length: rowBytes }, (_, i) => 1 + ((i * 37) % 250));
  const x = tf.tensor4d(src, [1, size, size, ch], 'int32');
  for (const flip of [false, true]) {
    for (let dy = -2; dy <= 2; dy++) {
      for (let dx = -2; dx <= 2; dx++) {
        // One image per case: draws are (flip?, dy, dx), each shift drawn from the middle of its fifth.
        const draws = [flip ? 0.25 : 0.75, (dy + 2.5) / 5, (dx + 2.5) / 5];
        const got = augmentBytes(src, 1, size, ch, () => draws.shift()!);
        const want = tf.tidy(() => tf.slice(tf.pad(flip ? tf.reverse(x, 2) : x, [[0, 0], [2, 2], [2, 2], [0, 0]]), [0, 2 + dy, 2 + dx, 0], [1, size, size, ch]).dataSync());
        assert.deepEqual(Array.from(got), Array.from(want), `flip ${flip} dy ${dy} dx ${dx}`);
      }
    }
  }
  x.dispose();
  // Each image of a batch draws its own flip and shift.
  const batch = new Uint8Array(2 * rowBytes);
  batch.set(src, 0); batch.set(src, rowBytes);
  const draws = [0.75, 0.5, 0.5, 0.25, 0.5, 0.5];
  const out = augmentBytes(batch, 2, size, ch, () => draws.shift()!);
  assert.deepEqual(out.subarray(0, rowBytes), src);
  assert.notDeepEqual(out.subarray(rowBytes), src);
});
