import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDataset, type Decoder } from './kinds/index.js';
import { openCache, pairRows } from './cache.js';
import { decodeImage } from './image.js';
import { COLOURS, makeImageFolder, tempDir, writeImage } from './test_images.js';

function counting(): { decoder: Decoder; calls: () => number } {
  let n = 0;
  return { decoder: (f, s) => (n++, decodeImage(f, s)), calls: () => n };
}

test('cache: first open decodes every file, the second decodes nothing; pixels are the class colours', async () => {
  const t = tempDir();
  try {
    await makeImageFolder(t.dir, ['red', 'grün blau'], [5, 4]);
    const c1 = counting();
    const seen: number[] = [];
    const ds = await openDataset(t.dir, { size: 32, channels: 3 }, { decoder: c1.decoder });
    const cache = await openCache(ds, { onProgress: (p) => seen.push(p.done), concurrency: 4 });
    assert.equal(c1.calls(), 9);
    assert.equal(cache.decoded, 9);
    assert.equal(seen.at(-1), 9);
    assert.equal(cache.dir, join(t.dir, '.synthset-cache'));
    assert.deepEqual([...cache.labels!], [...ds.labels!]);
    // Row 0 is a 'grün blau' image (sorted first): colour 1; the last row is 'red': colour 0.
    const px = cache.readRows([0, 8]);
    const near = (a: number, b: number) => Math.abs(a - b) <= 12;
    assert.ok(near(px[500 * 3], COLOURS[0][0]) || near(px[500 * 3 + 1], COLOURS[1][1]));
    assert.ok([0, 1, 2].every((ch) => near(px[3072 + 100 * 3 + ch], COLOURS[0][ch])), 'last row is red');
    cache.close();
    const c2 = counting();
    const again = await openCache(await openDataset(t.dir, { size: 32, channels: 3 }, { decoder: c2.decoder }));
    assert.equal(c2.calls(), 0);
    assert.equal(again.decoded, 0);
    assert.equal(again.key, cache.key);
    assert.deepEqual(again.readRows([0, 8]), px);
    again.close();
    // Another spec is another cache.
    const grey = await openCache(await openDataset(t.dir, { size: 32, channels: 1 }, { decoder: c2.decoder }));
    assert.equal(c2.calls(), 9);
    assert.equal(grey.rowBytes, 1024);
    grey.close();
    assert.ok(!readdirSync(cache.dir).some((f) => /partial|tmp-/.test(f)), 'no temp files left');
  } finally {
    t.done();
  }
});

test('cache: a changed, added or removed file invalidates it', async () => {
  const t = tempDir();
  try {
    await makeImageFolder(t.dir, ['a', 'b'], [3, 3]);
    const dir = join(t.dir, 'cachedir');
    const open = async () => {
      const c = counting();
      const cache = await openCache(await openDataset(t.dir, { size: 32 }, { decoder: c.decoder }), { cacheDir: dir });
      cache.close();
      return { key: cache.key, calls: c.calls(), count: cache.count };
    };
    const first = await open();
    assert.equal((await open()).calls, 0);
    const file = join(t.dir, 'a', 'a 0.png');
    await writeImage(file, COLOURS[3], 50, 'png');
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const changed = await open();
    assert.notEqual(changed.key, first.key);
    assert.equal(changed.calls, 6);
    await writeImage(join(t.dir, 'b', 'new.png'), COLOURS[1]);
    const added = await open();
    assert.equal(added.count, 7);
    rmSync(join(t.dir, 'b', 'new.png'));
    const removed = await open();
    assert.equal(removed.count, 6);
    assert.equal(removed.key, changed.key, 'back to the same files: the earlier cache is reused');
    assert.equal(removed.calls, 0);
  } finally {
    t.done();
  }
});

test('cache: an undecodable file is skipped and still reported when the cache is reused', async () => {
  const t = tempDir();
  try {
    await makeImageFolder(t.dir, ['x'], [3]);
    writeFileSync(join(t.dir, 'x', 'broken.png'), Buffer.from('not a png at all'));
    const ds = await openDataset(t.dir, { size: 32 });
    const cache = await openCache(ds);
    assert.equal(cache.count, 3);
    assert.equal(ds.count, 4);
    assert.ok(ds.problems.some((p) => p.file.endsWith('broken.png')));
    cache.close();
    const ds2 = await openDataset(t.dir, { size: 32 });
    (await openCache(ds2)).close();
    assert.ok(ds2.problems.some((p) => p.file.endsWith('broken.png')));
    await assert.rejects(openCache(await openDataset(t.dir, { size: 64 }), { strict: true }), /broken\.png/);
  } finally {
    t.done();
  }
});

