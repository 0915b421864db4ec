// Per-class training: one unconditional model per class, joined into one conditional generator.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { COLOURS, makeImageFolder, tempDir } from '../data/test_images.js';
import { initEngine } from '../engine/index.js';
import { loadCheckpoint } from '../run/checkpoint.js';
import { resumeConfig, validateConfig as validate } from '../run/config.js';
import { loadGenerator } from '../run/generator.js';
import { readMetrics } from '../run/metrics.js';
import { train } from '../train/loop.js';
import { tinyConfig } from '../train/test_helpers.js';
import { joinGenerators } from './per_class.js';
import '../layers/index.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'synthset.js');
const tmp = tempDir('synthset-perclass-');
const data = join(tmp.dir, 'data');
before(async () => {
  await initEngine();
  // Three classes of solid colours (red, green, blue), 8 images each.
  await makeImageFolder(data, ['red', 'green', 'blue'], [8, 8, 8]);
});
after(() => tmp.done());

test('joinGenerators: each sample comes from its own class\'s generator, absent classes give zeros, and it reloads', async () => {
  const gen = (v: number) => {
    const z = tf.input({ shape: [2] });
    const d = tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.constant({ value: v }), useBias: false }).apply(z) as tf.SymbolicTensor;
    return tf.model({ inputs: z, outputs: tf.layers.reshape({ targetShape: [2, 2, 1] }).apply(d) as tf.SymbolicTensor });
  };
  // Generators for classes 0 and 2 of 3; class 1 has none.
  const joined = joinGenerators([gen(1), gen(-2)], [0, 2], 3, 2);
  const z = tf.tensor2d([[1, 1], [1, 2], [3, 0]]);
  const hot = tf.oneHot(tf.tensor1d([2, 0, 1], 'int32'), 3).toFloat();
  const y = (joined.predict([z, hot]) as tf.Tensor).arraySync() as number[][][][];
  assert.deepEqual(y.map((im) => im[0][0][0]), [-4, 3, 0], 'row 0 from G(class 2) = -2*(1+1), row 1 from G(class 0) = 1+2, row 2 absent');
  let saved: tf.io.ModelArtifacts | null = null;
  await joined.save(tf.io.withSaveHandler(async (a) => {
    saved = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const back = await tf.loadLayersModel(tf.io.fromMemory(saved!));
  assert.deepEqual((back.predict([z, hot]) as tf.Tensor).arraySync(), y);
  tf.dispose([z, hot]);
});

const cfg = (out: string, steps: number) => tinyConfig(data, out, { steps, perClass: true, holdout: 0, checkpointEvery: 3, augment: { policy: ['translation'] }, pool: { size: 4, p: 0.5 } });

test('per-class dcgan: an exact resume, and one conditional generator over the classes', async () => {
  const a = join(tmp.dir, 'straight'), b = join(tmp.dir, 'resumed');
  await train(cfg(a, 6));
  await assert.rejects(train(cfg(b, 6), { onStep: (e) => { if (e.step === 5) throw new Error('crash'); } }), /crash/);
  await train(resumeConfig(b, 6), {}, { resume: true });
  const strip = (f: string) => readMetrics(f).map(({ imgPerSec: _, ...r }) => r);
  assert.deepEqual(strip(join(b, 'metrics.jsonl')), strip(join(a, 'metrics.jsonl')), 'the resumed run repeats the straight one');
  const ck = loadCheckpoint(a)!;
  assert.equal(ck.state.step, 6);
  const g = await loadGenerator(join(a, 'generator'));
  assert.equal(g.meta.conditional, true);
  assert.deepEqual(g.meta.classes, ['blue', 'green', 'red']);
  assert.deepEqual(g.model.inputs.map((i) => i.shape), [[null, 8], [null, 3]], 'z and the one-hot over the 3 classes');
  g.model.dispose();
});

test('per-class: each class\'s model learns its own class (the mean colour of its samples is its class\'s)', async () => {
  const out = join(tmp.dir, 'learn');
  await train(validate({ ...cfg(out, 150), checkpointEvery: 1000, augment: null, pool: null }));
  const g = await loadGenerator(join(out, 'generator'));
  const names = g.meta.classes;
  const colour: Record<string, [number, number, number]> = { red: COLOURS[0], green: COLOURS[1], blue: COLOURS[2] };
  const means = tf.tidy(() => {
    const n = 16;
    const z = tf.randomNormal([n * 3, 8], 0, 1, 'float32', 5);
    const hot = tf.oneHot(tf.tensor1d(Array.from({ length: n * 3 }, (_, i) => Math.floor(i / n)), 'int32'), 3).toFloat();
    const x = g.model.predict([z, hot]) as tf.Tensor4D;
    return tf.mean(tf.reshape(x, [3, n * 32 * 32, 3]), 1).arraySync() as number[][];
  });
  means.forEach((m, k) => {
    const rgb = m.map((v) => (v + 1) * 127.5);
    const dist = (c: number[]) => Math.hypot(...c.map((v, i) => v - rgb[i]));
    const own = dist(colour[names[k]]);
    for (const other of names.filter((x) => x !== names[k])) {
      assert.ok(own < dist(colour[other]), `class ${names[k]}: mean colour ${rgb.map((v) => v.toFixed(0))} is nearer ${other}`);
    }
  });
  g.model.dispose();
});

test('CLI contract: train --per-class, --resume, export and generate give one folder per class; refusals are clear', () => {
  const env = { ...process.env, SYNTHSET_NO_REEXEC: '1' };
  const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8' });
  const run = join(tmp.dir, 'cli');
  const common = ['--data', data, '--size', '32', '--batch-size', '4', '--set', 'width=4', '--set', 'zDim=8', '--set', 'holdout=0', '--quiet'];
  let r = cli('train', '--per-class', '--family', 'dcgan', '--steps', '2', '--out', run, ...common);
  assert.equal(r.status, 0, r.stderr);
  r = cli('train', '--resume', run, '--steps', '3', '--quiet');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readMetrics(join(run, 'metrics.jsonl')).at(-1)!.step, 3);
  r = cli('export', '--run', run, '--out', join(tmp.dir, 'bundle'));
  assert.equal(r.status, 0, r.stderr);
  r = cli('generate', '--bundle', join(tmp.dir, 'bundle'), '--per-class', '2', '--out', join(tmp.dir, 'gen'), '--quiet');
  assert.equal(r.status, 0, r.stderr);
  for (const c of ['red', 'green', 'blue']) assert.equal(readdirSync(join(tmp.dir, 'gen', c)).length, 2, c);
  r = cli('train', '--per-class', '--family', 'cgan', '--steps', '2', '--out', join(tmp.dir, 'cg'), ...common);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--per-class trains one unconditional model per class; cgan is always conditional: use dcgan, sngan or wgan-gp/);
  r = cli('train', '--per-class', '--family', 'dcgan', '--steps', '2', '--out', join(tmp.dir, 'big'), ...common, '--batch-size', '16');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /Class "\w+" has 8 training images, fewer than one batch of 16/);
});
