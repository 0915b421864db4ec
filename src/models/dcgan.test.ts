// dcgan and cgan: build, step, leak, options, save/reload, and a conditional learning check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../engine/index.js';
import { packLabels, unpackLabels } from './dcgan_common.js';
import { getFamily, type FamilyContext, type GanModel, type StepContext, type TrainBatch } from './index.js';

// At top level, so the learning test can decide whether to skip from the active backend.
const engine = await initEngine();

const identity: Pick<StepContext, 'augment' | 'pool'> = { augment: (x) => x, pool: (x) => x };

function ctxFor(family: string, over: Partial<FamilyContext> = {}): FamilyContext {
  return { size: 32, channels: 3, numClasses: family === 'cgan' ? 3 : 0, zDim: 16, options: { width: 4 }, seed: 7, ...over };
}

function batchOf(n: number, c: FamilyContext, seed: number): TrainBatch {
  return {
    real: tf.randomUniform([n, c.size, c.size, c.channels], -1, 1, 'float32', seed) as tf.Tensor4D,
    labels: c.numClasses ? tf.tensor1d(Array.from({ length: n }, (_, i) => i % c.numClasses), 'int32') : null,
  };
}

const snapshot = (m: tf.LayersModel) => m.getWeights(true).map((w) => Float32Array.from(w.dataSync()));
const changed = (a: Float32Array[], b: Float32Array[]) => a.some((w, i) => w.some((v, j) => v !== b[i][j]));

for (const family of ['dcgan', 'cgan']) {
  test(`${family}: builds, steps with finite numbers, trains both nets, leaks nothing`, () => {
    const c = ctxFor(family);
    const m = getFamily(family).build(c);
    const batches = [batchOf(4, c, 1)];
    const g0 = snapshot(m.nets.g), d0 = snapshot(m.nets.d);
    // The first steps create the optimizers' moment variables; after that the count must stay flat.
    m.trainStep(batches, { step: 0, seed: 100, ...identity });
    const before = tf.memory().numTensors;
    for (let s = 1; s <= 2; s++) {
      const r = m.trainStep(batches, { step: s, seed: 100 + s, ...identity });
      assert.deepEqual(Object.keys(r).sort(), ['dFake', 'dReal', 'lossD', 'lossG']);
      for (const [k, v] of Object.entries(r)) assert.ok(Number.isFinite(v), `${k} = ${v}`);
      assert.ok(r.dReal > 0 && r.dReal < 1 && r.dFake > 0 && r.dFake < 1, 'bce reports probabilities');
    }
    assert.equal(tf.memory().numTensors, before, 'tensors leaked across steps');
    assert.ok(changed(g0, snapshot(m.nets.g)), 'G weights did not change');
    assert.ok(changed(d0, snapshot(m.nets.d)), 'D weights did not change');
    const z = tf.randomNormal([2, c.zDim]) as tf.Tensor2D;
    const hot = c.numClasses ? (tf.oneHot(tf.tensor1d([0, 1], 'int32'), c.numClasses).toFloat() as tf.Tensor2D) : null;
    const img = m.generator.predict(hot ? [z, hot] : z) as tf.Tensor;
    assert.deepEqual(img.shape, [2, 32, 32, 3]);
    const fresh = m.buildGenerator();
    assert.equal(fresh.countParams(), m.generator.countParams());
    tf.dispose([z, img, ...(hot ? [hot] : []), batches[0].real, ...(batches[0].labels ? [batches[0].labels] : [])]);
    fresh.dispose();
    m.dispose();
  });
}

test('other sizes, grey images, ndis > 1, hinge/lsgan, D batch-norm, a mixing pool and an augment', () => {
  const cases: [string, Partial<FamilyContext>][] = [
    ['dcgan', { size: 64, channels: 1, options: { width: 2, ndis: 2, loss: 'hinge', dBatchNorm: true } }],
    ['cgan', { size: 32, channels: 1, options: { width: 4, ndis: 2, loss: 'lsgan', labelSmoothing: 0.1 } }],
  ];
  for (const [family, over] of cases) {
    const c = ctxFor(family, over);
    const m = getFamily(family).build(c);
    assert.equal(m.ndis, 2);
    const batches = [batchOf(4, c, 1), batchOf(4, c, 2)];
    // Reversing the batch moves fakes away from their original positions: cgan's labels must follow.
    const ctx = { step: 0, seed: 5, augment: (x: tf.Tensor4D) => tf.reverse(x, 2), pool: (x: tf.Tensor4D) => tf.reverse(x, 0) };
    m.trainStep(batches, ctx);
    const before = tf.memory().numTensors;
    const r = m.trainStep(batches, { ...ctx, step: 1 });
    assert.equal(tf.memory().numTensors, before);
    for (const v of Object.values(r)) assert.ok(Number.isFinite(v));
    assert.throws(() => m.trainStep(batches.slice(1), ctx), /needs 2 batches/);
    tf.dispose(batches.flatMap((b) => (b.labels ? [b.real, b.labels] : [b.real])));
    m.dispose();
  }
});

