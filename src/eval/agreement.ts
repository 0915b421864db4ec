// Classifier agreement: the fixed classifier, trained on real labelled images, labels each synthetic
// image; agreement is the share labelled with the class it was generated for. It says whether the
// generator draws each class recognisably (the real test accuracy beside it is the ceiling to read it
// against), not whether the images are diverse: a generator that repeats one good image per class
// scores 1.
import { score } from './classifier.js';
import { registerMetric, type EvalContext } from './registry.js';

export function classNames(classes: string[], values: (number | null)[]): Record<string, number | null> {
  return Object.fromEntries(classes.map((c, i) => [c, values[i]]));
}

registerMetric({
  name: 'agreement',
  description: 'share of synthetic images a classifier trained on real images assigns to their requested class',
  applies: (ctx: EvalContext) => (ctx.synthetic.labels && ctx.train.labels ? null : 'needs labelled real images and a conditional generator'),
  async run(ctx) {
    const c = ctx.realClassifier();
    const syn = score(c, ctx.synthetic);
    const real = score(c, ctx.test);
    return {
      agreement: syn.accuracy,
      perClass: classNames(c.classes, syn.perClass),
      confusion: syn.confusion,
      classes: c.classes,
      synthetic: syn.count,
      realTestAccuracy: real.accuracy,
      realTestPerClass: classNames(c.classes, real.perClass),
    };
  },
});
