import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDataset } from './index.js';
import { openCache } from '../cache.js';
import { tempDir } from '../test_images.js';

test('fashion-mnist: 70,000 images (the two empty entries of class 0 skipped), class names', async () => {
  const ds = await openDataset('fashion-mnist', { size: 32, channels: 1 });
  assert.equal(ds.kind, 'builtin');
  assert.equal(ds.count, 70_000);
  assert.equal(ds.classes[0], 'T-shirt/top');
  assert.equal(ds.classes[9], 'Ankle boot');
  assert.equal(ds.labels!.filter((c) => c === 0).length, 7000);
  assert.equal(ds.builtinIndices![6999], 6999);
  assert.equal(ds.problems.length, 0);
});

test('fashion-mnist subset decodes to the spec size and channels', async () => {
  const t = tempDir();
  try {
    process.env.SYNTHSET_CACHE_DIR = t.dir;
    const ds = await openDataset('builtin:fashion-mnist', { size: 32, channels: 3 }, { classes: ['Trouser', 9], limit: 40 });
    assert.equal(ds.count, 80);
    assert.deepEqual([...new Set(ds.labels)], [1, 9]);
    assert.equal(ds.defaultCacheDir, join(t.dir, 'fashion-mnist'));
    const c = await openCache(ds);
    assert.equal(c.dir, join(t.dir, 'fashion-mnist'));
    assert.equal(c.count, 80);
    assert.equal(c.rowBytes, 32 * 32 * 3);
    const px = c.readRows([0]);
    assert.ok(px.some((v) => v > 100), 'a trouser has bright pixels');
    for (let i = 0; i < px.length; i += 3) assert.ok(px[i] === px[i + 1] && px[i] === px[i + 2], 'grey in all channels');
    c.close();
    const again = await openCache(ds);
    assert.equal(again.decoded, 0);
    again.close();
  } finally {
    delete process.env.SYNTHSET_CACHE_DIR;
    t.done();
  }
});

test('mnist: 10,000 digits labelled 0..9; one class decodes at 32 px grey', async () => {
  const all = await openDataset('mnist', { size: 32, channels: 1 });
  assert.equal(all.count, 10_000);
  assert.deepEqual(all.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  const t = tempDir();
  try {
    const ds = await openDataset('mnist', { size: 32, channels: 1 }, { classes: [7], limit: 100 });
    const c = await openCache(ds, { cacheDir: t.dir });
    assert.equal(c.count, 100);
    assert.equal(c.rowBytes, 32 * 32);
    const px = c.readRows([5]);
    assert.ok(Math.max(...px) > 200 && px[0] === 0, 'white digit on black');
    c.close();
  } finally {
    t.done();
  }
});

test('the per-class counts index: written on first open, used on the next, ignored when corrupt or stale', async () => {
  const t = tempDir();
  try {
    process.env.SYNTHSET_CACHE_DIR = t.dir;
    const spec = { size: 32, channels: 1 } as const;
    const opts = { classes: [3, 'Bag'] };
    const first = await openDataset('builtin:fashion-mnist', spec, opts);
    assert.equal(first.count, 14_000);
    const dir = join(t.dir, 'fashion-mnist');
    const [index] = readdirSync(dir).filter((f) => f.startsWith('index-'));
    assert.ok(index, 'an index file is written');
    const file = join(dir, index);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { stamp: string; counts: number[] };
    assert.deepEqual(saved.counts, [7000, 7000]);
    // The index is what the next open reads (so it parses no JSON): a smaller count shows through.
    writeFileSync(file, JSON.stringify({ ...saved, counts: [5, 7] }));
    const fromIndex = await openDataset('builtin:fashion-mnist', spec, opts);
    assert.equal(fromIndex.count, 12);
    assert.equal((await fromIndex.decode(11, fromIndex.spec)).length, 32 * 32);
    for (const bad of ['{"stamp": tru', JSON.stringify({ stamp: `${saved.stamp}x`, counts: [5, 7] }),
      JSON.stringify({ stamp: saved.stamp, counts: [5] }), JSON.stringify({ stamp: saved.stamp, counts: [-1, 2] })]) {
      writeFileSync(file, bad);
      assert.equal((await openDataset('builtin:fashion-mnist', spec, opts)).count, 14_000, bad);
      assert.deepEqual((JSON.parse(readFileSync(file, 'utf8')) as { counts: number[] }).counts, [7000, 7000], 'rewritten');
    }
  } finally {
    delete process.env.SYNTHSET_CACHE_DIR;
    t.done();
  }
});
