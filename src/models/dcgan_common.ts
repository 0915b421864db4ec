// What dcgan and cgan share: options, optimizers and the training step. The step follows the
// engine's benchmark DCGAN (src/engine/bench/dcgan.ts): the last D update and the G update share
// one G forward, and gradients are taken over explicit variable lists.
import * as tf from '@tensorflow/tfjs';
import { FusedAdamOptimizer, stopGradient } from '../engine/index.js';
import { subSeed } from '../util/random.js';
import { getLoss, isLossName, lossNames, type GanLoss } from '../losses/index.js';
import type { FamilyContext, GanFamily, GanModel, PrivateStep, StepContext, TrainBatch } from './family.js';
import { adversarialUpdate, readStats, update, variablesOf, type Scalars, type Stat } from './step.js';
import { buildDiscriminator, buildGenerator, discriminatorTakesLabel, type NetShape } from './dcgan_nets.js';

export const DCGAN_DEFAULTS = {
  /** Channels of G's last hidden layer and D's first. */
  width: 64,
  /**
   * D's own base width (0: the same as width). A private run's noise grows with the square root of
   * D's parameter count, so a narrower D than G is a privacy lever.
   */
  dWidth: 0,
  loss: 'bce',
  /** One-sided label smoothing of D's real targets (bce and lsgan only). */
  labelSmoothing: 0,
  lrG: 2e-4,
  lrD: 2e-4,
  beta1: 0.5,
  beta2: 0.999,
  dBatchNorm: false,
  ndis: 1,
  /**
   * Weight of an auxiliary-classifier loss (AC-GAN, Odena et al. 2017; conditional only): D also
   * learns the class of real images, and G is rewarded for fakes that D's classifier gives their
   * own label. Buys class-faithful samples early in a run, which is what train-on-synthetic needs.
   */
  aux: 0,
  /** SNGAN-style conditioning (conditional only): conditional batch-norm in G, a projection head in D. */
  projection: false,
};

export type DcganOptions = typeof DCGAN_DEFAULTS;

function num(o: Record<string, unknown>, key: Exclude<keyof DcganOptions, 'loss' | 'dBatchNorm' | 'projection'>, ok: (v: number) => boolean, what: string): number {
  const v = o[key] ?? DCGAN_DEFAULTS[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new Error(`Option "${key}" must be ${what}, got ${JSON.stringify(v)}.`);
  return v;
}

export function parseOptions(o: Record<string, unknown>): DcganOptions {
  const loss = o.loss ?? DCGAN_DEFAULTS.loss;
  if (!isLossName(loss)) throw new Error(`Option "loss" must be one of ${lossNames().join(', ')}, got ${JSON.stringify(loss)}.`);
  const bool = (key: 'dBatchNorm' | 'projection'): boolean => {
    const v = o[key] ?? DCGAN_DEFAULTS[key];
    if (typeof v !== 'boolean') throw new Error(`Option "${key}" must be true or false, got ${JSON.stringify(v)}.`);
    return v;
  };
  const dBatchNorm = bool('dBatchNorm');
  const opts: DcganOptions = {
    width: num(o, 'width', (v) => Number.isInteger(v) && v >= 1 && v <= 1024, 'an integer in 1..1024'),
    dWidth: num(o, 'dWidth', (v) => Number.isInteger(v) && v >= 0 && v <= 1024, 'an integer in 0..1024 (0: the same as width)'),
    loss,
    labelSmoothing: num(o, 'labelSmoothing', (v) => v >= 0 && v < 1, 'in [0, 1)'),
    lrG: num(o, 'lrG', (v) => v > 0, 'a positive number'),
    lrD: num(o, 'lrD', (v) => v > 0, 'a positive number'),
    beta1: num(o, 'beta1', (v) => v >= 0 && v < 1, 'in [0, 1)'),
    beta2: num(o, 'beta2', (v) => v >= 0 && v < 1, 'in [0, 1)'),
    dBatchNorm,
    ndis: num(o, 'ndis', (v) => Number.isInteger(v) && v >= 1 && v <= 10, 'an integer in 1..10'),
    aux: num(o, 'aux', (v) => v >= 0, 'a number >= 0'),
    projection: bool('projection'),
  };
  if (opts.labelSmoothing > 0 && loss !== 'bce' && loss !== 'lsgan') {
    throw new Error(`Option "labelSmoothing" needs loss bce or lsgan; "${loss}" has no labels to smooth.`);
  }
  return opts;
}

// The pool stores and swaps whole images, so a conditional fake carries its one-hot label inside the
// image tensor: r = ceil(K / (w*c)) extra rows per image. Packed and unpacked with per-image copies in
// JS: slicing channels or rows with tfjs's CPU kernels costs tens of ms per batch. The copies are
// detached from the tape, which is what the pool wants anyway.
export function packLabels(fake: tf.Tensor4D, oneHot: tf.Tensor2D): tf.Tensor4D {
  const [n, h, w, c] = fake.shape, k = oneHot.shape[1], row = w * c, r = Math.ceil(k / row);
  const img = fake.dataSync() as Float32Array, hot = oneHot.dataSync() as Float32Array;
  const per = (h + r) * row, out = new Float32Array(n * per);
  for (let i = 0; i < n; i++) {
    out.set(img.subarray(i * h * row, (i + 1) * h * row), i * per);
    out.set(hot.subarray(i * k, (i + 1) * k), i * per + h * row);
  }
  return tf.tensor4d(out, [n, h + r, w, c]);
}

export function unpackLabels(packed: tf.Tensor4D, h: number, k: number): [tf.Tensor4D, tf.Tensor2D] {
  const [n, hr, w, c] = packed.shape, row = w * c, per = hr * row;
  if (hr !== h + Math.ceil(k / row)) throw new Error(`The image pool changed the fakes' shape to ${JSON.stringify(packed.shape)}.`);
  const src = packed.dataSync() as Float32Array, img = new Float32Array(n * h * row), hot = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    img.set(src.subarray(i * per, i * per + h * row), i * h * row);
    hot.set(src.subarray(i * per + h * row, i * per + h * row + k), i * k);
  }
  return [tf.tensor4d(img, [n, h, w, c]), tf.tensor2d(hot, [n, k])];
}

