import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadSplit, splitIndices } from './split.js';
import { openDataset } from './kinds/index.js';
import { openCache } from './cache.js';
import { makeImageFolder, tempDir } from './test_images.js';

const labelsOf = (counts: number[]) => counts.flatMap((n, c) => Array<number>(n).fill(c));

test('split: stratified, disjoint, complete, and the same for the same seed', () => {
  const labels = labelsOf([100, 50, 20, 7, 2, 1]);
  const s = splitIndices(labels, labels.length, { holdout: 0.1, seed: 3 });
  assert.deepEqual(splitIndices(labels, labels.length, { holdout: 0.1, seed: 3 }), s);
  assert.notDeepEqual(splitIndices(labels, labels.length, { holdout: 0.1, seed: 4 }).holdout, s.holdout);
  const held = new Set(s.holdout);
  assert.ok(s.train.every((i) => !held.has(i)), 'disjoint');
  assert.deepEqual([...s.train, ...s.holdout].sort((a, b) => a - b), labels.map((_, i) => i));
  const per = (xs: number[], c: number) => xs.filter((i) => labels[i] === c).length;
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((c) => per(s.holdout, c)), [10, 5, 2, 1, 0, 0]);
  for (const c of [0, 1, 2, 3, 4, 5]) assert.ok(per(s.train, c) >= 1, `class ${c} has a training image`);
  assert.deepEqual(s.train, [...s.train].sort((a, b) => a - b));
});

test('split: unlabelled data, default 90/10, bad fraction', () => {
  const s = splitIndices(null, 200);
  assert.equal(s.holdout.length, 20);
  assert.equal(s.train.length, 180);
  assert.throws(() => splitIndices(null, 10, { holdout: 1 }), /outside/);
  // Another class growing does not move this class's holdout.
  const a = splitIndices(labelsOf([30, 10]), 40, { seed: 1 }).holdout.filter((i) => i < 30);
  const b = splitIndices(labelsOf([30, 25]), 55, { seed: 1 }).holdout.filter((i) => i < 30);
  assert.deepEqual(a, b);
});

test('split: saved beside the cache and read back on the next run', async () => {
  const t = tempDir();
  try {
    await makeImageFolder(t.dir, ['a', 'b'], [10, 6]);
    const cache = await openCache(await openDataset(t.dir, { size: 32 }));
    const first = loadSplit(cache, { seed: 7 });
    assert.ok(first.created);
    assert.match(first.file, /split-[0-9a-f]+\.json$/);
    assert.ok(first.file.startsWith(cache.dir));
    const saved = JSON.parse(readFileSync(first.file, 'utf8'));
    assert.deepEqual(saved.holdout, first.holdout);
    const again = loadSplit(cache, { seed: 7 });
    assert.equal(again.created, false);
    assert.deepEqual(again.holdout, first.holdout);
    assert.deepEqual(first.holdout.map((i) => cache.labels![i]).sort(), [0, 1]);
    cache.close();
  } finally {
    t.done();
  }
});
