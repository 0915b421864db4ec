import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { openDataset } from './index.js';
import { openCache } from '../cache.js';
import { tempDir, writeImage, COLOURS } from '../test_images.js';
import { DataError } from '../errors.js';

/** A 40x20 grey index PNG: value `left` for x < 20, `right` otherwise, one `dot` pixel at (25, 5). */
async function writeMap(file: string, left: number, right: number, dot = right): Promise<void> {
  const w = 40, h = 20, px = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px[y * w + x] = x < 20 ? left : right;
  px[5 * w + 25] = dot;
  await sharp(Buffer.from(px), { raw: { width: w, height: h, channels: 1 } }).png().toFile(file);
}

async function makeSet(root: string, maps: [number, number, number?][]): Promise<void> {
  mkdirSync(join(root, 'label'), { recursive: true });
  mkdirSync(join(root, 'photo'), { recursive: true });
  writeFileSync(join(root, 'label_names.txt'), '1 background 1\n2 facade 2\n3 window 10\n');
  for (const [i, [l, r, d]] of maps.entries()) {
    await writeMap(join(root, 'label', `m${i}.png`), l, r, d);
    await writeImage(join(root, 'photo', `m${i}.jpg`), COLOURS[i % COLOURS.length], 40, 'jpg');
  }
}

test('labelmap: detected from label/ + label_names.txt; maps cached as one channel of indices, centre-cropped nearest-neighbour', async () => {
  const t = tempDir();
  try {
    await makeSet(t.dir, [[1, 2], [3, 1], [2, 3, 1]]);
    const ds = await openDataset(t.dir, { size: 32, channels: 3 });
    assert.equal(ds.kind, 'labelmap');
    assert.equal(ds.count, 3);
    assert.equal(ds.labelMap!.width, 4);
    assert.deepEqual(ds.classes, ['', 'background', 'facade', 'window']);
    const maps = await openCache(ds, { strict: true });
    assert.equal(maps.channels, 1);
    assert.equal(maps.rowBytes, 32 * 32);
    const photos = await openCache(ds, { domain: 'B', strict: true });
    assert.equal(photos.channels, 3);
    const px = maps.readRows([0, 1, 2]);
    // The centre 20x20 window (x 10..29) scaled to 32: columns 0..15 left of x = 20, 16..31 right.
    const expect = (i: number, l: number, r: number, d: number) => {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          // Source pixel (25, 5) lands on output x in [24, 25], y in [8, 9].
          const want = x >= 24 && x <= 25 && y >= 8 && y <= 9 ? d : x < 16 ? l : r;
          assert.equal(px[i * 1024 + y * 32 + x], want, `map ${i} at (${x}, ${y})`);
        }
      }
    };
    expect(0, 1, 2, 2);
    expect(1, 3, 1, 1);
    expect(2, 2, 3, 1);
    maps.close();
    photos.close();
  } finally {
    t.done();
  }
});

test('labelmap: a value that is no class is an error naming the file and the values; skipped (and reported) when not strict', async () => {
  const t = tempDir();
  try {
    await makeSet(t.dir, [[1, 2], [1, 7, 9], [2, 3]]);
    const ds = await openDataset(t.dir, { size: 32 });
    await assert.rejects(ds.decode(1, ds.spec), (e: Error) => e instanceof DataError && e.message.includes(join('label', 'm1.png'))
      && /label values 7, 9 are not classes of .*label_names\.txt \(it has 1, 2, 3\)/.test(e.message));
    await assert.rejects(openCache(ds, { strict: true, cacheDir: join(t.dir, 'c1') }), /m1\.png: label values 7, 9/);
    const ds2 = await openDataset(t.dir, { size: 32 });
    const c = await openCache(ds2, { cacheDir: join(t.dir, 'c2') });
    assert.equal(c.count, 2);
    assert.ok(ds2.problems.some((p) => p.file.endsWith('m1.png') && /7, 9/.test(p.reason)), JSON.stringify(ds2.problems));
    c.close();
    await assert.rejects(openDataset(t.dir, { size: 32, fit: 'pad' }), /cropped, not padded/);
  } finally {
    t.done();
  }
});

test('labelmap: colour maps through palette.txt: exact for PNG (a stray colour named), nearest colour for JPEG with a tolerance', async () => {
  const t = tempDir();
  try {
    mkdirSync(join(t.dir, 'A'));
    mkdirSync(join(t.dir, 'B'));
    writeFileSync(join(t.dir, 'palette.txt'), '0 sky #0000ff\n1 wall 255 0 0\n');
    const w = 32, rgb = new Uint8Array(w * w * 3);
    for (let i = 0; i < w * w; i++) rgb.set((i % w) < 16 ? [0, 0, 255] : [255, 0, 0], i * 3);
    await sharp(Buffer.from(rgb), { raw: { width: w, height: w, channels: 3 } }).jpeg({ quality: 90 }).toFile(join(t.dir, 'A', 'x.jpg'));
    await writeImage(join(t.dir, 'B', 'x.jpg'), COLOURS[0], 32, 'jpg');
    rgb.set([0, 255, 0], 40 * 3);
    await sharp(Buffer.from(rgb), { raw: { width: w, height: w, channels: 3 } }).png().toFile(join(t.dir, 'A', 'y.png'));
    await writeImage(join(t.dir, 'B', 'y.jpg'), COLOURS[1], 32, 'jpg');
    const exact = await openDataset(t.dir, { size: 32 }, { kind: 'labelmap' });
    await assert.rejects(exact.decode(1, exact.spec), /y\.png: colours #00ff00 are not in the palette \(within 0 per channel\)/);
    // JPEG blends colours along the class edge: only "nearest palette colour" reads it.
    const ds = await openDataset(t.dir, { size: 32 }, { kind: 'labelmap', tolerance: 255 });
    assert.equal(ds.labelMap!.width, 2);
    const px = await ds.decode(0, ds.spec);
    assert.deepEqual([...new Set(px)].sort(), [0, 1]);
    assert.equal(px[5 * 32 + 3], 0);
    assert.equal(px[5 * 32 + 28], 1);
  } finally {
    t.done();
  }
});