class Dcgan implements GanModel {
  readonly generator: tf.LayersModel;
  readonly nets: Record<string, tf.LayersModel>;
  readonly optimizers: Record<string, tf.Optimizer>;
  readonly ndis: number;
  private readonly d: tf.LayersModel;
  private readonly loss: GanLoss;
  private readonly gVars: tf.Variable[];
  private readonly dVars: tf.Variable[];
  /** D gets the one-hot label as input planes (cgan); an AC-GAN D sees the image alone. */
  private readonly dTakesLabel: boolean;

  constructor(private readonly shape: NetShape, private readonly opts: DcganOptions) {
    this.generator = buildGenerator(shape);
    this.d = buildDiscriminator(shape);
    this.nets = { g: this.generator, d: this.d };
    this.optimizers = {
      g: new FusedAdamOptimizer(opts.lrG, opts.beta1, opts.beta2),
      d: new FusedAdamOptimizer(opts.lrD, opts.beta1, opts.beta2),
    };
    this.ndis = opts.ndis;
    this.loss = getLoss(opts.loss as Parameters<typeof getLoss>[0]);
    this.gVars = variablesOf(this.generator);
    this.dVars = variablesOf(this.d);
    this.dTakesLabel = discriminatorTakesLabel(shape);
  }

  buildGenerator(): tf.LayersModel {
    return buildGenerator(this.shape);
  }

  private oneHot(batch: TrainBatch): tf.Tensor2D | null {
    if (!this.shape.numClasses) return null;
    if (!batch.labels) throw new Error('This family is conditional: every training batch needs labels.');
    return tf.cast(tf.oneHot(batch.labels, this.shape.numClasses), 'float32') as tf.Tensor2D;
  }

  /** D's adversarial logits, and its class logits when it has the auxiliary classifier. */
  private discriminate(x: tf.Tensor4D, oneHot: tf.Tensor2D | null): { logit: tf.Tensor; cls: tf.Tensor | null } {
    const out = this.d.apply(oneHot && this.dTakesLabel ? [x, oneHot] : x, { training: true }) as tf.Tensor | tf.Tensor[];
    return Array.isArray(out) ? { logit: out[0], cls: out[1] } : { logit: out, cls: null };
  }