test('cache: an interrupted build is not trusted, and its finished chunks are not decoded again', async () => {
  const t = tempDir();
  try {
    await makeImageFolder(t.dir, ['a', 'b'], [4, 4]);
    const stop = new AbortController();
    const c1 = counting();
    const ds = await openDataset(t.dir, { size: 32 }, { decoder: c1.decoder });
    const run = openCache(ds, { chunkItems: 3, concurrency: 1, signal: stop.signal, onProgress: (p) => p.done === 5 && stop.abort() });
    await assert.rejects(run, /abort/i);
    const dir = join(t.dir, '.synthset-cache');
    const files = readdirSync(dir);
    assert.ok(!files.some((f) => f.endsWith('.bin') || /px-3c-[0-9a-f]+\.json$/.test(f)), `no trusted cache yet: ${files}`);
    const c2 = counting();
    const cache = await openCache(await openDataset(t.dir, { size: 32 }, { decoder: c2.decoder }), { chunkItems: 3 });
    assert.equal(c2.calls(), 2, 'only the last chunk is decoded');
    assert.equal(cache.count, 8);
    const fresh = await openCache(await openDataset(t.dir, { size: 32 }), { cacheDir: join(t.dir, 'other') });
    assert.deepEqual(cache.readRows([0, 1, 2, 3, 4, 5, 6, 7]), fresh.readRows([0, 1, 2, 3, 4, 5, 6, 7]));
    cache.close();
    fresh.close();
  } finally {
    t.done();
  }
});

test('cache: paired domains are cached separately and re-aligned after a skipped file', async () => {
  const t = tempDir();
  try {
    mkdirSync(join(t.dir, 'A'));
    mkdirSync(join(t.dir, 'B'));
    for (const n of ['p1', 'p2', 'p3']) {
      await writeImage(join(t.dir, 'A', `${n}.png`), COLOURS[0]);
      await writeImage(join(t.dir, 'B', `${n}.png`), COLOURS[1]);
    }
    writeFileSync(join(t.dir, 'B', 'p2.png'), 'broken');
    const ds = await openDataset(t.dir, { size: 32 }, { kind: 'paired' });
    const a = await openCache(ds, { domain: 'A' });
    const b = await openCache(ds, { domain: 'B' });
    assert.equal(a.count, 3);
    assert.equal(b.count, 2);
    assert.notEqual(a.key, b.key);
    assert.deepEqual(pairRows(a, b), { a: [0, 2], b: [0, 1] });
    assert.ok(existsSync(a.file) && existsSync(b.file));
    a.close();
    b.close();
  } finally {
    t.done();
  }
});

test('cache: two builds of the same cache at once decode it once; a lock left by a dead process is taken over', async () => {
  const t = tempDir();
  try {
    await makeImageFolder(t.dir, ['a', 'b'], [6, 6]);
    const c = counting();
    const open = async () => openCache(await openDataset(t.dir, { size: 32, channels: 3 }, { decoder: c.decoder }), { chunkItems: 2 });
    const [x, y] = await Promise.all([open(), open()]);
    assert.equal(c.calls(), 12, 'every file decoded once, not twice');
    assert.deepEqual([x.decoded, y.decoded].sort(), [0, 12]);
    assert.deepEqual(x.readRows([0, 11]), y.readRows([0, 11]));
    x.close();
    y.close();
    rmSync(join(t.dir, '.synthset-cache'), { recursive: true, force: true });

    // A build killed while holding the lock: its pid (above Linux's pid_max limit, so never a live
    // process) is still in the lock file. The next build takes the lock over instead of waiting.
    const dir = join(t.dir, '.synthset-cache');
    const built = await open();
    built.close();
    const bin = readdirSync(dir).find((f) => f.endsWith('.bin'))!;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, bin.replace(/\.bin$/, '.lock')), String(2 ** 22 + 1));
    const after = await open();
    assert.equal(after.decoded, 12);
    after.close();
    assert.ok(!readdirSync(dir).some((f) => f.endsWith('.lock')), 'the lock is released after the build');
  } finally {
    t.done();
  }
});
