import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../engine/index.js';
import { trainClassifier, type Classifier } from './classifier.js';
import { disposeInception, featureSpaces, featuresOf, inceptionInput, sampleIndices, samplesWithin, spaceUnavailable, type FeatureContext, type FeatureOptions } from './features.js';
import { memorySet, type ImageSet } from '../data/image_set.js';
import { getMetric } from './registry.js';
import { shapesSet } from './test_sets.js';
import './fd.js';
import './kid.js';
import './prdc.js';

const engine = await initEngine();
const slow = engine.backend === 'cpu' ? 'pure-JS cpu backend is ~1000x slower than onednn' : false;
const MISSING = 'nsfwjs/models/not_a_model';

function context(sets: { train: ImageSet; test: ImageSet; synthetic: ImageSet }, features: FeatureOptions): FeatureContext & { stages: string[]; done(): void } {
  let c: Classifier | null = null;
  const stages: string[] = [];
  return {
    ...sets, seed: 3, outDir: '/tmp', features, stages,
    realClassifier: () => (c ??= trainClassifier(sets.train, { epochs: 1, width: 4, seed: 1 })),
    progress: (stage, done, total) => stages.push(`${stage} ${done}/${total}`),
    done: () => c?.dispose(),
  };
}

test('subsamples are seeded, sorted, distinct, and the whole set when it is small enough', () => {
  const a = sampleIndices(100, 10, 1);
  assert.equal(a.length, 10);
  assert.deepEqual(a, [...new Set(a)].sort((p, q) => p - q));
  assert.ok(a.every((i) => i >= 0 && i < 100));
  assert.deepEqual(sampleIndices(100, 10, 1), a);
  assert.notDeepEqual(sampleIndices(100, 10, 2), a);
  assert.deepEqual(sampleIndices(4, 10, 1), [0, 1, 2, 3]);
  assert.throws(() => sampleIndices(4, 0, 1), /samples must be a positive integer, got 0/);
});

test('InceptionV3 input: nsfwjs scaling (x / 255), grey tiled to RGB, 299 px with aligned corners', () => {
  const bytes = Uint8Array.from({ length: 2 * 4 * 4 }, (_, i) => (i * 37) % 256);
  const set = memorySet({ name: 'grey', size: 4, channels: 1, classes: ['a'], labels: null, bytes });
  const x = inceptionInput(set, [1, 0]);
  assert.deepEqual(x.shape, [2, 299, 299, 3]);
  const v = x.arraySync();
  x.dispose();
  // Aligned corners map source corners onto output corners exactly.
  for (const [b, src] of [[0, 1], [1, 0]]) {
    for (const [oy, ox, sy, sx] of [[0, 0, 0, 0], [0, 298, 0, 3], [298, 298, 3, 3]]) {
      for (let ch = 0; ch < 3; ch++) assert.ok(Math.abs(v[b][oy][ox][ch] - bytes[src * 16 + sy * 4 + sx] / 255) < 1e-5);
    }
  }
  assert.ok(v.flat(3).every((p) => p >= 0 && p <= 1));
  // Everywhere, the two matmuls equal tfjs's own aligned-corner bilinear resize (grey and colour, odd size).
  for (const channels of [1, 3] as const) {
    const c = memorySet({ name: 'c', size: 5, channels, classes: ['a'], labels: null, bytes: Uint8Array.from({ length: 3 * 25 * channels }, (_, i) => (i * 53) % 256) });
    const [got, want] = tf.tidy(() => {
      const small = tf.div(tf.tensor4d(c.read([2, 0, 1]), [3, 5, 5, channels], 'float32'), 255) as tf.Tensor4D;
      const ref = tf.image.resizeBilinear(channels === 1 ? tf.tile(small, [1, 1, 1, 3]) : small, [299, 299], true);
      return [inceptionInput(c, [2, 0, 1]).dataSync(), ref.dataSync()];
    });
    let err = 0;
    for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
    assert.ok(err < 1e-5, `channels ${channels}: max |difference| ${err}`);
  }
});

test('a missing InceptionV3 is reported as a reason to skip, not thrown', async () => {
  const sets = { train: shapesSet(8), test: shapesSet(8, { seed: 2 }), synthetic: shapesSet(8, { seed: 3 }) };
  const ctx = context(sets, { inceptionModule: MISSING });
  const why = await spaceUnavailable(ctx, 'incv3-nsfwjs');
  assert.match(why ?? '', /InceptionV3 of nsfwjs\/models\/not_a_model could not be loaded .*install nsfwjs@4\.4\.0/);
  assert.equal(await spaceUnavailable(ctx, 'domain'), null);
  const unlabelled = context({ ...sets, train: { ...sets.train, labels: null } }, {});
  assert.match((await featureSpaces.domain.unavailable(unlabelled)) ?? '', /needs labelled real training images/);
  assert.throws(() => spaceUnavailable(ctx, 'nope' as 'domain'), /Unknown feature space "nope"/);
});

