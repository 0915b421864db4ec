// The training step shared by sngan and wgan-gp: ndis D updates then one G update, fakes reaching D
// detached and through the pool (with their labels, so pooled fakes keep their own class), every D
// input through DiffAugment, real and fake in one D forward (D has no batch statistics, so this is
// the same loss at one conv pass instead of two; spectral norm's `u` then moves once per update).
// The last D update and the G update share one G forward, as in dcgan's step.
import * as tf from '@tensorflow/tfjs';
import type { GanLoss } from '../losses/index.js';
import { stopGradient } from '../engine/index.js';
import { subSeed } from '../util/random.js';
import type { GanModel, StepContext, TrainBatch } from './family.js';
import { adversarialUpdate, readStats, update, variablesOf, type Scalars } from './step.js';

export { variablesOf };

/** Successive seeds for the layers of one network, all derived from the family's seed. */
export function seeder(seed: number): () => number {
  let k = 0;
  return () => subSeed(seed, 1000 + k++ * 7);
}

/** The z families build 32, 64 and 128 px images (256 px is for the image-to-image families). */
export function zFamilySize(family: string, size: number): 32 | 64 | 128 {
  if (size !== 32 && size !== 64 && size !== 128) throw new Error(`${family} builds 32, 64 or 128 px images, not ${size}.`);
  return size;
}

