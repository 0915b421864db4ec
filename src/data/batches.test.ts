import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { imagesFromBytes, initEngine } from '../engine/index.js';
import { batches, epochOrder } from './batches.js';
import { openCache, type ImageCache } from './cache.js';
import { openDataset } from './kinds/index.js';
import { makeImageFolder, tempDir } from './test_images.js';

let cache: ImageCache;
const t = tempDir();

before(async () => {
  await initEngine();
  await makeImageFolder(t.dir, ['a', 'b', 'c'], [7, 6, 5]);
  cache = await openCache(await openDataset(t.dir, { size: 32, channels: 3 }));
});

test.after(() => {
  cache.close();
  t.done();
});

const collect = async (opts: Parameters<typeof batches>[1]) => {
  const rows: number[][] = [];
  for await (const b of batches(cache, opts)) {
    rows.push(b.rows);
    b.dispose();
  }
  return rows;
};

test('batches: deterministic for (seed, epoch), every row once, epochs differ', async () => {
  const a = await collect({ batchSize: 4, seed: 1, epoch: 0 });
  assert.deepEqual(await collect({ batchSize: 4, seed: 1, epoch: 0 }), a);
  assert.deepEqual(a.map((r) => r.length), [4, 4, 4, 4, 2]);
  assert.deepEqual(a.flat().sort((x, y) => x - y), Array.from({ length: 18 }, (_, i) => i));
  assert.notDeepEqual((await collect({ batchSize: 4, seed: 1, epoch: 1 })).flat(), a.flat());
  assert.deepEqual((await collect({ batchSize: 4, dropLast: true, prefetch: false })).length, 4);
  assert.deepEqual(await collect({ batchSize: 4, seed: 1, epoch: 0, prefetch: true }), a, 'read-ahead changes nothing but timing');
  assert.deepEqual((await collect({ batchSize: 5, shuffle: false, rows: [3, 1, 2] })).flat(), [3, 1, 2]);
  assert.deepEqual(epochOrder([1, 2, 3, 4, 5], 9, 2), epochOrder([1, 2, 3, 4, 5], 9, 2));
});

test('batches: shapes, values in [-1, 1] matching the cache bytes, labels and one-hot', async () => {
  for await (const b of batches(cache, { batchSize: 8, seed: 2, oneHot: false })) {
    assert.deepEqual(b.images.shape, [8, 32, 32, 3]);
    assert.equal(b.images.dtype, 'float32');
    const v = b.images.dataSync();
    assert.ok(v.every((x) => x >= -1 && x <= 1));
    const bytes = cache.readRows(b.rows);
    assert.ok(Math.abs(v[1234] - (bytes[1234] / 127.5 - 1)) < 1e-6);
    assert.equal(b.labels!.dtype, 'int32');
    assert.deepEqual([...b.labels!.dataSync()], b.rows.map((r) => cache.labels![r]));
    b.dispose();
    break;
  }
  for await (const b of batches(cache, { batchSize: 5, oneHot: true })) {
    assert.deepEqual(b.labels!.shape, [b.rows.length, 3]);
    const hot = b.labels!.arraySync() as number[][];
    hot.forEach((row, i) => assert.equal(row.indexOf(1), cache.labels![b.rows[i]]));
    b.dispose();
  }
  assert.deepEqual([...imagesFromBytes(Uint8Array.of(0, 255, 51, 204), [1, 2, 2, 1]).dataSync()].map((v) => +v.toFixed(5)), [-1, 1, -0.6, 0.6]);
});

test('batches: no tensor leak over epochs, also when the loop stops early', async () => {
  await collect({ batchSize: 4 });
  const before = tf.memory().numTensors;
  for (let e = 0; e < 3; e++) await collect({ batchSize: 4, epoch: e, oneHot: e === 1 });
  for await (const b of batches(cache, { batchSize: 3 })) {
    b.dispose();
    break;
  }
  assert.equal(tf.memory().numTensors, before);
});
