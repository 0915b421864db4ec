// Per-class training (`--per-class`): one unconditional model of a family per class, trained side by
// side by the one loop. Each loop step is one step of every class's model on a batch of its own class
// (the stream hands them over as one batch, class after class, `batchSize` images each), so `steps`
// counts steps of each model. The generators are joined into one conditional generator (ClassSelect
// picks each sample's own class), which is what samples, EMA, checkpoints, export and generate see.
import * as tf from '@tensorflow/tfjs';
import { ClassSelect } from '../layers/class_select.js';
import { mixSeed } from '../util/random.js';
import type { FamilyContext, GanFamily, GanModel, StepContext, TrainBatch } from './family.js';

/** Joins generators (one per class of `classes`) into one taking [z, one-hot over `numClasses`]. */
export function joinGenerators(gens: tf.LayersModel[], classes: number[], numClasses: number, zDim: number): tf.LayersModel {
  // Layer names must be unique at the top level; each generator is named by its class.
  gens.forEach((g, j) => {
    (g as unknown as { name: string }).name = `generator_class${classes[j]}`;
  });
  const z = tf.input({ shape: [zDim], name: 'z' });
  const hot = tf.input({ shape: [numClasses], name: 'label' });
  const outs = gens.map((g) => g.apply(z) as tf.SymbolicTensor);
  const out = new ClassSelect({ classes, name: 'class_select' }).apply([hot, ...outs]) as tf.SymbolicTensor;
  return tf.model({ inputs: [z, hot], outputs: out, name: 'per_class_generator' });
}

class PerClassModel implements GanModel {
  readonly generator: tf.LayersModel;
  readonly nets: Record<string, tf.LayersModel>;
  readonly optimizers: Record<string, tf.Optimizer>;
  readonly ndis: number;
  readonly poolNames: string[];

  constructor(private readonly subs: GanModel[], private readonly classes: number[], private readonly ctx: FamilyContext) {
    this.generator = joinGenerators(subs.map((s) => s.generator), classes, ctx.numClasses, ctx.zDim);
    const each = <T>(pick: (s: GanModel) => Record<string, T>) =>
      Object.fromEntries(subs.flatMap((s, j) => Object.entries(pick(s)).map(([k, v]) => [`${k}@${classes[j]}`, v])));
    this.nets = each((s) => s.nets);
    this.optimizers = each((s) => s.optimizers);
    this.ndis = subs[0].ndis;
    // Fakes of one class must never reach another class's D: every model gets its own pools.
    this.poolNames = subs.flatMap((s, j) => ['', ...(s.poolNames ?? [])].map((n) => `${n}@${classes[j]}`));
  }

  buildGenerator(): tf.LayersModel {
    return joinGenerators(this.subs.map((s) => s.buildGenerator()), this.classes, this.ctx.numClasses, this.ctx.zDim);
  }

  trainStep(batches: TrainBatch[], ctx: StepContext): Record<string, number> {
    const m = this.classes.length;
    const sums: Record<string, number> = {};
    this.subs.forEach((sub, j) => {
      const own = batches.map((b) => {
        const n = b.real.shape[0] / m;
        if (!Number.isInteger(n)) throw new Error(`A per-class batch holds ${b.real.shape[0]} images, not ${m} classes x the batch size.`);
        return { real: tf.slice(b.real, j * n, n), labels: null };
      });
      const cls = this.classes[j];
      try {
        const v = sub.trainStep(own, {
          ...ctx, seed: mixSeed(ctx.seed, 0x9c1a, cls),
          pool: (x, seed, name) => ctx.pool(x, seed, `${name ?? ''}@${cls}`),
        });
        for (const [k, x] of Object.entries(v)) sums[k] = (sums[k] ?? 0) + x / m;
      } finally {
        tf.dispose(own.map((b) => b.real));
      }
    });
    return sums;
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}

/**
 * `base` trained per class: `present` are the class ids with training images. The context's
 * numClasses is the data's class count (the joined generator's one-hot width).
 */
export function perClassFamily(base: GanFamily, present: number[]): GanFamily {
  if (base.conditional === true) throw new Error(`--per-class trains one unconditional model per class; ${base.name} is always conditional: use dcgan, sngan or wgan-gp.`);
  if ((base.data ?? 'images') !== 'images') throw new Error(`--per-class trains z families on an ImageFolder; ${base.name} trains on ${base.data} data.`);
  return {
    ...base,
    conditional: true,
    private: false,
    build(ctx) {
      const subs: GanModel[] = [];
      try {
        for (const cls of present) {
          subs.push(base.build({ ...ctx, numClasses: 0, seed: mixSeed(ctx.seed, 0x9c1a, cls), options: { ...ctx.options, ...('conditional' in base.defaults ? { conditional: false } : {}) } }));
        }
        return new PerClassModel(subs, present, ctx);
      } catch (err) {
        for (const s of subs) s.dispose();
        throw err;
      }
    },
  };
}
