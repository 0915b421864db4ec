import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../data/test_images.js';
import { initEngine } from '../engine/index.js';
import { train } from '../train/loop.js';
import { tinyConfig, tinyData } from '../train/test_helpers.js';
import { BUNDLE_FILES, exportBundle } from './bundle.js';
import { generateSet } from './generator.js';
import { loadGenerator } from '../run/generator.js';
import type { BundleManifest } from './manifest.js';

const runs = tempDir('synthset-bundle-');
let run = '';

before(async () => {
  await initEngine();
  const data = await tinyData();
  run = join(runs.dir, 'cgan');
  try {
    await train(tinyConfig(data.dir, run, { family: 'cgan', steps: 3, ema: { decay: 0.5 } }));
  } finally {
    data.done(); // the bundle must not need the training data
  }
});
after(() => runs.done());

test('the bundle holds exactly the generator, manifest, card and page, without the training data present', async () => {
  const out = join(runs.dir, 'bundle');
  const r = await exportBundle(run, out);
  assert.deepEqual(readdirSync(out).sort(), [...BUNDLE_FILES].sort());
  const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as BundleManifest;
  assert.equal(m.family, 'cgan');
  assert.deepEqual(m.input, { kind: 'latent', zDim: 8, conditional: true, classes: 2 });
  assert.deepEqual(m.image, { size: 32, channels: 3 });
  assert.deepEqual(m.classes, ['a', 'b']);
  assert.deepEqual(m.present, [0, 1]);
  assert.equal(m.step, 3);
  assert.equal(m.synthsetVersion, JSON.parse(readFileSync('package.json', 'utf8')).version);
  for (const f of [...m.model, ...m.files]) {
    assert.equal(f.sha256, createHash('sha256').update(readFileSync(join(out, f.path))).digest('hex'), f.path);
  }
  assert.deepEqual(m.model.map((f) => f.path), ['model.json', 'weights.bin']);
  // Only the generator's weights: its layer names, no discriminator's; weights.bin is exactly their size.
  const model = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
  const specs = model.weightsManifest.flatMap((g: { weights: { name: string; shape: number[] }[] }) => g.weights);
  const bytes = specs.reduce((a: number, w: { shape: number[] }) => a + 4 * w.shape.reduce((x, y) => x * y, 1), 0);
  assert.equal(readFileSync(join(out, 'weights.bin')).length, bytes);
  assert.ok(!JSON.stringify(model.modelTopology).match(/discriminator|critic/i), 'no D or critic layer');
  // The same images as the run's own generator.
  const a = await loadGenerator(join(run, 'generator')), b = await loadGenerator(out);
  assert.deepEqual(generateSet(b, { count: 4, seed: 2 }).read([0, 1, 2, 3]), generateSet(a, { count: 4, seed: 2 }).read([0, 1, 2, 3]));
  a.model.dispose(); b.model.dispose();
  const card = readFileSync(join(out, 'MODEL_CARD.md'), 'utf8');
  assert.match(card, /\| a \| \d+ \|/);
  assert.match(card, /has not been evaluated/);
  assert.doesNotMatch(card, /\.png/);
  assert.equal(r.report, null);
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.match(html, /<script src="tf\.min\.js"><\/script>/);
  assert.doesNotMatch(html, /https?:\/\//, 'no network address in the page');
});

test('the model card takes the newest report.json anywhere in the run', async () => {
  const older = join(run, 'evals', 'old'), newer = join(run, 'report');
  mkdirSync(older, { recursive: true }); mkdirSync(newer, { recursive: true });
  writeFileSync(join(older, 'report.json'), JSON.stringify({ created: 'x', sets: {}, skipped: {}, seconds: {}, tstr: { accuracy: 0.111 } }));
  writeFileSync(join(newer, 'report.json'), JSON.stringify({ created: 'y', sets: { synthetic: { name: 's', count: 10 } }, skipped: {}, seconds: {}, tstr: { accuracy: 0.625, trtr: { accuracy: 0.75 } }, privacy: { mia_auc: 0.52 } }));
  utimesSync(join(older, 'report.json'), new Date(1000), new Date(1000));
  const out = join(runs.dir, 'bundle2');
  const r = await exportBundle(run, out);
  assert.equal(r.report, join(newer, 'report.json'));
  const card = readFileSync(join(out, 'MODEL_CARD.md'), 'utf8');
  assert.match(card, /accuracy: 0\.625/);
  assert.match(card, /trtr\.accuracy: 0\.75/);
  assert.match(card, /mia_auc: 0\.52/);
  assert.doesNotMatch(card, /0\.111|not been evaluated/);
  rmSync(join(run, 'evals'), { recursive: true }); rmSync(newer, { recursive: true });
});

test('export refuses a folder holding other files, and a non-run', async () => {
  const busy = join(runs.dir, 'busy');
  mkdirSync(busy);
  writeFileSync(join(busy, 'notes.txt'), 'x');
  await assert.rejects(exportBundle(run, busy), /holds notes\.txt, which a bundle does not/);
  await assert.rejects(exportBundle(busy, join(runs.dir, 'b3')), /not a run dir \(no config\.json\)/);
});
