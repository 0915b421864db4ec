// Train on synthetic, test on real (TSTR) beside train on real, test on real (TRTR): the same fixed
// classifier (classifier.ts) trained once on the synthetic set and once on the real training set,
// both scored on the real held-out images. TSTR/TRTR near 1 means the synthetic set can stand in
// for the real one for this learner. With `seeds` > 1 both are repeated with other seeds and
// reported as mean ± std, since a few points of accuracy is within one seed's noise.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeAtomic } from '../util/atomic.js';
import { score, trainClassifier, type Scores } from './classifier.js';
import { classNames } from './agreement.js';
import { classifierFilter } from './filter.js';
import { confusionSvg } from './plots.js';
import type { ImageSet } from '../data/image_set.js';
import { registerMetric, type EvalContext } from './registry.js';

export interface TstrOptions { seeds: number }

/** The seeds' selection: keep fakes the real-data classifier gives their own class with p ≥ 0.7. */
export const TSTR_FILTER_DEFAULT = 0.7;

/**
 * TSTR once more on the synthetic images the real-data classifier agrees with (filter.ts), as many as
 * the raw set: raw and filtered side by side say how much of the gap is images that do not look
 * like their class. The filter sees the real training images only through that classifier.
 */
function runFiltered(ctx: EvalContext, want: number, threshold: number, seeds: number, trtr: number) {
  const draw = (n: number) => (ctx.syntheticSample ? ctx.syntheticSample(n) : ctx.synthetic);
  const f = classifierFilter(ctx.realClassifier(), draw, { threshold, want: ctx.syntheticSample ? want : Math.min(want, ctx.synthetic.count) });
  const base = { threshold, candidates: f.candidates, trainImages: f.set.count, keptPerClass: classNames(ctx.train.classes, f.keptPerClass), quota: f.quota };
  // A generator whose images the real-data classifier (almost) never agrees with leaves nothing to
  // train on: a finding to report, not a reason to lose the rest of the report.
  const classesKept = f.keptPerClass.filter((n) => n > 0).length;
  if (classesKept < 2) return { ...base, accuracy: null, ratio: null, skipped: `the real-data classifier gave ${classesKept ? 'only one class' : 'no image'} its own class with p ≥ ${threshold} in ${f.candidates} generated images` };
  const runs = Array.from({ length: seeds }, (_, s) => trainAndScore(ctx, f.set, ctx.seed + 1 + s, `tstr: classifier on filtered synthetic, seed ${s + 1}/${seeds}`));
  const m = summary(runs, ctx.train.classes);
  return { ...base, accuracy: m.accuracy, std: m.std, runs: m.runs, ratio: trtr > 0 ? m.accuracy / trtr : null, perClass: m.perClass };
}

function summary(runs: Scores[], classes: string[]) {
  const acc = runs.map((r) => r.accuracy);
  const mean = acc.reduce((a, b) => a + b, 0) / acc.length;
  const std = acc.length > 1 ? Math.sqrt(acc.reduce((a, b) => a + (b - mean) ** 2, 0) / (acc.length - 1)) : 0;
  return { accuracy: mean, std, runs: acc, perClass: classNames(classes, runs[0].perClass), confusion: runs[0].confusion };
}

/** The fixed classifier trained on `set`, scored on the real held-out images, then freed. */
function trainAndScore(ctx: EvalContext, set: ImageSet, seed: number, stage: string): Scores {
  const c = trainClassifier(set, { ...ctx.options?.classifier, seed, onProgress: (e) => ctx.progress(stage, e.done, e.total) });
  try {
    return score(c, ctx.test);
  } finally {
    c.dispose();
  }
}

export async function runTstr(ctx: EvalContext, o: TstrOptions = { seeds: 1 }) {
  const classes = ctx.train.classes;
  if (ctx.synthetic.classes.join('\n') !== classes.join('\n')) {
    throw new Error(`TSTR: the synthetic set's classes [${ctx.synthetic.classes.join(', ')}] differ from the real ones [${classes.join(', ')}].`);
  }
  // As many distinct synthetic images as the real classifier gets real ones (the CAS protocol of
  // Ravuri & Vinyals 2019), when a generator can make them: with fewer, the synthetic classifier
  // sees each image many times and learns the set's quirks (FMNIST cgan: 10k -> 60k images, +0.6
  // points of TSTR). The other metrics keep the smaller set.
  const want = ctx.options?.tstrImages ?? ctx.train.count;
  const threshold = ctx.options?.tstrFilter ?? TSTR_FILTER_DEFAULT;
  const synthetic = ctx.syntheticSample && want > ctx.synthetic.count ? ctx.syntheticSample(want) : ctx.synthetic;
  const tstr: Scores[] = [], trtr: Scores[] = [];
  for (let s = 0; s < o.seeds; s++) {
    const seed = ctx.seed + 1 + s, of = `seed ${s + 1}/${o.seeds}`;
    tstr.push(trainAndScore(ctx, synthetic, seed, `tstr: classifier on synthetic, ${of}`));
    // The first seed's real classifier is the shared one (agreement and the domain features use it).
    trtr.push(s === 0 ? score(ctx.realClassifier(), ctx.test) : trainAndScore(ctx, ctx.train, seed, `trtr: classifier on real, ${of}`));
  }
  const t = summary(tstr, classes), r = summary(trtr, classes);
  const filtered = threshold > 0 ? runFiltered(ctx, want, threshold, o.seeds, r.accuracy) : null;
  mkdirSync(ctx.outDir, { recursive: true });
  const png = await sharp(Buffer.from(confusionSvg(t.confusion, classes, 'TSTR: classifier trained on synthetic, tested on real'))).png().toBuffer();
  writeAtomic(join(ctx.outDir, 'confusion_tstr.png'), png);
  return { ...t, trtr: r, ratio: r.accuracy > 0 ? t.accuracy / r.accuracy : null, ...(filtered ? { filtered } : {}), classes, testImages: ctx.test.count, trainImages: { synthetic: synthetic.count, real: ctx.train.count }, confusionPng: 'confusion_tstr.png', seeds: o.seeds };
}

registerMetric({
  name: 'tstr',
  description: 'accuracy on real held-out images of a classifier trained on the synthetic set (TSTR), beside the same classifier trained on real images (TRTR)',
  topLevel: ['trtr', 'confusion'],
  applies: (ctx) => (ctx.synthetic.labels && ctx.train.labels && ctx.test.labels ? null : 'needs labelled real images and a conditional (labelled) synthetic set'),
  run: (ctx) => runTstr(ctx, { seeds: ctx.options?.seeds ?? 1 }),
});
