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
import { confusionSvg } from './plots.js';
import type { ImageSet } from '../data/image_set.js';
import { registerMetric, type EvalContext } from './registry.js';

export interface TstrOptions { seeds: number }

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
  const synthetic = ctx.syntheticSample && want > ctx.synthetic.count ? ctx.syntheticSample(want) : ctx.synthetic;
  const tstr: Scores[] = [], trtr: Scores[] = [];
  for (let s = 0; s < o.seeds; s++) {
    const seed = ctx.seed + 1 + s, of = `seed ${s + 1}/${o.seeds}`;
    tstr.push(trainAndScore(ctx, synthetic, seed, `tstr: classifier on synthetic, ${of}`));
    // The first seed's real classifier is the shared one (agreement and the domain features use it).
    trtr.push(s === 0 ? score(ctx.realClassifier(), ctx.test) : trainAndScore(ctx, ctx.train, seed, `trtr: classifier on real, ${of}`));
  }
  const t = summary(tstr, classes), r = summary(trtr, classes);
  mkdirSync(ctx.outDir, { recursive: true });
  const png = await sharp(Buffer.from(confusionSvg(t.confusion, classes, 'TSTR: classifier trained on synthetic, tested on real'))).png().toBuffer();
  writeAtomic(join(ctx.outDir, 'confusion_tstr.png'), png);
  return { ...t, trtr: r, ratio: r.accuracy > 0 ? t.accuracy / r.accuracy : null, classes, testImages: ctx.test.count, trainImages: { synthetic: synthetic.count, real: ctx.train.count }, confusionPng: 'confusion_tstr.png', seeds: o.seeds };
}

registerMetric({
  name: 'tstr',
  description: 'accuracy on real held-out images of a classifier trained on the synthetic set (TSTR), beside the same classifier trained on real images (TRTR)',
  topLevel: ['trtr', 'confusion'],
  applies: (ctx) => (ctx.synthetic.labels && ctx.train.labels && ctx.test.labels ? null : 'needs labelled real images and a conditional (labelled) synthetic set'),
  run: (ctx) => runTstr(ctx, { seeds: ctx.options?.seeds ?? 1 }),
});
