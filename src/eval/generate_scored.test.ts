import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { tempDir } from '../data/test_images.js';
import { memorySet } from '../data/image_set.js';
import { initEngine } from '../engine/index.js';
import { train } from '../train/loop.js';
import { tinyConfig, tinyData } from '../train/test_helpers.js';
import { exportBundle } from '../io/bundle.js';
import { loadBundle, type Bundle } from '../io/generate.js';
import { generate } from './generate_scored.js';
import { openReal } from './sources.js';
import { meanSsimToReal } from './ssim.js';

const tmp = tempDir('synthset-generate-score-');
let data: { dir: string; done: () => void };
let bundle: Bundle;

before(async () => {
  await initEngine();
  data = await tinyData();
  const run = join(tmp.dir, 'run');
  await train(tinyConfig(data.dir, run, { family: 'cgan', steps: 2, ema: null }));
  bundle = await loadBundle((await exportBundle(run, join(tmp.dir, 'bundle'))).dir);
  tf.tidy(() => bundle.generator.model.setWeights(bundle.generator.model.getWeights().map((w) => tf.mul(w, 6))));
});
after(() => {
  bundle.dispose();
  data.done();
  tmp.done();
});

const rowsOf = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string | number>);

test('--score: each manifest row carries its image\'s mean SSIM to real images of its class, and shards agree with the full run', async () => {
  const full = join(tmp.dir, 'full');
  const r = await generate({ bundle, perClass: 4, seed: 1, out: full, batchSize: 3, scoreAgainst: data.dir });
  const rows = rowsOf(join(full, 'manifest.jsonl'));
  assert.equal(rows.length, 8);
  assert.match(readFileSync(r.manifests[0], 'utf8').split('\n')[0], /^file,class,class_id,seed,index,ssim$/);
  // The same score computed here from the files on disk and the real folder.
  const real = await openReal(data.dir, { size: 32, channels: 3 }, 'real');
  try {
    const bytes = new Uint8Array(8 * 32 * 32 * 3);
    for (const [j, row] of rows.entries()) bytes.set(await sharp(join(full, String(row.file))).raw().toBuffer(), j * 3072);
    const set = memorySet({ name: 'x', size: 32, channels: 3, classes: ['a', 'b'], labels: Int32Array.from(rows, (x) => Number(x.classId)), bytes });
    const want = meanSsimToReal(set, real.value, { seed: 0 });
    rows.forEach((row, j) => assert.ok(Math.abs(Number(row.ssim) - want[j]) < 1e-6, `${row.file}: ${row.ssim} vs ${want[j]}`));
    assert.ok(new Set(rows.map((x) => x.ssim)).size > 1, 'images score differently');
  } finally {
    real.close();
  }
  const shards = [];
  for (let s = 0; s < 2; s++) {
    const rs = await generate({ bundle, perClass: 4, seed: 1, out: join(tmp.dir, `shard${s}`), shard: { index: s, count: 2 }, batchSize: 3, scoreAgainst: data.dir });
    shards.push(...rowsOf(rs.manifests[1]));
  }
  assert.equal(shards.length, 8);
  shards.forEach((row, j) => {
    assert.equal(row.file, rows[j].file);
    assert.ok(Math.abs(Number(row.ssim) - Number(rows[j].ssim)) < 1e-5, `${row.file}: shard ${row.ssim} vs full ${rows[j].ssim}`);
  });
});

test('--score refuses a real folder of other classes, and a stray file of another shape, with what to do', async () => {
  const other = tempDir('synthset-generate-score-other-');
  try {
    const { makeImageFolder } = await import('../data/test_images.js');
    await makeImageFolder(other.dir, ['x', 'y'], [2, 2]);
    await assert.rejects(generate({ bundle, perClass: 1, seed: 0, out: join(tmp.dir, 'bad'), scoreAgainst: other.dir }), /class "a", which .* does not have .*same classes/);
  } finally {
    other.done();
  }
  const out = join(tmp.dir, 'stray');
  const r = await generate({ bundle, perClass: 1, seed: 0, out });
  const file = join(out, rowsOf(r.manifests[1])[0].file as string);
  writeFileSync(file, await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).png().toBuffer());
  await assert.rejects(generate({ bundle, perClass: 1, seed: 0, out, scoreAgainst: data.dir }), /8x8x3, not the bundle's 32x32x3: .*delete it/);
});
