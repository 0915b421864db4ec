import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../data/test_images.js';
import { initEngine } from '../engine/index.js';
import { predict, trainClassifier, type Classifier } from './classifier.js';
import { classifierFilter } from './filter.js';
import { runTstr } from './tstr.js';
import { shapesSet } from './test_sets.js';
import { headlines } from './evaluate.js';
import { reportHtml } from './report_html.js';
import { concatSets, type ImageSet } from '../data/image_set.js';

const engine = await initEngine();
const slow = engine.backend === 'cpu' ? 'pure-JS cpu backend is ~1000x slower than onednn' : false;
const CLASSIFIER = { epochs: 8, width: 16, batchSize: 32 };

/** A stand-in generator: shapes whose every third image carries the next class's label (a bad draw). */
const bad = (i: number) => i % 3 === 2;
function generator(n: number): ImageSet {
  const s = shapesSet(n, { seed: 3, name: 'generated' });
  return { ...s, labels: Int32Array.from(s.labels!, (l, i) => (bad(i) ? (l + 1) % 4 : l)) };
}

test('the filter keeps what the real-data classifier agrees with, per class up to an equal share, drawing more images as needed', { skip: slow }, async () => {
  const c = trainClassifier(shapesSet(320, { seed: 1 }), { ...CLASSIFIER, seed: 1 });
  try {
    const asked: number[] = [];
    const f = classifierFilter(c, (n) => (asked.push(n), generator(n)), { threshold: 0.7, want: 200 });
    assert.equal(f.quota, 50);
    assert.deepEqual(f.keptPerClass, [50, 50, 50, 50]);
    assert.equal(f.set.count, 200);
    // A third of the draws are mislabelled, so the first 200 cannot fill the quota.
    assert.equal(asked[0], 200);
    assert.ok(asked.length >= 2 && f.candidates > 200 && f.candidates <= 800, `draws ${asked}`);
    const p = predict(c, f.set);
    for (let i = 0; i < f.set.count; i++) assert.ok(p[i * 4 + f.set.labels![i]] >= 0.7, `kept image ${i} has p ${p[i * 4 + f.set.labels![i]]}`);
    // Which generated images were kept: few of the mislabelled ones.
    const all = generator(f.candidates), kept = f.set.read(Array.from({ length: f.set.count }, (_, i) => i));
    const px = 16 * 16;
    const index = new Map<string, number>();
    for (let i = 0; i < all.count; i++) index.set(Buffer.from(all.read([i])).toString('base64'), i);
    const keptBad = Array.from({ length: f.set.count }, (_, i) => index.get(Buffer.from(kept.subarray(i * px, (i + 1) * px)).toString('base64'))!).filter(bad).length;
    assert.ok(keptBad < 0.1 * f.set.count, `${keptBad} of ${f.set.count} kept images are mislabelled (a third of the candidates were)`);

    // A fixed set is filtered as it is, and the cap bounds what a generator is asked for.
    const fixed = classifierFilter(c, () => generator(120), { threshold: 0.7, want: 120 });
    assert.equal(fixed.candidates, 120);
    assert.ok(fixed.set.count < 120 && fixed.set.count >= 60, `${fixed.set.count} of 120 kept`);
    const capped = classifierFilter(c, (n) => generator(n), { threshold: 0.999999, want: 100, maxFactor: 1.5 });
    assert.ok(capped.candidates <= 150, `${capped.candidates} candidates for a cap of 150`);

    assert.throws(() => classifierFilter(c, generator, { threshold: 1, want: 10 }), /threshold must be a probability in \(0, 1\), got 1/);
    assert.throws(() => classifierFilter(c, generator, { threshold: 0.5, want: 0 }), /size must be a positive integer, got 0/);
    assert.throws(() => classifierFilter(c, () => ({ ...generator(8), labels: null }), { threshold: 0.5, want: 8 }), /needs a labelled \(conditional\) synthetic set/);
  } finally {
    c.dispose();
  }
});

test('TSTR reports the filtered set beside the raw one, and filtering mislabelled draws away lifts it', { skip: slow }, async () => {
  const dir = tempDir('synthset-tstr-filter-');
  const train = shapesSet(320, { seed: 1 });
  let c: Classifier | null = null;
  try {
    const r = await runTstr({
      train, test: shapesSet(160, { seed: 2 }), synthetic: generator(320), syntheticSample: generator, seed: 0, outDir: dir.dir,
      progress: () => undefined, options: { seeds: 1, classifier: CLASSIFIER },
      realClassifier: () => (c ??= trainClassifier(train, { ...CLASSIFIER, seed: 1 })),
    });
    assert.ok(r.filtered, 'filtered TSTR is on by default');
    assert.equal(r.filtered.threshold, 0.7);
    assert.equal(r.filtered.trainImages, 320);
    assert.ok(r.filtered.accuracy! > r.accuracy + 0.05, `filtered ${r.filtered.accuracy} vs raw ${r.accuracy}`);
    assert.ok(Math.abs(r.filtered.ratio! - r.filtered.accuracy! / r.trtr.accuracy) < 1e-12);
    assert.match(headlines({ created: 'now', sets: {}, skipped: {}, seconds: {}, tstr: r }).join('\n'), /TSTR on filtered synthetic \d+\.\d% \(ratio \d\.\d+\): 320 of \d+ generated images .* p ≥ 0\.7/);
    const html = await reportHtml({ created: 'now', sets: {}, tstr: r, seconds: { tstr: 1 } }, dir.dir, null);
    assert.match(html, new RegExp(`TSTR on filtered synthetic \\(real-data classifier p ≥ 0.7\\)</th><td>${(100 * r.filtered.accuracy!).toFixed(1)} %`));
    assert.match(html, /<th>TSTR filtered<\/th><th>kept<\/th>/);
  } finally {
    (c as Classifier | null)?.dispose();
    dir.done();
  }
});