test('conditional fakes carry their labels through a pool that moves them', () => {
  for (const [k, w, c] of [[3, 4, 1], [10, 2, 1], [5, 8, 3]]) {
    const fake = tf.randomNormal([4, 4, w, c], 0, 1, 'float32', k) as tf.Tensor4D;
    const hot = tf.oneHot(tf.tensor1d([0, 1, 2, k - 1], 'int32'), k).toFloat() as tf.Tensor2D;
    const packed = packLabels(fake, hot);
    const moved = tf.reverse(packed, 0) as tf.Tensor4D;
    const [img, lab] = unpackLabels(moved, 4, k);
    assert.deepEqual(Array.from(img.dataSync()), Array.from(tf.reverse(fake, 0).dataSync()));
    assert.deepEqual(Array.from(lab.dataSync()), Array.from(tf.reverse(hot, 0).dataSync()));
    tf.dispose([fake, hot, packed, moved, img, lab]);
  }
});

test('clear errors for bad setups', () => {
  const bad: [string, Partial<FamilyContext>, RegExp][] = [
    ['cgan', { numClasses: 0 }, /needs labelled data with at least 2 classes/],
    ['cgan', { numClasses: 1 }, /at least 2 classes/],
    ['dcgan', { options: { loss: 'nope' } }, /"loss" must be one of/],
    ['dcgan', { options: { width: 0 } }, /"width" must be an integer/],
    ['dcgan', { options: { loss: 'hinge', labelSmoothing: 0.1 } }, /no labels to smooth/],
    ['dcgan', { size: 48 as 32 }, /32, 64 or 128 px/],
    ['dcgan', { options: { aux: 1 } }, /"aux" \(an auxiliary classifier\) needs a conditional family/],
    ['cgan', { options: { aux: -1 } }, /"aux" must be a number >= 0/],
    ['dcgan', { options: { projection: true } }, /"projection" \(class-conditional batch-norm and a projection head\) needs a conditional family/],
    ['cgan', { options: { projection: 1 } }, /"projection" must be true or false/],
  ];
  for (const [family, over, re] of bad) assert.throws(() => getFamily(family).build(ctxFor(family, over)), re);
  const m = getFamily('cgan').build(ctxFor('cgan'));
  const real = tf.zeros([2, 32, 32, 3]) as tf.Tensor4D;
  assert.throws(() => m.trainStep([{ real, labels: null }], { step: 0, seed: 1, ...identity }), /needs labels/);
  real.dispose();
  m.dispose();
});

