// SNGAN (Miyato et al. 2018) with a projection discriminator (Miyato & Koyama 2018): a ResNet
// generator with conditional batch-norm (plain batch-norm when unconditional), a ResNet
// discriminator with spectral normalisation on every weight and a projection head, hinge loss.
// Widths follow the papers' 32 / 64 / 128 px networks and scale with gWidth / dWidth.
import * as tf from '@tensorflow/tfjs';
import { FusedAdamOptimizer } from '../engine/index.js';
import { getLoss, isLossName, lossNames } from '../losses/index.js';
import { ConditionalBatchNorm } from '../layers/conditional_batch_norm.js';
import { GlobalSumPooling2D, ProjectionHead } from '../layers/projection.js';
import { SNConv2D } from '../layers/spectral_norm.js';
import { registerFamily, type FamilyContext, type GanFamily } from './family.js';
import { AdversarialModel, numOption, resolveConditional, seeder, zFamilySize } from './adversarial.js';

type Sym = tf.SymbolicTensor;
type Size = 32 | 64 | 128;

/** `null` = from the preset (optimiser, ndis) or from the resolution (widths). */
export const SNGAN_DEFAULTS: Record<string, unknown> = {
  /** 'default': Adam(2e-4, 0.5, 0.999), ndis 1 (fast on small data); 'paper': Adam(2e-4, 0, 0.9), ndis 5. */
  preset: 'default',
  loss: 'hinge',
  /** Base channels of G / D (per-resolution multipliers below); null = 256/128 at 32 px, 64/64 above. */
  gWidth: null,
  dWidth: null,
  lrG: null,
  lrD: null,
  beta1: null,
  beta2: null,
  ndis: null,
  /** true / false, or null: conditional whenever the data has >= 2 classes. */
  conditional: null,
};

export const SNGAN_PRESETS = {
  default: { lrG: 2e-4, lrD: 2e-4, beta1: 0.5, beta2: 0.999, ndis: 1 },
  paper: { lrG: 2e-4, lrD: 2e-4, beta1: 0, beta2: 0.9, ndis: 5 },
} as const;

/** Channel multipliers: G's initial 4x4 map then each up block; D's blocks (all but the last halve the size, plus one at 32 px). */
const G_MULT: Record<Size, number[]> = { 32: [1, 1, 1, 1], 64: [8, 8, 4, 2, 1], 128: [16, 16, 8, 4, 2, 1] };
const D_MULT: Record<Size, number[]> = { 32: [1, 1, 1, 1], 64: [1, 2, 4, 8, 16], 128: [1, 2, 4, 8, 16, 16] };
const D_DOWN: Record<Size, boolean[]> = {
  32: [true, true, false, false], 64: [true, true, true, true, false], 128: [true, true, true, true, true, false],
};

export interface SnganShape {
  size: Size;
  channels: 1 | 3;
  zDim: number;
  /** 0 = unconditional. */
  numClasses: number;
  gWidth: number;
  dWidth: number;
  seed: number;
}

const relu = (x: Sym) => tf.layers.reLU().apply(x) as Sym;
const up = (x: Sym) => tf.layers.upSampling2d({ size: [2, 2] }).apply(x) as Sym;
const down = (x: Sym) => tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'valid' }).apply(x) as Sym;
const add = (a: Sym, b: Sym) => tf.layers.add().apply([a, b]) as Sym;

export function buildSnganGenerator(s: SnganShape): tf.LayersModel {
  const next = seeder(s.seed);
  const widths = G_MULT[s.size].map((m) => m * s.gWidth);
  const z = tf.input({ shape: [s.zDim], name: 'z' });
  const y = s.numClasses ? tf.input({ shape: [s.numClasses], name: 'labels' }) : null;
  const conv = (x: Sym, filters: number, k: number) => tf.layers.conv2d({
    filters, kernelSize: k, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: next() }),
  }).apply(x) as Sym;
  const cbn = (x: Sym) => new ConditionalBatchNorm({ numClasses: s.numClasses }).apply(y ? [x, y] : x) as Sym;
  let h = tf.layers.dense({ units: 16 * widths[0], kernelInitializer: tf.initializers.glorotUniform({ seed: next() }) }).apply(z) as Sym;
  h = tf.layers.reshape({ targetShape: [4, 4, widths[0]] }).apply(h) as Sym;
  for (const cout of widths.slice(1)) {
    let r = conv(up(relu(cbn(h))), cout, 3);
    r = conv(relu(cbn(r)), cout, 3);
    h = add(r, conv(up(h), cout, 1));
  }
  h = relu(new ConditionalBatchNorm({ numClasses: 0 }).apply(h) as Sym);
  h = tf.layers.activation({ activation: 'tanh' }).apply(conv(h, s.channels, 3)) as Sym;
  return tf.model({ inputs: y ? [z, y] : z, outputs: h, name: 'sngan_g' });
}

