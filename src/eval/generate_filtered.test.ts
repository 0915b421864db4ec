import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { makeImageFolder, tempDir } from '../data/test_images.js';
import { memorySet } from '../data/image_set.js';
import { initEngine } from '../engine/index.js';
import { train } from '../train/loop.js';
import { tinyConfig, tinyData } from '../train/test_helpers.js';
import { exportBundle } from '../io/bundle.js';
import { loadBundle, type Bundle } from '../io/generate.js';
import { predict } from './classifier.js';
import { generate } from './generate_scored.js';
import { generateFiltered, openFilterClassifier, type FilteredGenerateOptions } from './generate_filtered.js';

const engine = await initEngine();
const slow = engine.backend === 'cpu' ? 'pure-JS cpu backend is ~1000x slower than onednn' : false;
const tmp = tempDir('synthset-generate-filter-');
let data: { dir: string; done: () => void };
let bundle: Bundle, uncond: Bundle;

before(async () => {
  data = await tinyData();
  const run = join(tmp.dir, 'run');
  await train(tinyConfig(data.dir, run, { family: 'cgan', steps: 2, ema: null }));
  bundle = await loadBundle((await exportBundle(run, join(tmp.dir, 'bundle'))).dir);
  bundle.generator.model.dispose();
  bundle.generator.model = colourGenerator();
  const plain = join(tmp.dir, 'plain');
  await train(tinyConfig(data.dir, plain, { steps: 2, ema: null }));
  uncond = await loadBundle((await exportBundle(plain, join(tmp.dir, 'plain-bundle'))).dir);
});
after(() => {
  bundle?.dispose();
  uncond?.dispose();
  data.done();
  tmp.done();
});

/**
 * A stand-in G with known behaviour: a flat image, red (class a's real colour) where s = (a - b) + z0
 * is positive and green (b's) where negative. So ~84 % of each class's draws have its own colour,
 * the rest the other one's or a muddy mix near s = 0.
 */
function colourGenerator(): tf.LayersModel {
  const z = tf.input({ shape: [8] }), label = tf.input({ shape: [2] });
  const h = tf.layers.concatenate().apply([z, label]) as tf.SymbolicTensor;
  const dense = tf.layers.dense({ units: 32 * 32 * 3, activation: 'tanh' });
  const img = tf.layers.reshape({ targetShape: [32, 32, 3] }).apply(dense.apply(h)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: [z, label], outputs: img });
  const kernel = new Float32Array(10 * 3072), bias = new Float32Array(3072);
  for (let px = 0; px < 1024; px++) {
    for (const [ch, sign] of [[0, 3], [1, -3]]) {
      kernel[0 * 3072 + 3 * px + ch] = sign;
      kernel[8 * 3072 + 3 * px + ch] = sign;
      kernel[9 * 3072 + 3 * px + ch] = -sign;
    }
    bias[3 * px + 2] = -3;
  }
  dense.setWeights([tf.tensor2d(kernel, [10, 3072]), tf.tensor1d(bias)]);
  return model;
}

const opts = (out: string, extra: Partial<FilteredGenerateOptions> = {}): FilteredGenerateOptions => ({
  bundle, perClass: 6, real: data.dir, threshold: 0.6, seed: 2, out: join(tmp.dir, out), batchSize: 5, classifierImages: 640, maxFactor: 8, ...extra,
});
const rowsOf = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { file: string; classId: number; index: number; p_class: number });

test('--filter keeps only images the real-data classifier gives their own class with p >= threshold, per class up to --per-class', { skip: slow }, async () => {
  const r = await generateFiltered(opts('full'));
  const rows = rowsOf(r.manifests[1]);
  const byClass = [0, 1].map((c) => rows.filter((x) => x.classId === c).length);
  assert.deepEqual(byClass, [6, 6]);
  assert.deepEqual(r.kept, { a: 6, b: 6 });
  assert.deepEqual(r.short, []);
  // ~16 % of the draws have the wrong colour: 12 kept need more than 12 candidates, but not many more.
  assert.ok(r.candidates > 12 && r.candidates <= 40, `candidates ${r.candidates}`);
  assert.ok(rows.some((x, i) => i > 0 && x.index !== rows[i - 1].index + 1), 'candidates were skipped');
  assert.deepEqual(readdirSync(join(r.out, 'a')).length + readdirSync(join(r.out, 'b')).length, rows.length, 'only kept images are on disk');
  // The saved classifier, on the files as written, gives every kept image its class at p >= 0.6.
  const c = openFilterClassifier(r.out, 32, 3, ['a', 'b']);
  try {
    const bytes = new Uint8Array(rows.length * 3072);
    for (const [j, row] of rows.entries()) bytes.set(await sharp(join(r.out, row.file)).raw().toBuffer(), j * 3072);
    const p = predict(c, memorySet({ name: 'kept', size: 32, channels: 3, classes: ['a', 'b'], labels: Int32Array.from(rows, (x) => x.classId), bytes }));
    rows.forEach((row, j) => {
      assert.ok(p[j * 2 + row.classId] >= 0.6, `${row.file}: p ${p[j * 2 + row.classId]}`);
      // Its own class's colour: red for a, green for b.
      const [red, green] = [bytes[j * 3072], bytes[j * 3072 + 1]];
      assert.ok(row.classId === 0 ? red > green : green > red, `${row.file}: rgb ${red},${green}`);
      assert.ok(Math.abs(p[j * 2 + row.classId] - row.p_class) < 1e-3, `${row.file}: manifest p ${row.p_class} vs ${p[j * 2 + row.classId]}`);
    });
  } finally {
    c.dispose();
  }
});

