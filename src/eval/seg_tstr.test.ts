import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../data/test_images.js';
import { initEngine } from '../engine/index.js';
import { makeLabelMapSet } from '../models/labelmap_test_data.js';
import { train } from '../train/loop.js';
import { resolveConfig } from '../run/config.js';
import { evaluate } from './index.js';
import { iouScores, runSegTstr, segScores, trainSegmenter, type SegSet } from './seg_tstr.js';
import { openLabelledFolder, runSegSplits } from './sources.js';
import { subset } from '../data/image_set.js';

const tmp = tempDir('synthset-seg-tstr-');
const data = join(tmp.dir, 'facades');
const run = join(tmp.dir, 'p2p');
const SETS = ['batchSize=2', 'zDim=8', 'sampleEvery=1000', 'checkpointEvery=1000'];

const engine = await initEngine();
// Each trains a segmenter for up to a hundred steps; on the pure-JS backend that was over half an hour in CI.
const slow = engine.backend === 'cpu' ? 'pure-JS cpu backend is ~1000x slower than onednn' : false;

before(async () => {
  await makeLabelMapSet(data, 60, 3, 32);
  // Two steps are enough: the metric reads the run's split, not its weights.
  await train(resolveConfig({ flags: { family: 'pix2pix', size: 32, steps: 2, out: run, seed: 1, data }, sets: [...SETS, 'ngf=4', 'ndf=4'] }));
});
after(() => tmp.done());

test('iouScores: a hand-worked confusion matrix', () => {
  // truth x predicted, 3 classes; class 2 never occurs in the masks but is predicted once.
  const cm = [
    6, 2, 1,
    1, 4, 0,
    0, 0, 0,
  ];
  const s = iouScores(cm, 3);
  assert.ok(Math.abs(s.perClass[0]! - 6 / (9 + 7 - 6)) < 1e-12);
  assert.ok(Math.abs(s.perClass[1]! - 4 / (5 + 6 - 4)) < 1e-12);
  assert.equal(s.perClass[2], 0, 'predicted but absent: IoU 0, not counted in the mean');
  assert.ok(Math.abs(s.miou - (0.6 + 4 / 7) / 2) < 1e-12);
  assert.ok(Math.abs(s.pixelAccuracy - 10 / 14) < 1e-12);
  assert.equal(iouScores([0, 0, 0, 0], 2).perClass[0], null);
});

test('a segmenter trained on true pairs beats one trained on mismatched pairs, on held-out real photos', { skip: slow }, async () => {
  const splits = await runSegSplits(run);
  try {
    const { train: tr, test: te, classes } = splits.value;
    assert.deepEqual(classes, ['background', 'wall', 'window', 'door']);
    assert.equal(te.images.count, te.masks.count);
    // Masks of other photos: the same statistics, none of the correspondence.
    const n = tr.masks.count;
    const shifted: SegSet = { images: tr.images, masks: subset(tr.masks, Array.from({ length: n }, (_, i) => (i + 7) % n)) };
    const o = { steps: 100, batchSize: 8, ngf: 8, learningRate: 1e-2 };
    const good = runSegTstr({ synthetic: tr, train: tr, test: te, classes }, o);
    const badNet = trainSegmenter(shifted, classes.length, o);
    const bad = segScores(badNet, te, classes.length);
    badNet.dispose();
    assert.ok(good.miou > 0.8, `true pairs: mIoU ${good.miou}`);
    assert.ok(Math.abs(good.ratio! - 1) < 1e-9, 'the same data on both sides gives ratio 1 (same seed, same steps)');
    assert.ok(bad.miou < good.miou - 0.2, `mismatched ${bad.miou} vs true ${good.miou}`);
    assert.equal(good.testImages, te.images.count);
  } finally {
    splits.close();
  }
});

test('synthset eval on a labelled folder: seg-tstr beside the pixel metrics; clear errors for a wrong --real and a missing mask', { skip: slow }, async () => {
  // A stand-in "labelled synthetic" folder: the real photos and maps written as generate does.
  const lab = join(tmp.dir, 'labelled');
  mkdirSync(join(lab, 'images'), { recursive: true });
  mkdirSync(join(lab, 'masks'), { recursive: true });
  for (const f of readdirSync(join(data, 'photo')).slice(0, 30)) {
    cpSync(join(data, 'photo', f), join(lab, 'images', f));
    cpSync(join(data, 'label', f), join(lab, 'masks', f));
  }
  const seg = await openLabelledFolder(lab);
  assert.equal(seg.images.count, 30);
  assert.equal(seg.masks.channels, 1);
  const report = await evaluate({ synthetic: lab, real: run, out: join(tmp.dir, 'report'), metrics: ['seg-tstr', 'ssim', 'tstr'], segmenter: { steps: 30, ngf: 4 } });
  const r = report['seg-tstr'] as { miou: number; trtr: { miou: number }; ratio: number; trainImages: { synthetic: number } };
  assert.equal(r.trainImages.synthetic, 30);
  assert.ok(r.miou > 0 && r.trtr.miou > 0 && typeof r.ratio === 'number');
  assert.ok(report.ssim, 'pixel metrics run on the photos');
  assert.match(report.skipped.tstr, /labelled/, 'class TSTR needs class labels');

  await assert.rejects(evaluate({ synthetic: lab, out: join(tmp.dir, 'r2') }), /labelled folder .*--real/);
  const maps = join(tmp.dir, 'maps');
  await train(resolveConfig({ flags: { family: 'labelmap', size: 32, steps: 1, out: maps, seed: 1, data }, sets: [...SETS, 'width=4'] }));
  await assert.rejects(evaluate({ synthetic: lab, real: maps, out: join(tmp.dir, 'r3') }), /did not train on label maps with photos .*pix2pix run/);
  rmSync(join(lab, 'masks', readdirSync(join(lab, 'masks'))[0]));
  await assert.rejects(openLabelledFolder(lab), /masks\/.*missing, but images\/.* is there/);
});
