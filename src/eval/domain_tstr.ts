// The CycleGAN experiment as a metric (TSTR/TRTR for a domain): the fixed classifier learns to
// tell A from B on real A + translated B (G applied to A images) only, and is tested on real
// held-out A against real held-out B; beside it, the same classifier trained on real A + real B.
// A translator that truly produces B images scores near the real pair; one that leaves A
// unchanged scores near chance.
import { score, trainClassifier, type ClassifierOptions } from './classifier.js';
import { memorySet, type ImageSet } from '../data/image_set.js';
import { registerMetric, type EvalContext } from './registry.js';

export interface DomainSets {
  trainA: ImageSet;
  trainB: ImageSet;
  /** Domain-A images translated to B by the generator (the run's held-out A, per the experiment). */
  translated: ImageSet;
  testA: ImageSet;
  testB: ImageSet;
}

/** A labelled two-class set: every image of `a` as class A (0), of `b` as class B (1). */
export function twoDomains(a: ImageSet, b: ImageSet, name: string): ImageSet {
  if (a.size !== b.size || a.channels !== b.channels) throw new Error(`${a.name} (${a.size} px x ${a.channels}) and ${b.name} (${b.size} px x ${b.channels}) must have one image shape.`);
  const all = (s: ImageSet) => s.read(Array.from({ length: s.count }, (_, i) => i));
  const bytes = new Uint8Array([...all(a), ...all(b)]);
  const labels = Int32Array.from({ length: a.count + b.count }, (_, i) => (i < a.count ? 0 : 1));
  return memorySet({ name, size: a.size, channels: a.channels, classes: ['A', 'B'], labels, bytes });
}

export interface DomainTstr { tstr: number; trtr: number; ratio: number; perClass: { tstr: (number | null)[]; trtr: (number | null)[] }; testCount: number }

export function domainTstr(s: DomainSets, opts: ClassifierOptions = {}): DomainTstr {
  const test = twoDomains(s.testA, s.testB, 'real held-out A vs B');
  const run = (b: ImageSet, name: string) => {
    // No flips: a domain (smoke, winter) may not be mirror-symmetric in what tells it apart, but
    // flipping never changes it either; keep the classifier's default augmentation.
    const c = trainClassifier(twoDomains(s.trainA, b, name), opts);
    try {
      return score(c, test);
    } finally {
      c.dispose();
    }
  };
  const synth = run(s.translated, 'real A + translated B');
  const real = run(s.trainB, 'real A + real B');
  return {
    tstr: synth.accuracy, trtr: real.accuracy, ratio: real.accuracy > 0 ? synth.accuracy / real.accuracy : 0,
    perClass: { tstr: synth.perClass, trtr: real.perClass }, testCount: test.count,
  };
}

declare module './registry.js' {
  interface EvalContext {
    /** The sets of an unpaired image-to-image run (cyclegan) for the domain TSTR/TRTR pair. */
    domains?: DomainSets;
  }
}

registerMetric({
  name: 'domain-tstr',
  description: 'cyclegan: A-vs-B classifier trained on real A + translated B, tested on real held-out A vs B, beside real A + real B',
  applies: (ctx: EvalContext) => (ctx.domains ? null : 'needs two domains and a translator (a cyclegan run)'),
  async run(ctx: EvalContext) {
    return { ...domainTstr(ctx.domains!, { seed: ctx.seed, ...(ctx.options?.classifier ?? {}) }) };
  },
});
