import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { tempDir } from '../data/test_images.js';
import { initEngine } from '../engine/index.js';
import { train } from '../train/loop.js';
import { tinyConfig, tinyData } from '../train/test_helpers.js';
import { exportRun } from './export.js';
import { generateSet } from './generator.js';
import { loadGenerator } from '../run/generator.js';

let data: { dir: string; done: () => void };
const runs = tempDir('synthset-gen-');
let run = '';

before(async () => {
  await initEngine();
  data = await tinyData();
  run = join(runs.dir, 'cgan');
  await train(tinyConfig(data.dir, run, { family: 'cgan', steps: 3, ema: { decay: 0.5 } }));
});
after(() => {
  data.done();
  runs.done();
});

test('a finished run holds its generator; it reloads with its metadata and generates labelled images', async () => {
  assert.ok(existsSync(join(run, 'generator', 'model.json')) && existsSync(join(run, 'generator', 'weights.bin')));
  const g = await loadGenerator(join(run, 'generator'));
  assert.equal(g.meta.family, 'cgan');
  assert.equal(g.meta.step, 3);
  assert.deepEqual(g.meta.classes, ['a', 'b']);
  assert.equal(g.meta.conditional, true);
  // A 3-step tiny generator draws near-flat grey; larger weights make its images tell z apart.
  tf.tidy(() => g.model.setWeights(g.model.getWeights().map((w) => tf.mul(w, 6))));
  const before = tf.memory().numTensors;
  const set = generateSet(g, { count: 5, seed: 9, batchSize: 2 });
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(Array.from(set.labels!), [0, 1, 0, 1, 0], 'classes in turn');
  assert.equal(set.count, 5);
  assert.equal(set.read([0]).length, 32 * 32 * 3);
  const again = generateSet(g, { count: 5, seed: 9 });
  assert.deepEqual(again.read([0, 1, 2, 3, 4]), set.read([0, 1, 2, 3, 4]), 'deterministic, whatever the batch size');
  const shard = generateSet(g, { count: 2, first: 3, seed: 9 });
  assert.deepEqual(shard.read([0, 1]), set.read([3, 4]), 'a shard is a slice of the whole');
  assert.deepEqual(Array.from(shard.labels!), [1, 0]);
  const other = generateSet(g, { count: 5, seed: 10 });
  assert.notDeepEqual(other.read([0]), set.read([0]));
  assert.throws(() => generateSet(g, { count: 2, classes: [5] }), /were not trained; this generator makes 0 \(a\), 1 \(b\)/);
  assert.throws(() => generateSet(g, { count: 0 }), /count must be a positive integer/);
  g.model.dispose();
});

test('exporting from the checkpoint gives the same generator as the end of training', async () => {
  const out = join(runs.dir, 'exported');
  await exportRun(run, out);
  const a = await loadGenerator(join(run, 'generator'));
  const b = await loadGenerator(out);
  assert.deepEqual(generateSet(b, { count: 4, seed: 1 }).read([0, 1, 2, 3]), generateSet(a, { count: 4, seed: 1 }).read([0, 1, 2, 3]));
  a.model.dispose();
  b.model.dispose();
});

test('loading something that is not a synthset generator says what to do', async () => {
  const dir = join(runs.dir, 'bad');
  await assert.rejects(loadGenerator(dir), /cannot read a generator.*synthset export/);
  rmSync(dir, { recursive: true, force: true });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [] }));
  await assert.rejects(loadGenerator(dir), /not a synthset generator/);
});
