import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { rng } from '../util/random.js';
import { initEngine } from '../engine/index.js';
import { trainClassifier, type Classifier } from './classifier.js';
import { memorySet, type ImageSet } from '../data/image_set.js';
import { bootstrapMeanCi, closestPairs, mannWhitneyAuc, runPrivacy, writeGallery, type SpaceReport } from './privacy.js';
import type { EvalContext } from './registry.js';
import { shapesSet } from './test_sets.js';

await initEngine();

function ctxOf(train: ImageSet, testSet: ImageSet, synthetic: ImageSet): EvalContext & { done(): void } {
  let c: Classifier | null = null;
  return {
    train, test: testSet, synthetic, seed: 0, outDir: mkdtempSync(join(tmpdir(), 'privacy-')),
    realClassifier: () => (c ??= trainClassifier(train, { epochs: 1, width: 4, batchSize: 32 })),
    progress: () => {},
    done: () => c?.dispose(),
  };
}

/** Training images again: the first half exact, the rest with ±2 grey levels of noise. */
function copier(train: ImageSet, seed: number): ImageSet {
  const rand = rng(seed);
  const bytes = train.read(Array.from({ length: train.count }, (_, i) => i));
  const half = (train.count >> 1) * train.size * train.size * train.channels;
  for (let i = half; i < bytes.length; i++) bytes[i] = Math.max(0, Math.min(255, bytes[i] + Math.round(rand() * 4 - 2)));
  return memorySet({ name: 'copier', size: train.size, channels: train.channels, classes: train.classes, labels: train.labels, bytes });
}

async function report(train: ImageSet, testSet: ImageSet, syn: ImageSet) {
  const ctx = ctxOf(train, testSet, syn);
  try {
    return { r: await runPrivacy(ctx), dir: ctx.outDir };
  } finally {
    ctx.done();
  }
}

test('AUC is the Mann-Whitney probability, ties counted half', () => {
  assert.equal(mannWhitneyAuc([3, 4], [1, 2]), 1);
  assert.equal(mannWhitneyAuc([1, 2], [3, 4]), 0);
  assert.equal(mannWhitneyAuc([1, 2], [1, 2]), 0.5);
  assert.equal(mannWhitneyAuc([5, 5], [5]), 0.5);
  // Pairs: 3>2, 3>1, 2=2, 2>1, 2=2, 2>1 → (4 + 2·½) / 6.
  assert.equal(mannWhitneyAuc([3, 2, 2], [2, 1]), 5 / 6);
  const rand = rng(1);
  const pos = Array.from({ length: 60 }, () => Math.floor(rand() * 8)), neg = Array.from({ length: 45 }, () => Math.floor(rand() * 6));
  let pairs = 0;
  for (const p of pos) for (const n of neg) pairs += p > n ? 1 : p === n ? 0.5 : 0;
  assert.ok(Math.abs(mannWhitneyAuc(pos, neg) - pairs / (60 * 45)) < 1e-12);
  assert.throws(() => mannWhitneyAuc([], [1]), /scores on both sides, got 0 positive/);
  assert.throws(() => mannWhitneyAuc([NaN], [1]), /finite/);
});

test('bootstrap interval of a mean: seeded, around the mean, about ±1.96 standard errors wide', () => {
  const rand = rng(2);
  const xs = Array.from({ length: 400 }, (): number => (rand() < 0.5 ? 1 : 0));
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const [lo, hi] = bootstrapMeanCi(xs, { seed: 3 });
  assert.deepEqual(bootstrapMeanCi(xs, { seed: 3 }), [lo, hi]);
  assert.ok(lo < mean && mean < hi);
  const se = Math.sqrt((mean * (1 - mean)) / xs.length);
  assert.ok(Math.abs((hi - lo) / (2 * 1.96 * se) - 1) < 0.15, `width ${hi - lo} vs ${2 * 1.96 * se}`);
  assert.deepEqual(bootstrapMeanCi([0.5, 0.5, 0.5]), [0.5, 0.5]);
  assert.throws(() => bootstrapMeanCi([]), /no values/);
});