  /** `adv` plus the auxiliary classifier's weighted cross-entropy, logged as `name` (`adv` alone without it). */
  private withAux(adv: tf.Scalar, cls: tf.Tensor | null, oneHot: tf.Tensor2D | null, stat: Stat, name: string): tf.Scalar {
    if (!cls || !oneHot) return adv;
    const ce = tf.losses.softmaxCrossEntropy(oneHot, cls) as tf.Scalar;
    stat(name, ce);
    return tf.add(adv, tf.mul(ce, this.opts.aux)) as tf.Scalar;
  }

  /** D's summary of its outputs for the log: mean probability for bce, mean raw score otherwise. */
  private score(logits: tf.Tensor): tf.Scalar {
    return tf.mean(this.opts.loss === 'bce' ? tf.sigmoid(logits) : logits);
  }

  /**
   * One D update on `batch` against `fake`. The fakes reach D detached and through the pool; when
   * conditional, their labels travel with them (packLabels) so pooled fakes keep their own class.
   */
  /** D's fakes through the pool, detached, with the labels they were drawn for. */
  private pooled(fake: tf.Tensor4D, oneHot: tf.Tensor2D | null, ctx: StepContext, seed: number): [tf.Tensor4D, tf.Tensor2D | null] {
    // An AC-GAN D reads no label of a fake, so only a label-taking D needs them carried through the pool.
    if (oneHot && this.dTakesLabel) return unpackLabels(ctx.pool(packLabels(fake, oneHot), subSeed(seed, 1)), fake.shape[1], oneHot.shape[1]);
    return [ctx.pool(stopGradient(fake), subSeed(seed, 1)), oneHot];
  }

  private updateD(batch: TrainBatch, fake: tf.Tensor4D, oneHot: tf.Tensor2D | null, ctx: StepContext, seed: number): Scalars {
    const [fakes, fakeHot] = this.pooled(fake, oneHot, ctx, seed);
    return update({ opt: this.optimizers.d, vars: this.dVars }, (stat) => {
      const r = this.discriminate(ctx.augment(batch.real, subSeed(seed, 2)), oneHot);
      const f = this.discriminate(ctx.augment(fakes, subSeed(seed, 3)), fakeHot);
      stat('dReal', this.score(r.logit));
      stat('dFake', this.score(f.logit));
      let adv = this.loss.d(r.logit, f.logit, { smoothing: this.opts.labelSmoothing });
      const reg = ctx.dOutputs?.(r.logit, f.logit, stat);
      if (reg) adv = tf.add(adv, reg) as tf.Scalar;
      // D's classifier learns from real images only: fakes would teach it their mistakes.
      return this.withAux(adv, r.cls, oneHot, stat, 'dClass');
    });
  }

  private generate(n: number, oneHot: tf.Tensor2D | null, seed: number): tf.Tensor4D {
    const z = tf.randomNormal([n, this.shape.zDim], 0, 1, 'float32', seed) as tf.Tensor2D;
    return this.generator.apply(oneHot ? [z, oneHot] : z, { training: true }) as tf.Tensor4D;
  }

  /** `n` one-hot labels drawn uniformly (a private run's fakes: never the private batch's labels). */
  private uniformHot(n: number, seed: number): tf.Tensor2D | null {
    if (!this.shape.numClasses) return null;
    return tf.cast(tf.oneHot(tf.randomUniform([n], 0, this.shape.numClasses, 'int32', seed) as tf.Tensor1D, this.shape.numClasses), 'float32') as tf.Tensor2D;
  }