test('TSTR keeps the rest of the report when the real-data classifier agrees with no generated image', { skip: slow }, async () => {
  const dir = tempDir('synthset-tstr-filter-none-');
  const train = shapesSet(320, { seed: 1 });
  // Every draw carries the next class's label: the filter has nothing to keep.
  const wrong = (n: number): ImageSet => {
    const s = shapesSet(n, { seed: 3, name: 'generated' });
    return { ...s, labels: Int32Array.from(s.labels!, (l) => (l + 1) % 4) };
  };
  let c: Classifier | null = null;
  try {
    const r = await runTstr({
      train, test: shapesSet(160, { seed: 2 }), synthetic: wrong(320), syntheticSample: wrong, seed: 0, outDir: dir.dir,
      progress: () => undefined, options: { seeds: 1, classifier: CLASSIFIER },
      realClassifier: () => (c ??= trainClassifier(train, { ...CLASSIFIER, seed: 1 })),
    });
    assert.ok(r.accuracy < 0.5, `raw TSTR of mislabelled draws ${r.accuracy}`);
    assert.equal(r.filtered?.accuracy, null);
    assert.match(String(r.filtered?.skipped), /gave no image its own class with p ≥ 0\.7 in 1280 generated images/);
    assert.match(headlines({ created: 'now', sets: {}, skipped: {}, seconds: {}, tstr: r }).join('\n'), /TSTR on filtered synthetic: skipped \(the real-data classifier gave no image/);
    assert.match(await reportHtml({ created: 'now', sets: {}, tstr: r, seconds: { tstr: 1 } }, dir.dir, null), /<td>skipped: the real-data classifier gave no image/);
  } finally {
    (c as Classifier | null)?.dispose();
    dir.done();
  }
});

test('a joined set reads as its parts in order, also nested and for mixed index lists, and refuses mismatched parts', () => {
  const a = shapesSet(5, { seed: 4 }), b = shapesSet(7, { seed: 5 }), c = shapesSet(3, { seed: 6 });
  const ab = concatSets(concatSets(a, b), c);
  assert.equal(ab.count, 15);
  assert.deepEqual(Array.from(ab.labels!), [...a.labels!, ...b.labels!, ...c.labels!]);
  const idx = [14, 0, 6, 4, 5, 12, 2];
  const part = (i: number) => (i < 5 ? a.read([i]) : i < 12 ? b.read([i - 5]) : c.read([i - 12]));
  assert.ok(Buffer.from(ab.read(idx)).equals(Buffer.concat(idx.map((i) => Buffer.from(part(i))))));
  assert.throws(() => concatSets(a, shapesSet(2, { size: 8 })), /compare sets of one size/);
  assert.throws(() => concatSets(a, { ...b, labels: null }), /one is labelled and the other not/);
});

test('evaluate --filter scores the kept set only: mislabelled images are dropped before TSTR and privacy', { skip: slow }, async () => {
  const { copyFileSync, readdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { makeImageFolder } = await import('../data/test_images.js');
  const { evaluate } = await import('./index.js');
  const t = tempDir('synthset-evalfilter-');
  try {
    await makeImageFolder(join(t.dir, 'train'), ['a', 'b'], [12, 12]);
    await makeImageFolder(join(t.dir, 'test'), ['a', 'b'], [6, 6]);
    await makeImageFolder(join(t.dir, 'syn'), ['a', 'b'], [12, 12]);
    // Four of class a's (red) images also filed under b: draws whose class a real-data classifier denies.
    const reds = readdirSync(join(t.dir, 'syn', 'a')).slice(0, 4);
    for (const f of reds) copyFileSync(join(t.dir, 'syn', 'a', f), join(t.dir, 'syn', 'b', `wrong ${f}`));
    const notes: string[] = [];
    const r = await evaluate({
      synthetic: join(t.dir, 'syn'), real: join(t.dir, 'train'), realTest: join(t.dir, 'test'), out: join(t.dir, 'report'),
      metrics: ['tstr', 'privacy'], filter: 0.7, classifier: { images: 1500, width: 8 }, onNote: (m) => notes.push(m),
    });
    const sel = r.filter as { kept: number; candidates: number; keptPerClass: Record<string, number> };
    assert.equal(sel.candidates, 28);
    assert.deepEqual(sel.keptPerClass, { a: 12, b: 12 }, 'the four red images filed as b are dropped, every true one kept');
    assert.equal((r.sets.synthetic as { count: number }).count, 24, 'the metrics saw the kept set');
    assert.ok(!('filtered' in (r.tstr as object)), 'no second filtered TSTR on an already filtered set');
    assert.ok(r.privacy, 'privacy scores the kept set');
    assert.match(headlines(r)[0], /filtered set: 24 of 28 generated images/);
    assert.ok(notes.some((n) => /kept 24 of 28/.test(n)));
  } finally {
    t.done();
  }
});