/** A family option read with a check; `null`/missing falls back to `fallback`. */
export function numOption(o: Record<string, unknown>, key: string, fallback: number, ok: (v: number) => boolean, what: string): number {
  const v = o[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new Error(`Option "${key}" must be ${what}, got ${JSON.stringify(v)}.`);
  return v;
}

/** Whether to condition on labels: option `conditional` true/false, or null = whenever there are >= 2 classes. */
export function resolveConditional(family: string, o: Record<string, unknown>, numClasses: number): boolean {
  const c = o.conditional ?? null;
  if (c !== null && typeof c !== 'boolean') throw new Error(`Option "conditional" must be true, false or null (automatic), got ${JSON.stringify(c)}.`);
  if (c === true && !(numClasses >= 2)) {
    throw new Error(`${family} with conditional: true needs labelled data with at least 2 classes; this data has ${numClasses}.`);
  }
  return c ?? numClasses >= 2;
}

export interface AdversarialParts {
  generator: tf.LayersModel;
  d: tf.LayersModel;
  buildGenerator: () => tf.LayersModel;
  optG: tf.Optimizer;
  optD: tf.Optimizer;
  ndis: number;
  loss: GanLoss;
  /** 0 when unconditional. */
  numClasses: number;
  zDim: number;
  /** Extra D loss on the augmented real and fake batches (the gradient penalty), reported under `name`. */
  penalty?: {
    name: string;
    fn: (critic: (x: tf.Tensor4D) => tf.Tensor, real: tf.Tensor4D, fake: tf.Tensor4D, seed: number) => tf.Scalar;
  };
}

export class AdversarialModel implements GanModel {
  readonly generator: tf.LayersModel;
  readonly nets: Record<string, tf.LayersModel>;
  readonly optimizers: Record<string, tf.Optimizer>;
  readonly ndis: number;
  private readonly gVars: tf.Variable[];
  private readonly dVars: tf.Variable[];

  constructor(private readonly p: AdversarialParts) {
    this.generator = p.generator;
    this.nets = { g: p.generator, d: p.d };
    this.optimizers = { g: p.optG, d: p.optD };
    this.ndis = p.ndis;
    this.gVars = variablesOf(p.generator);
    this.dVars = variablesOf(p.d);
  }

  buildGenerator(): tf.LayersModel {
    return this.p.buildGenerator();
  }

  private oneHot(batch: TrainBatch): tf.Tensor2D | null {
    if (!this.p.numClasses) return null;
    if (!batch.labels) throw new Error('This model is conditional: every training batch needs labels.');
    return tf.cast(tf.oneHot(batch.labels, this.p.numClasses), 'float32') as tf.Tensor2D;
  }

  private discriminate(x: tf.Tensor4D, oneHot: tf.Tensor2D | null): tf.Tensor {
    return this.p.d.apply(oneHot ? [x, oneHot] : x, { training: true }) as tf.Tensor;
  }

  private generate(n: number, oneHot: tf.Tensor2D | null, seed: number): tf.Tensor4D {
    const z = tf.randomNormal([n, this.p.zDim], 0, 1, 'float32', seed) as tf.Tensor2D;
    return this.p.generator.apply(oneHot ? [z, oneHot] : z, { training: true }) as tf.Tensor4D;
  }

  /** The pooled fakes, and their labels: one-hot planes ride through the pool with the images. */
  private pooled(fake: tf.Tensor4D, oneHot: tf.Tensor2D | null, ctx: StepContext, seed: number): [tf.Tensor4D, tf.Tensor2D | null] {
    const free = stopGradient(fake);
    if (!oneHot) return [ctx.pool(free, seed), null];
    const [n, h, w, c] = fake.shape;
    const k = this.p.numClasses;
    const planes = tf.tile(tf.reshape(oneHot, [n, 1, 1, k]), [1, h, w, 1]);
    const mixed = ctx.pool(tf.concat([free, planes], 3) as tf.Tensor4D, seed);
    return [tf.slice(mixed, [0, 0, 0, 0], [-1, -1, -1, c]), tf.reshape(tf.slice(mixed, [0, 0, 0, c], [-1, 1, 1, k]), [-1, k])];
  }

  /** One D update; returns its kept scalars (loss, dReal, dFake and the penalty): the caller disposes them. */
  private updateD(batch: TrainBatch, fake: tf.Tensor4D, oneHot: tf.Tensor2D | null, ctx: StepContext, seed: number): Scalars {
    const [fakes, fakeHot] = this.pooled(fake, oneHot, ctx, subSeed(seed, 1));
    const real = ctx.augment(batch.real, subSeed(seed, 2));
    const fakeAug = ctx.augment(fakes, subSeed(seed, 3));
    const n = real.shape[0];
    const both = tf.concat([real, fakeAug]) as tf.Tensor4D;
    const bothHot = oneHot && fakeHot ? tf.concat([oneHot, fakeHot]) as tf.Tensor2D : null;
    return update({ opt: this.p.optD, vars: this.dVars }, (stat) => {
      const logits = this.discriminate(both, bothHot);
      const r = tf.slice(logits, 0, n), f = tf.slice(logits, n);
      let loss = this.p.loss.d(r, f);
      stat('dReal', tf.mean(r));
      stat('dFake', tf.mean(f));
      const reg = ctx.dOutputs?.(r, f, stat);
      if (reg) loss = tf.add(loss, reg);
      if (this.p.penalty) {
        // The penalty's interpolates pair real and fake samples of the same class, so one label
        // vector serves both (the real batch's; pooled fakes of another class are rare and only
        // shift where the penalty is sampled).
        const pen = this.p.penalty.fn((x) => this.discriminate(x, oneHot), real, fakeAug, subSeed(seed, 5));
        stat(this.p.penalty.name, pen);
        loss = tf.add(loss, pen);
      }
      return loss;
    });
  }

  trainStep(batches: TrainBatch[], ctx: StepContext): Record<string, number> {
    if (batches.length !== this.ndis) throw new Error(`trainStep needs ${this.ndis} batches (ndis), got ${batches.length}.`);
    return readStats(() => {
      for (let i = 0; i < this.ndis - 1; i++) {
        const seed = subSeed(ctx.seed, 10 + i);
        tf.tidy(() => {
          const oneHot = this.oneHot(batches[i]);
          tf.dispose(Object.values(this.updateD(batches[i], this.generate(batches[i].real.shape[0], oneHot, subSeed(seed, 0)), oneHot, ctx, seed)));
        });
      }
      const last = batches[this.ndis - 1];
      const seed = subSeed(ctx.seed, 10 + this.ndis - 1);
      const oneHot = this.oneHot(last);
      return adversarialUpdate({ opt: this.p.optG, vars: this.gVars },
        () => this.generate(last.real.shape[0], oneHot, subSeed(seed, 0)),
        (fake) => this.updateD(last, fake, oneHot, ctx, seed),
        (fake) => this.p.loss.g(this.discriminate(ctx.augment(fake, subSeed(seed, 4)), oneHot)));
    });
  }

  dispose(): void {
    this.p.generator.dispose();
    this.p.d.dispose();
    this.p.optG.dispose();
    this.p.optD.dispose();
  }
}