  /**
   * A private D update: the real part of D's loss is DP-SGD over the examples (clipped, noised by the
   * loop's mechanism), the fake part an ordinary gradient, since fakes hold no private data. The
   * losses are sums of a real and a fake term, so a constant in the other slot isolates each.
   */
  private privateUpdateD(batch: TrainBatch, dp: PrivateStep, ctx: StepContext, seed: number): Scalars {
    const fakeHot = this.uniformHot(dp.fakes, subSeed(seed, 5));
    const [fakes, fh] = this.pooled(this.generate(dp.fakes, fakeHot, subSeed(seed, 0)), fakeHot, ctx, seed);
    const n = batch.real.shape[0];
    const oneHot = n ? this.oneHot(batch) : null;
    const real = n ? ctx.augment(batch.real, subSeed(seed, 2)) : null;
    const none = tf.zeros([1, 1]);
    const smoothing = { smoothing: this.opts.labelSmoothing };
    const realLogits: tf.Tensor[] = [];
    // One batched pass where D allows it (per_example.ts); the n-fold mean loss is the sum of the examples' losses.
    const batched = n ? dp.batchGradients?.(this.d, this.dVars, oneHot && this.dTakesLabel ? [real!, oneHot] : [real!], (out) =>
      tf.mul(this.withAux(this.loss.d(out[0], none, smoothing), out[1] ?? null, oneHot, () => undefined, 'dClass'), n) as tf.Scalar) : null;
    if (batched) realLogits.push(tf.reshape(batched.outputs[0], [-1]), ...batched.outputs);
    const priv = batched ?? dp.gradients(this.dVars, n, (i) => {
      const hot = oneHot ? (tf.slice(oneHot, [i, 0], [1, -1]) as tf.Tensor2D) : null;
      const r = this.discriminate(tf.slice(real!, [i, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D, hot);
      realLogits.push(tf.keep(tf.reshape(r.logit, [-1])));
      return this.withAux(this.loss.d(r.logit, none, smoothing), r.cls, hot, () => undefined, 'dClass');
    });
    const fakeIn = ctx.augment(fakes, subSeed(seed, 3));
    const nf = fakeIn.shape[0];
    // Fakes hold no private data, but their gradient must not outweigh the clipped real side (left
    // unclipped, a private FMNIST run drove D's score to ~0.02 on real and fake alike): each fake is
    // clipped to C as each real example is, and the sum shares the real side's divisor.
    const fakeSide = dp.clippedSum?.(this.d, fh && this.dTakesLabel ? [fakeIn, fh] : [fakeIn], (out) => tf.mul(this.loss.d(none, out[0], smoothing), nf) as tf.Scalar);
    let fakeLogits: tf.Tensor = none, fakeGrads: tf.NamedTensorMap;
    if (fakeSide) {
      fakeLogits = fakeSide.outputs[0];
      tf.dispose(fakeSide.outputs.slice(1));
      fakeGrads = tf.tidy(() => Object.fromEntries(Object.entries(fakeSide.sums).map(([k, g]) => [k, tf.div(g, dp.fakes)])));
      tf.dispose(Object.values(fakeSide.sums));
    } else {
      // A D that the batched pass cannot handle: the fakes' mean gradient held to norm C instead.
      const { value, grads } = tf.variableGrads(() => {
        fakeLogits = tf.keep(this.discriminate(fakeIn, fh).logit);
        return this.loss.d(none, fakeLogits, smoothing);
      }, this.dVars);
      fakeGrads = tf.tidy(() => {
        const fakeNorm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
        const scale = tf.minimum(1, tf.div(dp.clip, tf.add(fakeNorm, 1e-6)));
        return Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, scale)]));
      });
      tf.dispose([value, ...Object.values(grads)]);
    }
    const total = Object.fromEntries(Object.keys(fakeGrads).map((k) => [k, tf.add(fakeGrads[k], priv.grads[k])]));
    this.optimizers.d.applyGradients(total);
    // For the log (the run dir's, not the release's): D's loss and score on this batch as a whole;
    // an empty Poisson batch reports D's score of a zero logit.
    const r = batched ? realLogits[0] : realLogits.length ? tf.concat(realLogits) : none;
    const out = {
      loss: tf.keep(this.loss.d(r, fakeLogits, smoothing)), dReal: tf.keep(this.score(r)), dFake: tf.keep(this.score(fakeLogits)), dClipped: tf.keep(priv.clippedShare),
    };
    tf.dispose([priv.loss, fakeLogits, ...realLogits, ...Object.values(fakeGrads), ...Object.values(priv.grads), ...Object.values(total)]);
    return out;
  }

  private privateStep(batches: TrainBatch[], ctx: StepContext, dp: PrivateStep): Scalars {
    let d: Scalars = {};
    for (let i = 0; i < this.ndis; i++) {
      tf.dispose(Object.values(d));
      d = this.privateUpdateD(batches[i], dp, ctx, subSeed(ctx.seed, 10 + i));
    }
    const seed = subSeed(ctx.seed, 10 + this.ndis - 1);
    const hot = this.uniformHot(dp.fakes, subSeed(seed, 6));
    const { loss: lossG, ...gStats } = update({ opt: this.optimizers.g, vars: this.gVars }, (stat) => {
      const out = this.discriminate(ctx.augment(this.generate(dp.fakes, hot, subSeed(seed, 7)), subSeed(seed, 4)), hot);
      return this.withAux(this.loss.g(out.logit), out.cls, hot, stat, 'gClass');
    });
    const { loss: lossD, ...dStats } = d;
    return { lossD, lossG, ...dStats, ...gStats };
  }

  trainStep(batches: TrainBatch[], ctx: StepContext): Record<string, number> {
    if (batches.length !== this.ndis) throw new Error(`trainStep needs ${this.ndis} batches (ndis), got ${batches.length}.`);
    if (ctx.dp) return readStats(() => this.privateStep(batches, ctx, ctx.dp!));
    return readStats(() => {
      for (let i = 0; i < this.ndis - 1; i++) {
        const seed = subSeed(ctx.seed, 10 + i);
        const oneHot = this.oneHot(batches[i]);
        tf.tidy(() => {
          tf.dispose(Object.values(this.updateD(batches[i], this.generate(batches[i].real.shape[0], oneHot, subSeed(seed, 0)), oneHot, ctx, seed)));
        });
      }
      const last = batches[this.ndis - 1];
      const seed = subSeed(ctx.seed, 10 + this.ndis - 1);
      const oneHot = this.oneHot(last);
      return adversarialUpdate({ opt: this.optimizers.g, vars: this.gVars },
        () => this.generate(last.real.shape[0], oneHot, subSeed(seed, 0)),
        (fake) => this.updateD(last, fake, oneHot, ctx, seed),
        (fake, stat) => {
          const out = this.discriminate(ctx.augment(fake, subSeed(seed, 4)), oneHot);
          return this.withAux(this.loss.g(out.logit), out.cls, oneHot, stat, 'gClass');
        });
    });
  }

  dispose(): void {
    this.generator.dispose();
    this.d.dispose();
    this.optimizers.g.dispose();
    this.optimizers.d.dispose();
  }
}