export function buildSnganDiscriminator(s: SnganShape): tf.LayersModel {
  const next = seeder(s.seed + 1);
  const widths = D_MULT[s.size].map((m) => m * s.dWidth);
  const downs = D_DOWN[s.size];
  const x = tf.input({ shape: [s.size, s.size, s.channels], name: 'image' });
  const y = s.numClasses ? tf.input({ shape: [s.numClasses], name: 'labels' }) : null;
  const conv = (t: Sym, filters: number, k: number) => new SNConv2D({ filters, kernelSize: k, seed: next() }).apply(t) as Sym;
  // The first block sees images, not activations: no ReLU before its first conv, pool before the shortcut conv.
  let h = add(down(conv(relu(conv(x, widths[0], 3)), widths[0], 3)), conv(down(x), widths[0], 1));
  let cin = widths[0];
  widths.slice(1).forEach((cout, i) => {
    const d = downs[i + 1];
    let r = conv(relu(conv(relu(h), cout, 3)), cout, 3);
    let sc = cin !== cout || d ? conv(h, cout, 1) : h;
    if (d) { r = down(r); sc = down(sc); }
    h = add(r, sc);
    cin = cout;
  });
  const feats = new GlobalSumPooling2D({}).apply(relu(h)) as Sym;
  const head = new ProjectionHead({ numClasses: s.numClasses, spectral: true, seed: next() });
  const logit = head.apply(y ? [feats, y] : feats) as Sym;
  return tf.model({ inputs: y ? [x, y] : x, outputs: logit, name: 'sngan_d' });
}

export const sngan: GanFamily = {
  name: 'sngan',
  description: 'SNGAN with projection discriminator: ResNet G with conditional batch-norm, spectrally normalised ResNet D, hinge loss.',
  conditional: (o, dataClasses) => o.conditional === true || (o.conditional == null && dataClasses >= 2),
  defaults: SNGAN_DEFAULTS,
  build(ctx: FamilyContext) {
    if (![32, 64, 128].includes(ctx.size)) throw new Error(`sngan builds 32, 64 or 128 px images, not ${ctx.size}.`);
    if (ctx.channels !== 1 && ctx.channels !== 3) throw new Error(`sngan builds 1- or 3-channel images, not ${ctx.channels}.`);
    if (!(Number.isInteger(ctx.zDim) && ctx.zDim >= 1)) throw new Error(`sngan: zDim must be a positive integer, got ${ctx.zDim}.`);
    const o = ctx.options;
    const presetName = o.preset ?? 'default';
    if (presetName !== 'default' && presetName !== 'paper') throw new Error(`Option "preset" must be "default" or "paper", got ${JSON.stringify(presetName)}.`);
    const p = SNGAN_PRESETS[presetName];
    const loss = o.loss ?? 'hinge';
    if (!isLossName(loss)) throw new Error(`Option "loss" must be one of ${lossNames().join(', ')}, got ${JSON.stringify(loss)}.`);
    const width = (k: string, dflt: number) => numOption(o, k, dflt, (v) => Number.isInteger(v) && v >= 1 && v <= 2048, 'an integer in 1..2048');
    const rate = (k: string, dflt: number) => numOption(o, k, dflt, (v) => v > 0 && v < 1, 'in (0, 1)');
    const beta = (k: string, dflt: number) => numOption(o, k, dflt, (v) => v >= 0 && v < 1, 'in [0, 1)');
    const shape: SnganShape = {
      size: zFamilySize('sngan', ctx.size), channels: ctx.channels, zDim: ctx.zDim, seed: ctx.seed,
      numClasses: resolveConditional('sngan', o, ctx.numClasses) ? ctx.numClasses : 0,
      gWidth: width('gWidth', ctx.size === 32 ? 256 : 64),
      dWidth: width('dWidth', ctx.size === 32 ? 128 : 64),
    };
    const b1 = beta('beta1', p.beta1), b2 = beta('beta2', p.beta2);
    return new AdversarialModel({
      generator: buildSnganGenerator(shape),
      d: buildSnganDiscriminator(shape),
      buildGenerator: () => buildSnganGenerator(shape),
      optG: new FusedAdamOptimizer(rate('lrG', p.lrG), b1, b2),
      optD: new FusedAdamOptimizer(rate('lrD', p.lrD), b1, b2),
      ndis: numOption(o, 'ndis', p.ndis, (v) => Number.isInteger(v) && v >= 1 && v <= 10, 'an integer in 1..10'),
      loss: getLoss(loss),
      numClasses: shape.numClasses,
      zDim: ctx.zDim,
    });
  },
};

registerFamily(sngan);