test('a saved generator reloads in a process that imports only src/layers', async () => {
  const m = getFamily('dcgan').build(ctxFor('dcgan'));
  const b = batchOf(4, ctxFor('dcgan'), 3);
  m.trainStep([b], { step: 0, seed: 9, ...identity }); // moving stats and weights away from their initial values
  let art: tf.io.ModelArtifacts | undefined;
  await m.generator.save(tf.io.withSaveHandler(async (a) => {
    art = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  assert.ok(art?.weightData && !Array.isArray(art.weightData));
  const z = tf.randomNormal([3, 16], 0, 1, 'float32', 4);
  const want = (m.generator.predict(z) as tf.Tensor).dataSync();
  const dir = mkdtempSync(join(tmpdir(), 'synthset-gen-'));
  try {
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ topology: art.modelTopology, specs: art.weightSpecs, z: Array.from(z.dataSync()) }));
    writeFileSync(join(dir, 'weights.bin'), new Uint8Array(art.weightData as ArrayBuffer));
    const layers = join(dirname(fileURLToPath(import.meta.url)), '..', 'layers', 'index.ts');
    const script = `
      import * as tf from '@tensorflow/tfjs';
      import { readFileSync, writeFileSync } from 'node:fs';
      import ${JSON.stringify(layers)};
      const j = JSON.parse(readFileSync(${JSON.stringify(join(dir, 'model.json'))}, 'utf8'));
      const w = readFileSync(${JSON.stringify(join(dir, 'weights.bin'))});
      const g = await tf.loadLayersModel(tf.io.fromMemory(j.topology, j.specs, w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength)));
      const out = g.predict(tf.tensor(j.z, [3, 16]));
      writeFileSync(${JSON.stringify(join(dir, 'out.json'))}, JSON.stringify(Array.from(out.dataSync())));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: process.cwd() });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as number[];
    assert.equal(got.length, want.length);
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-4, `output ${i}: ${v} vs ${want[i]}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  tf.dispose([z, b.real]);
  m.dispose();
});

// Two classes that differ only in brightness: a conditional G that learned anything makes the
// bright class brighter. Chance cannot pass it: the gap must be large and hold for every seed tried.
// With aux, D sees no label at all: the class can reach G only through the auxiliary classifier.
// With projection, G's label enters only through its batch-norms' scale and shift.
const conditionings = [
  ['label planes', { width: 8 }], ['an auxiliary classifier (AC-GAN)', { width: 8, aux: 1 }],
  ['conditional batch-norm and a projection head', { width: 8, projection: true }],
] as const;
for (const [what, options] of conditionings) {
  test(`cgan learns which class is bright, through ${what}`, { skip: engine.backend === 'cpu' ? 'pure-JS cpu backend is ~1000x slower than onednn' : false }, () => {
    const c: FamilyContext = { size: 32, channels: 1, numClasses: 2, zDim: 16, options, seed: 3 };
    const m: GanModel = getFamily('cgan').build(c);
    const n = 8;
    const labels = tf.tensor1d(Array.from({ length: n }, (_, i) => i % 2), 'int32');
    const t0 = performance.now();
    for (let s = 0; s < 300; s++) {
      const real = tf.tidy(() => {
        const level = tf.sub(tf.mul(tf.cast(labels, 'float32'), 1.2), 0.6).reshape([n, 1, 1, 1]);
        return tf.clipByValue(tf.add(level, tf.randomNormal([n, 32, 32, 1], 0, 0.2, 'float32', 1000 + s)), -1, 1) as tf.Tensor4D;
      });
      m.trainStep([{ real, labels }], { step: s, seed: s, ...identity });
      real.dispose();
    }
    const means = [0, 1].map((k) => tf.tidy(() => {
      const z = tf.randomNormal([32, c.zDim], 0, 1, 'float32', 77);
      const hot = tf.oneHot(tf.fill([32], k, 'int32') as tf.Tensor1D, 2).toFloat();
      return tf.mean(m.generator.predict([z, hot]) as tf.Tensor).dataSync()[0];
    }));
    const secs = (performance.now() - t0) / 1000;
    assert.ok(means[1] - means[0] > 0.4, `class means dark ${means[0].toFixed(3)}, bright ${means[1].toFixed(3)} (${secs.toFixed(1)} s)`);
    labels.dispose();
    m.dispose();
  });
}

test('a private step takes the batched per-example pass where D allows it and micro-batches where it does not', async () => {
  const { PrivateSession } = await import('../train/private.js');
  const session = new PrivateSession({ epsilon: 10, delta: 1e-5, clip: 1, noise: 0.5, sampleRate: 0.1, expectedBatch: 4 });
  for (const projection of [false, true]) {
    const c = ctxFor('cgan', { private: true, options: { width: 4, projection } });
    const m = getFamily('cgan').build(c);
    const batches = [batchOf(4, c, 3)];
    const dp = session.step(1);
    let batched = 0, micro = 0;
    const counted = {
      ...dp,
      gradients: (...a: Parameters<typeof dp.gradients>) => { micro++; return dp.gradients(...a); },
      batchGradients: (...a: Parameters<NonNullable<typeof dp.batchGradients>>) => {
        const r = dp.batchGradients!(...a);
        if (r) batched++;
        return r;
      },
    };
    const d0 = snapshot(m.nets.d);
    m.trainStep(batches, { step: 0, seed: 5, ...identity, dp: counted });
    const before = tf.memory().numTensors;
    const r = m.trainStep(batches, { step: 1, seed: 6, ...identity, dp: counted });
    assert.equal(tf.memory().numTensors, before, `tensors leaked (projection ${projection})`);
    for (const [k, v] of Object.entries(r)) assert.ok(Number.isFinite(v), `${k} = ${v}`);
    assert.ok(r.dClipped >= 0 && r.dClipped <= 1);
    assert.ok(changed(d0, snapshot(m.nets.d)), 'D weights did not change');
    // A projection head is not a layer the batched pass knows: it must fall back, never skip clipping.
    assert.deepEqual([batched, micro], projection ? [0, 2] : [2, 0]);
    tf.dispose([batches[0].real, batches[0].labels!]);
    m.dispose();
  }
});

test('dWidth sets D apart from G (a private run\'s lever), and is checked', () => {
  const same = getFamily('cgan').build(ctxFor('cgan', { options: { width: 8 } }));
  const narrow = getFamily('cgan').build(ctxFor('cgan', { options: { width: 8, dWidth: 4 } }));
  try {
    assert.equal(narrow.nets.g.countParams(), same.nets.g.countParams(), 'G keeps its width');
    const dConvs = (m: GanModel) => m.nets.d.layers.filter((l) => l.getClassName() === 'SynthsetConv2D').map((l) => (l.getConfig().filters as number));
    assert.deepEqual(dConvs(same), [8, 16, 32]);
    assert.deepEqual(dConvs(narrow), [4, 8, 16]);
  } finally {
    same.dispose();
    narrow.dispose();
  }
  assert.throws(() => getFamily('cgan').build(ctxFor('cgan', { options: { dWidth: -1 } })), /Option "dWidth" must be an integer in 0..1024 \(0: the same as width\), got -1/);
});
