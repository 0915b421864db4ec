import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDataset } from './index.js';
import { makeImageFolder, tempDir, writeImage, COLOURS } from '../test_images.js';
import { DataError } from '../errors.js';

test('labelled: classes from sorted folder names (unicode and spaces), labels per file, empty class reported', async () => {
  const t = tempDir();
  try {
    await makeImageFolder(t.dir, ['zebra', 'Äpfel und Birnen', 'cat'], [3, 2, 4]);
    mkdirSync(join(t.dir, 'empty one'));
    mkdirSync(join(t.dir, '.hidden'));
    await writeImage(join(t.dir, 'loose.png'), COLOURS[0]);
    const ds = await openDataset(t.dir, { size: 32, channels: 3 });
    assert.equal(ds.kind, 'labelled');
    assert.deepEqual(ds.classes, ['cat', 'zebra', 'Äpfel und Birnen']);
    assert.equal(ds.count, 9);
    assert.deepEqual([...ds.labels!], [0, 0, 0, 0, 1, 1, 1, 2, 2]);
    assert.ok(ds.files[7].includes(join('Äpfel und Birnen', 'Äpfel und Birnen 0.')), ds.files[7]);
    assert.ok(ds.problems.some((p) => p.file === join(t.dir, 'empty one') && /no images/.test(p.reason)), JSON.stringify(ds.problems));
    assert.ok(ds.problems.some((p) => p.file === join(t.dir, 'loose.png') && /ignored/.test(p.reason)));
    rmSync(join(t.dir, 'loose.png'));
    await assert.rejects(openDataset(t.dir, {}, { strict: true }), (e: Error) => e instanceof DataError && /empty one/.test(e.message));
  } finally {
    t.done();
  }
});

test('labelled: zero images is a clear error naming the folder; a missing folder too', async () => {
  const t = tempDir();
  try {
    mkdirSync(join(t.dir, 'a'));
    writeFileSync(join(t.dir, 'a', 'notes.txt'), 'x');
    await assert.rejects(openDataset(t.dir), (e: Error) => e.message.includes(t.dir) && /no images found/.test(e.message));
    await assert.rejects(openDataset(join(t.dir, 'nope')), /folder not found/);
  } finally {
    t.done();
  }
});

test('paired: A/B matched by name without extension, unmatched files reported', async () => {
  const t = tempDir();
  try {
    mkdirSync(join(t.dir, 'A'));
    mkdirSync(join(t.dir, 'B'));
    for (const n of ['one', 'two', 'drei vier']) {
      await writeImage(join(t.dir, 'A', `${n}.png`), COLOURS[0]);
      await writeImage(join(t.dir, 'B', `${n}.jpg`), COLOURS[1], 32, 'jpg');
    }
    await writeImage(join(t.dir, 'A', 'only-a.png'), COLOURS[0]);
    await writeImage(join(t.dir, 'B', 'only-b.png'), COLOURS[1]);
    const ds = await openDataset(t.dir, { size: 32 }, { kind: 'paired' });
    assert.equal(ds.kind, 'paired');
    assert.equal(ds.count, 3);
    assert.equal(ds.b!.count, 3);
    assert.equal(ds.labels, null);
    assert.deepEqual(ds.classes, []);
    for (let i = 0; i < 3; i++) assert.equal(ds.files[i].replace(/.*[/\\]A[/\\]/, '').replace('.png', ''), ds.b!.files[i].replace(/.*[/\\]B[/\\]/, '').replace('.jpg', ''));
    assert.deepEqual(ds.problems.map((p) => p.reason).sort(), ['no partner in A', 'no partner in B']);
  } finally {
    t.done();
  }
});

test('unpaired: two folders are detected, independent lists', async () => {
  const t = tempDir();
  try {
    await makeImageFolder(t.dir, ['horses', 'zebras'], [2, 3]);
    const ds = await openDataset([join(t.dir, 'horses'), join(t.dir, 'zebras')], { size: 32 });
    assert.equal(ds.kind, 'unpaired');
    assert.equal(ds.count, 2);
    assert.equal(ds.b!.count, 3);
    assert.notEqual(ds.defaultCacheDir, ds.b!.defaultCacheDir);
    await assert.rejects(openDataset(t.dir, {}, { kind: 'nope' }), /Unknown dataset kind "nope"/);
  } finally {
    t.done();
  }
});