test('a generator that copies its training images is flagged in both spaces', async () => {
  const train = shapesSet(160, { seed: 1 }), holdout = shapesSet(160, { seed: 2 });
  const { r } = await report(train, holdout, copier(train, 9));
  for (const space of ['pixel', 'feature'] as const) {
    const s = r[space] as SpaceReport;
    assert.ok(s.closerToTrainShare > 0.97 && s.ci95[0] > 0.9, `${space} share ${s.closerToTrainShare}`);
    assert.ok(s.mia_auc > 0.97, `${space} AUC ${s.mia_auc}`);
    assert.ok(s.unauthenticShare > 0.9 && s.unauthenticShare > s.unauthenticShareHoldout + 0.3, `${space} unauthentic ${s.unauthenticShare} vs ${s.unauthenticShareHoldout}`);
    assert.ok(s.medianNnTrain < s.medianNnHoldout / 10);
  }
  const pixel = r.pixel as SpaceReport;
  assert.equal(pixel.identicalToTrain, 80);
  assert.equal(r.mia_auc, Math.max(pixel.mia_auc, (r.feature as SpaceReport).mia_auc));
  assert.match(r.interpretation as string, /Signs of memorization in pixel and feature space/);
  // Closest first: the exact copies (distance 0), each a different training image.
  const pairs = r.galleryPairs as { synthetic: number; train: number; distance: number }[];
  assert.equal(pairs.length, 16);
  assert.ok(pairs.every((p) => p.distance === 0 && p.train === p.synthetic));
});

test('fresh images from the same distribution are not flagged', async () => {
  const train = shapesSet(160, { seed: 1 }), holdout = shapesSet(160, { seed: 2 });
  const { r } = await report(train, holdout, shapesSet(160, { seed: 3 }));
  for (const space of ['pixel', 'feature'] as const) {
    const s = r[space] as SpaceReport;
    assert.ok(s.ci95[0] <= 0.5 && 0.5 <= s.ci95[1], `${space} share ${s.closerToTrainShare} [${s.ci95}]`);
    assert.ok(Math.abs(s.mia_auc - 0.5) < 3 * s.miaAucNullSd, `${space} AUC ${s.mia_auc} ± ${s.miaAucNullSd}`);
    assert.ok(Math.abs(s.unauthenticShare - s.unauthenticShareHoldout) < 0.15, `${space} unauthentic ${s.unauthenticShare} vs ${s.unauthenticShareHoldout}`);
    assert.equal(s.identicalToTrain, 0);
  }
  assert.match(r.interpretation as string, /^No sign of memorization/);
});

test('a larger training set is subsampled to the holdout size, seeded, and says so', async () => {
  // Unlabelled, so only the pixel space runs: the subsampling is shared by both spaces.
  const train = { ...shapesSet(240, { seed: 1 }), labels: null }, holdout = shapesSet(80, { seed: 2 });
  const a = (await report(train, holdout, copier(train, 9))).r;
  const b = (await report(train, holdout, copier(train, 9))).r;
  assert.deepEqual(a.pixel, b.pixel);
  assert.deepEqual(a.subsample, { ...(a.subsample as object), train: 80, trainCount: 240, holdout: 80, holdoutCount: 80, seed: 0 });
  const s = a.pixel as SpaceReport;
  // Only copies of the 80 subsampled images can win outright: ~0.5 + 0.5 · 80/240.
  assert.ok(Math.abs(s.ceiling - (0.5 + 0.5 / 3)) < 1e-12);
  assert.ok(s.ci95[0] <= s.ceiling + 0.05 && s.ceiling - 0.05 <= s.ci95[1], `share ${s.closerToTrainShare} [${s.ci95}] vs ${s.ceiling}`);
  assert.ok(s.ci95[0] > 0.5);
  // Every training image was copied, so every member is nearer the synthetic set than any held-out image.
  assert.equal(s.mia_auc, 1);
});

