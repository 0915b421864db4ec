import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../data/test_images.js';
import { initEngine } from '../engine/index.js';
import { trainClassifier, type Classifier } from './classifier.js';
import type { EvalContext } from './registry.js';
import { runTstr } from './tstr.js';
import { shapesSet } from './test_sets.js';
import type { ImageSet } from '../data/image_set.js';
import { reportHtml } from './report_html.js';
import { headlines } from './evaluate.js';

const engine = await initEngine();
const slow = engine.backend === 'cpu' ? 'pure-JS cpu backend is ~1000x slower than onednn' : false;
const CLASSIFIER = { epochs: 8, width: 16, batchSize: 32 };

function context(train: ImageSet, test: ImageSet, synthetic: ImageSet, outDir: string): EvalContext & { done(): void } {
  let c: Classifier | null = null;
  return {
    train, test, synthetic, seed: 0, outDir, progress: () => undefined, options: { seeds: 1, classifier: CLASSIFIER, tstrFilter: 0 },
    realClassifier: () => (c ??= trainClassifier(train, { ...CLASSIFIER, seed: 1 })),
    done: () => c?.dispose(),
  };
}

test('TSTR matches TRTR when the synthetic set is fresh data of the same kind, and falls to chance when its labels are wrong', { skip: slow }, async () => {
  const dir = tempDir('synthset-tstr-');
  try {
    const train = shapesSet(320, { seed: 1, name: 'real train' });
    const test = shapesSet(160, { seed: 2, name: 'real test' });
    const good = context(train, test, shapesSet(320, { seed: 3, name: 'good synthetic' }), dir.dir);
    const r = await runTstr(good);
    assert.ok(r.trtr.accuracy > 0.65, `TRTR ${r.trtr.accuracy}`);
    assert.ok(r.ratio !== null && r.ratio > 0.8, `TSTR/TRTR ${r.ratio}`);
    assert.equal(r.confusion.flat().reduce((a, b) => a + b, 0), 160);
    assert.ok(existsSync(join(dir.dir, 'confusion_tstr.png')));
    const html = await reportHtml({ created: 'now', sets: {}, tstr: r, seconds: { tstr: 1 } }, dir.dir, null);
    assert.match(html, /Train on synthetic, test on real/);
    assert.match(html, new RegExp(`${(100 * r.accuracy).toFixed(1)} %`));
    good.done();

    // Labels shifted by one class: a classifier learns the wrong names for every shape.
    const wrong = shapesSet(320, { seed: 3 });
    const bad = context(train, test, { ...wrong, labels: Int32Array.from(wrong.labels!, (l) => (l + 1) % 4) }, dir.dir);
    const rb = await runTstr(bad);
    assert.ok(rb.accuracy < 0.3, `TSTR with wrong labels ${rb.accuracy}`);
    bad.done();
    assert.ok(readFileSync(join(dir.dir, 'confusion_tstr.png')).subarray(1, 4).toString() === 'PNG');
  } finally {
    dir.done();
  }
});

test('TSTR trains on as many synthetic images as there are real ones when a generator can make them', { skip: slow }, async () => {
  const dir = tempDir('synthset-tstr-');
  try {
    const train = shapesSet(160, { seed: 1 }), test = shapesSet(40, { seed: 2 });
    const asked: number[] = [];
    const ctx = context(train, test, shapesSet(40, { seed: 3 }), dir.dir);
    ctx.syntheticSample = (n) => {
      asked.push(n);
      return shapesSet(n, { seed: 3 });
    };
    const r = await runTstr(ctx);
    assert.deepEqual(asked, [160]);
    assert.deepEqual(r.trainImages, { synthetic: 160, real: 160 });
    assert.match(headlines({ created: 'now', sets: {}, skipped: {}, seconds: {}, tstr: r }).join('\n'), /classifiers trained on 160 synthetic \/ 160 real images/);
    // A smaller request than the set in hand keeps the set.
    ctx.options = { ...ctx.options, tstrImages: 10 };
    assert.deepEqual((await runTstr(ctx)).trainImages, { synthetic: 40, real: 160 });
    assert.deepEqual(asked, [160]);
    ctx.done();
  } finally {
    dir.done();
  }
});

test('TSTR refuses a synthetic set whose classes differ from the real ones', async () => {
  const train = shapesSet(8);
  const ctx = context(train, train, { ...train, classes: ['w', 'x', 'y', 'z'] }, '/nonexistent');
  await assert.rejects(runTstr(ctx), /synthetic set's classes \[w, x, y, z\] differ from the real ones \[hbars, vbars, disc, square\]/);
});

test('over several seeds TSTR and TRTR report every run, mean and std, and the headline says so', { skip: slow }, async () => {
  const dir = tempDir('synthset-tstr-seeds-');
  try {
    const ctx = context(shapesSet(160, { seed: 1 }), shapesSet(80, { seed: 2 }), shapesSet(160, { seed: 3 }), dir.dir);
    const r = await runTstr(ctx, { seeds: 2 });
    ctx.done();
    for (const m of [r, r.trtr]) {
      assert.equal(m.runs.length, 2);
      const mean = (m.runs[0] + m.runs[1]) / 2;
      assert.ok(Math.abs(m.accuracy - mean) < 1e-12, `accuracy ${m.accuracy} is the mean of ${m.runs}`);
      assert.ok(Math.abs(m.std - Math.abs(m.runs[0] - m.runs[1]) / Math.SQRT2) < 1e-9, `sample std ${m.std} of ${m.runs}`);
    }
    assert.match(headlines({ tstr: r } as never)[0], /^TSTR \d+\.\d% ± \d+\.\d vs TRTR \d+\.\d% ± \d+\.\d .*, 2 seeds$/);
  } finally {
    dir.done();
  }
});
