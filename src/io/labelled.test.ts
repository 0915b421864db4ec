// The labelled pipeline: label-map run -> pix2pix run -> images/, masks/ and annotations.json.
// Deterministic in (seed, index) across runs, shards merged by copying give the same bytes, and the
// COCO annotations decode back to the masks as written.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { tempDir } from '../data/test_images.js';
import { readLabelMap } from '../data/label_map.js';
import { initEngine } from '../engine/index.js';
import { makeLabelMapSet } from '../models/labelmap_test_data.js';
import { train } from '../train/loop.js';
import { resolveConfig } from '../run/config.js';
import type { CocoJson } from './coco/index.js';
import { iou, segmentationMask } from './coco/test_raster.js';
import { generateLabelled } from './labelled.js';
import { paletteTable } from '../util/palette.js';

await initEngine();
const t = tempDir('synthset-labelled-');
const data = join(t.dir, 'maps'), maps = join(t.dir, 'run-maps'), p2p = join(t.dir, 'run-p2p');
const sets = ['batchSize=4', 'zDim=8', 'sampleEvery=1000', 'checkpointEvery=1000'];
before(async () => {
  await makeLabelMapSet(data, 16, 2, 32);
  await train(resolveConfig({ flags: { family: 'labelmap', size: 32, steps: 3, out: maps, seed: 1, data }, sets: [...sets, 'width=4'] }));
  await train(resolveConfig({ flags: { family: 'pix2pix', size: 32, steps: 3, out: p2p, seed: 1, data }, sets: [...sets, 'ngf=4', 'ndf=4'] }));
});
after(() => t.done());

const files = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
  .map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
const bytesOf = (dir: string) => Object.fromEntries(files(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));
const run = (out: string, extra: Partial<Parameters<typeof generateLabelled>[0]> = {}) =>
  generateLabelled({ labelmaps: maps, translate: p2p, count: 10, seed: 3, out, batchSize: 4, ...extra });

test('labelled pipeline: images/, masks/ and annotations.json; same bytes on a re-run and from another folder', async () => {
  const a = join(t.dir, 'a'), b = join(t.dir, 'b');
  const r = await run(a);
  assert.equal(r.written, 10);
  assert.deepEqual(files(join(a, 'images')), Array.from({ length: 10 }, (_, i) => `00000${i}.png`));
  assert.deepEqual(files(join(a, 'masks')), files(join(a, 'images')));
  const img = await sharp(join(a, 'images', '000000.png')).metadata();
  assert.deepEqual([img.width, img.height, img.channels], [32, 32, 3]);
  const again = await run(a);
  assert.deepEqual([again.written, again.kept], [0, 10]);
  await run(b);
  assert.deepEqual(bytesOf(b), bytesOf(a));
  const coco = JSON.parse(readFileSync(join(a, 'annotations.json'), 'utf8')) as CocoJson;
  assert.deepEqual(coco.images.map((i) => i.file_name), files(join(a, 'images')));
  assert.deepEqual(coco.categories.map((c) => [c.id, c.name]), [[1, 'wall'], [2, 'window'], [3, 'door']]);
  await assert.rejects(run(a, { seed: 4 }), /another seed \(3, not 4; generate\.json\)/);
  await assert.rejects(run(join(t.dir, 'x'), { labelmaps: p2p }), /--labelmaps .* does not draw label maps; give a run of the labelmap family/);
  await assert.rejects(run(join(t.dir, 'y'), { translate: maps }), /--translate .*samples from noise/);
});

test('labelled pipeline: three shards merged by copying equal one run, and a run over the merge writes only annotations.json', async () => {
  const whole = join(t.dir, 'whole'), merged = join(t.dir, 'merged');
  await run(whole);
  for (let i = 0; i < 3; i++) {
    const dir = join(t.dir, `shard${i}`);
    const r = await run(dir, { shard: { index: i, count: 3 } });
    assert.ok(r.annotations!.endsWith(`annotations.shard-000${i}-of-0003.json`));
    for (const sub of ['images', 'masks']) cpSync(join(dir, sub), join(merged, sub), { recursive: true });
    cpSync(join(dir, 'generate.json'), join(merged, 'generate.json'));
  }
  const r = await run(merged);
  assert.deepEqual([r.written, r.kept], [0, 10]);
  assert.deepEqual(bytesOf(merged), bytesOf(whole));
});

test('labelled pipeline: masks hold known classes and the annotations decode back to them', async () => {
  const a = join(t.dir, 'a');
  const coco = JSON.parse(readFileSync(join(a, 'annotations.json'), 'utf8')) as CocoJson;
  const ids = new Set(coco.annotations.map((x) => x.id));
  assert.equal(ids.size, coco.annotations.length, 'annotation ids are unique');
  const cats = new Set(coco.categories.map((c) => c.id));
  let seen = 0;
  for (const im of coco.images) {
    const mask = await readLabelMap(join(a, 'masks', im.file_name));
    assert.ok([...new Set(mask.data)].every((v) => v >= 0 && v <= 3), `${im.file_name}: values ${[...new Set(mask.data)]}`);
    const anns = coco.annotations.filter((x) => x.image_id === im.id);
    for (const c of [1, 2, 3]) {
      const want = Uint8Array.from(mask.data, (v) => (v === c ? 1 : 0));
      const got = new Uint8Array(want.length);
      for (const x of anns.filter((y) => y.category_id === c)) {
        assert.ok(cats.has(x.category_id));
        const [bx, by, bw, bh] = x.bbox;
        assert.ok(bx >= 0 && by >= 0 && bx + bw <= im.width && by + bh <= im.height, 'bbox inside the image');
        segmentationMask(x.segmentation, im.height, im.width).forEach((v, i) => { got[i] |= v; });
      }
      if (want.some(Boolean)) seen++;
      assert.ok(iou(got, want) >= 0.95, `${im.file_name} class ${c}: IoU ${iou(got, want).toFixed(3)}`);
    }
  }
  assert.ok(seen > 0, 'the generated masks hold some non-background class');
});

test('labelled pipeline: preview.png shows each of the first maps in palette colours beside its photo', async () => {
  const a = join(t.dir, 'a');
  const { data, info } = await sharp(join(a, 'preview.png')).raw().toBuffer({ resolveWithObject: true });
  // 10 pairs, 4 a row: 3 rows; a pair is map | photo (32 + 32 px) with 4 px between pairs, 2 between rows.
  assert.deepEqual([info.width, info.height], [4 * 68 - 4, 3 * 34 - 2]);
  const table = paletteTable(4);
  for (const [j, f] of ['000000.png', '000005.png'].entries()) {
    const k = j === 0 ? 0 : 5, left = (k % 4) * 68, top = Math.floor(k / 4) * 34;
    const mask = await readLabelMap(join(a, 'masks', f));
    const photo = await sharp(join(a, 'images', f)).raw().toBuffer();
    for (const [x, y] of [[0, 0], [10, 20], [31, 31], [16, 5]]) {
      const at = ((top + y) * info.width + left + x) * 3, v = mask.data[y * 32 + x];
      assert.deepEqual([...data.subarray(at, at + 3)], [...table.subarray(v * 3, v * 3 + 3)], `${f} map at ${x},${y}`);
      const p = at + 32 * 3;
      assert.deepEqual([...data.subarray(p, p + 3)], [...photo.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3)], `${f} photo at ${x},${y}`);
    }
  }
});