test('--filter resumes an interrupted run to the same set, and refuses other settings or a damaged classifier', { skip: slow }, async () => {
  const full = await generateFiltered(opts('ref'));
  const ctl = new AbortController();
  let batches = 0;
  const part = await generateFiltered(opts('resumed', { signal: ctl.signal, onProgress: (_d, _t, stage) => { if (stage === 'generate' && ++batches === 3) ctl.abort(); } }));
  assert.equal(part.stopped, true);
  assert.ok(!existsSync(join(part.out, 'manifest.csv')));
  const rest = await generateFiltered(opts('resumed'));
  assert.equal(rest.stopped, false);
  assert.equal(readFileSync(rest.manifests[0], 'utf8'), readFileSync(full.manifests[0], 'utf8'));
  for (const row of rowsOf(full.manifests[1])) assert.ok(readFileSync(join(rest.out, row.file)).equals(readFileSync(join(full.out, row.file))), row.file);

  await assert.rejects(generateFiltered(opts('resumed', { threshold: 0.8 })), /made with threshold 0\.6, not 0\.8: run with the same settings to continue it, or choose another --out/);
  // Neither kind of set mixes into the other's folder.
  await assert.rejects(generate({ bundle, perClass: 2, out: rest.out }), /holds a filtered set \(filter\.json, from generate --filter\)/);
  const plain = await generate({ bundle, perClass: 2, out: join(tmp.dir, 'plain-set') });
  await assert.rejects(generateFiltered(opts('x', { out: plain.out })), /holds an unfiltered set \(generate\.json\): choose another --out/);
  writeFileSync(join(rest.out, 'filter-classifier.bin'), 'x');
  await assert.rejects(generateFiltered(opts('resumed')), /filter-classifier\.bin: the filter's saved classifier is damaged.*delete the folder/);
});

test('--filter refuses an unconditional generator, real images of other classes and a bad threshold', async () => {
  await assert.rejects(generateFiltered(opts('u', { bundle: uncond })), /unconditional generator; --filter .* needs a conditional one/);
  await assert.rejects(generateFiltered(opts('t', { threshold: 1 })), /--filter must be a probability in \(0, 1\), got 1/);
  const other = tempDir('synthset-generate-filter-other-');
  try {
    await makeImageFolder(other.dir, ['x', 'y'], [2, 2]);
    await assert.rejects(generateFiltered(opts('o', { real: other.dir })), /classes \[x, y\] differ from the generator's \[a, b\]/);
  } finally {
    other.done();
  }
});

test('the CLI: generate --filter --real writes the filtered folder; each bad combination is refused with what to do', { skip: slow }, () => {
  const BIN = join(import.meta.dirname, '..', '..', 'bin', 'synthset.js');
  const run = (out: string, ...extra: string[]) => spawnSync(process.execPath,
    [BIN, 'generate', '--bundle', join(tmp.dir, 'bundle'), '--per-class', '2', '--out', join(tmp.dir, out), '--quiet', ...extra], { encoding: 'utf8' });
  const ok = run('cli', '--filter', '0.6', '--real', data.dir, '--classifier-images', '256');
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /images: .*cli \(\d+ kept of \d+ candidates at p ≥ 0\.6; \d+ written now\)/);
  assert.match(readFileSync(join(tmp.dir, 'cli', 'manifest.csv'), 'utf8'), /^file,class,class_id,seed,index,p_class\n/);
  for (const [args, message] of [
    [['--filter', '0.6'], /--filter <p> and --real <images> go together/],
    [['--filter', '1.5', '--real', data.dir], /--filter must be a probability in \(0, 1\) \(e\.g\. 0\.7\), got "1\.5"/],
    [['--filter', '0.6', '--real', data.dir, '--shard', '0/2'], /cannot be split into shards: run it unsharded/],
    [['--classifier-images', '10'], /--classifier-images goes with --filter/],
  ] as const) {
    const r = run('bad', ...args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