test('the gallery is a PNG of each synthetic image beside its training neighbour, upscaled', async () => {
  const train = shapesSet(20, { seed: 1, channels: 3 }), syn = shapesSet(20, { seed: 5, channels: 3 });
  const dir = mkdtempSync(join(tmpdir(), 'privacy-'));
  const file = join(dir, 'g.png');
  const pairs = Array.from({ length: 16 }, (_, k) => ({ synthetic: k, train: 19 - k, distance: k }));
  // 16 px → ×4 = 64 px cells; 4 pairs of 64 + 2 + 64 with 8 px margins; 20 px caption on top.
  assert.deepEqual(await writeGallery(file, syn, train, pairs), { width: 4 * 130 + 5 * 8, height: 20 + 4 * 64 + 5 * 8 });
  assert.deepEqual([...readFileSync(file).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [560, 316, 3]);
  // Pair 6 sits in row 1, column 2: synthetic 6 on the left, training image 13 on the right.
  const x0 = 8 + 2 * 138, y0 = 20 + 8 + 72;
  const img = (s: ImageSet, i: number) => s.read([i]);
  for (const [set, i, dx] of [[syn, 6, 0], [train, 13, 66]] as const) {
    const want = img(set, i);
    for (const [y, x] of [[0, 0], [5, 9], [15, 15], [7, 2]]) {
      const at = ((y0 + 4 * y + 3) * 560 + x0 + dx + 4 * x + 1) * 3;
      assert.deepEqual([...data.subarray(at, at + 3)], [...want.subarray((y * 16 + x) * 3, (y * 16 + x) * 3 + 3)], `${set === syn ? 'synthetic' : 'train'} pixel ${y},${x}`);
    }
  }
  assert.rejects(writeGallery(file, syn, train, []), /no pairs/);
});

test('closest pairs: closest first, each training image once', () => {
  const pairs = closestPairs({ dist: Float64Array.of(3, 0, 1, 0, 2), index: Int32Array.of(7, 4, 8, 4, 9) }, 3);
  assert.deepEqual(pairs, [{ synthetic: 1, train: 4, distance: 0 }, { synthetic: 2, train: 8, distance: 1 }, { synthetic: 4, train: 9, distance: 2 }]);
});

test('unlabelled real images: the pixel space alone, with the reason', async () => {
  const train = { ...shapesSet(40, { seed: 1 }), labels: null }, holdout = shapesSet(40, { seed: 2 });
  const { r, dir } = await report(train, holdout, shapesSet(40, { seed: 3 }));
  assert.equal(r.feature, null);
  assert.match(r.featureSkipped as string, /unlabelled/);
  assert.equal(r.mia_auc, (r.pixel as SpaceReport).mia_auc);
  assert.equal(r.mia_auc_space, 'pixel');
  const meta = await sharp(join(dir, r.gallery as string)).metadata();
  assert.equal(meta.format, 'png');
});

test('empty or mismatched sets are refused with the reason', async () => {
  const set = shapesSet(8, { seed: 1 });
  const none = memorySet({ name: 'none', size: 16, channels: 1, classes: set.classes, labels: new Int32Array(0), bytes: new Uint8Array(0) });
  await assert.rejects(report(set, set, none), /synthetic set none has 0 image\(s\) but needs at least 1/);
  await assert.rejects(report(none, set, set), /real training set none has 0 image\(s\) but needs at least 2/);
  await assert.rejects(report(set, none, set), /real held-out set none has 0 image\(s\)/);
  await assert.rejects(report(set, set, shapesSet(4, { size: 32 })), /16x16x1 images but .* 32x32x1: compare sets of one size/);
  await assert.rejects(report(set, set, shapesSet(4, { channels: 3 })), /16x16x1 images but .* 16x16x3/);
});