export function dcganFamily(name: string, description: string, conditional: boolean): GanFamily {
  return {
    name,
    description,
    conditional,
    private: true,
    defaults: { ...DCGAN_DEFAULTS },
    build(ctx: FamilyContext): GanModel {
      if (![32, 64, 128].includes(ctx.size)) throw new Error(`${name} builds 32, 64 or 128 px images, not ${ctx.size}.`);
      if (ctx.channels !== 1 && ctx.channels !== 3) throw new Error(`${name} builds 1- or 3-channel images, not ${ctx.channels}.`);
      if (!Number.isInteger(ctx.zDim) || ctx.zDim < 1) throw new Error(`${name}: zDim must be a positive integer, got ${ctx.zDim}.`);
      if (conditional && !(Number.isInteger(ctx.numClasses) && ctx.numClasses >= 2)) {
        throw new Error(`${name} is conditional and needs labelled data with at least 2 classes; this data has ${ctx.numClasses}.`);
      }
      const opts = parseOptions(ctx.options);
      if (ctx.private && opts.dBatchNorm) throw new Error(`${name}: a private run's D cannot use batch norm (it mixes the examples of a batch, so no single example's influence is bounded): set dBatchNorm=false.`);
      if (opts.aux > 0 && !conditional) throw new Error(`${name}: option "aux" (an auxiliary classifier) needs a conditional family such as cgan.`);
      if (opts.projection && !conditional) throw new Error(`${name}: option "projection" (class-conditional batch-norm and a projection head) needs a conditional family such as cgan.`);
      return new Dcgan({
        size: ctx.size as 32 | 64 | 128, channels: ctx.channels, zDim: ctx.zDim, numClasses: conditional ? ctx.numClasses : 0,
        width: opts.width, dWidth: opts.dWidth || undefined, dBatchNorm: opts.dBatchNorm, seed: ctx.seed, auxClassifier: opts.aux > 0, projection: opts.projection,
      }, opts);
    },
  };
}