test('domain features are subsampled, cached per set and shared by fd, kid and prdc', async () => {
  const sets = { train: shapesSet(48), test: shapesSet(24, { seed: 2 }), synthetic: shapesSet(40, { seed: 3 }) };
  const ctx = context(sets, { inceptionModule: MISSING, samples: { domain: 32 }, batch: { domain: 10 } });
  const before = tf.memory().numTensors;
  try {
    const f = await featuresOf(ctx, 'domain', 'train');
    assert.equal(f.count, 32);
    assert.equal(f.data.length, 32 * f.dims);
    assert.ok(f.dims > 0 && f.data.every(Number.isFinite));
    assert.equal(featuresOf(ctx, 'domain', 'train'), featuresOf(ctx, 'domain', 'train'), 'one computation per set');
    assert.deepEqual(ctx.stages.slice(-1), ['features domain (train, 32 images) 32/32']);
    assert.equal(ctx.stages.length, 4, 'progress once per batch of 10');
    const fd = await getMetric('fd').run(ctx);
    const kid = await getMetric('kid').run(ctx);
    const prdc = await getMetric('prdc').run(ctx);
    assert.equal(ctx.stages.filter((s) => s.endsWith(' 32/32') || s.endsWith(' 24/24')).length, 3, 'each set embedded once');
    for (const [r, key] of [[fd, 'FD_domain'], [kid, 'KID_domain'], [prdc, 'PRDC_domain']] as const) {
      assert.ok(key in r && key in (r.vsTest as object) && key in (r.realTestVsTrain as object));
      assert.deepEqual(r.n, { domain: { train: 32, test: 24, synthetic: 32 } });
      assert.match((r.skipped as Record<string, string>)['incv3-nsfwjs'], /could not be loaded/);
      assert.ok(!Object.keys(r).some((k) => /FID/.test(k)));
    }
    assert.ok((fd.FD_domain as number) >= 0);
    assert.equal((kid.KID_domain as { subsetSize: number }).subsetSize, 16, 'half the smaller sample');
    assert.ok((prdc.PRDC_domain as { coverage: number }).coverage >= 0);
  } finally {
    ctx.done();
  }
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
});

test('InceptionV3 features: 2048-d, finite, and equal to nsfwjs\'s own Keras model', { skip: slow }, async () => {
  const set = shapesSet(2, { size: 16, channels: 3, seed: 4 });
  const ctx = context({ train: set, test: set, synthetic: set }, { batch: { 'incv3-nsfwjs': 2 } });
  assert.equal(await spaceUnavailable(ctx, 'incv3-nsfwjs'), null);
  const f = await featuresOf(ctx, 'incv3-nsfwjs', 'synthetic');
  assert.equal(f.dims, 2048);
  assert.equal(f.count, 2);
  assert.ok(f.data.every(Number.isFinite) && f.data.some((v) => v > 0));
  // Reference: the unmodified model through tfjs-layers, as nsfwjs loads it (BatchNorm unfolded,
  // pools in their original place), cut at the pooled features.
  const def = ((await import('nsfwjs/models/inception_v3' as string)) as { InceptionV3Model: { modelJson(): Promise<{ default: tf.io.ModelJSON }>; weightBundles: (() => Promise<{ default: string }>)[] } }).InceptionV3Model;
  const json = (await def.modelJson()).default;
  const bytes = Buffer.concat(await Promise.all(def.weightBundles.map(async (w) => Buffer.from((await w()).default, 'base64'))));
  const keras = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs: json.weightsManifest!.flatMap((g) => g.weights),
    weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
  }));
  const cut = tf.model({ inputs: keras.inputs, outputs: keras.getLayer('flatten_1').output });
  // One image is enough to compare, and halves the reference's own conv set-up.
  const want = tf.tidy(() => (cut.predict(inceptionInput(set, [1])) as tf.Tensor).dataSync());
  keras.dispose();
  let worst = 0;
  want.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - f.data[2048 + i]))));
  assert.ok(worst < 1e-4, `max difference ${worst}`);
  await disposeInception();
});

test('a time budget: images per set are what fits for three sets, in whole hundreds, none below the minimum', () => {
  assert.equal(samplesWithin(3000, 1, 1000), 1000);
  assert.equal(samplesWithin(1e9, 1, 150), 150, 'never more than asked');
  assert.equal(samplesWithin(1500, 1, 1000), 500);
  assert.equal(samplesWithin(1000, 1, 1000), 300, '333 fit: whole hundreds');
  assert.equal(samplesWithin(500, 1, 1000), 0, '166 fit: below 200, skip');
  assert.equal(samplesWithin(-5, 1, 1000), 0);
});

test('features under a deadline time themselves on the train set: skipped when it has passed, as asked when there is room', async () => {
  const sets = { train: shapesSet(48), test: shapesSet(24, { seed: 2 }), synthetic: shapesSet(40, { seed: 3 }) };
  const late = context(sets, { inceptionModule: MISSING, samples: { domain: 32 }, batch: { domain: 8 }, deadline: { domain: Date.now() - 1 } });
  const roomy = context(sets, { inceptionModule: MISSING, samples: { domain: 32 }, batch: { domain: 8 }, deadline: { domain: Date.now() + 3_600_000 } });
  try {
    assert.match((await spaceUnavailable(late, 'domain'))!, /time budget leaves room for fewer than 200 images per set \([\d.]+ ms per image, 0 s left\)/);
    assert.ok(late.stages.some((s) => s.startsWith('features domain (timing)')), 'two probe batches were embedded');
    const fd = await getMetric('fd').run(late);
    assert.match((fd.skipped as Record<string, string>).domain, /time budget/);
    assert.equal(await spaceUnavailable(roomy, 'domain'), null);
    assert.equal((await featuresOf(roomy, 'domain', 'train')).count, 32);
  } finally {
    late.done();
    roomy.done();
  }
});
