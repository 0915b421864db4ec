// WGAN-GP (Gulrajani et al. 2017): Wasserstein loss with a gradient penalty (lambda 10) on a
// critic without batch-norm (the penalty is per sample; batch statistics would couple samples and
// the fused batch-norm is not twice differentiable), layer norm or no norm instead; five critic
// updates per G update. DCGAN-shaped networks (the paper's own 32/64 px choice besides ResNets):
// transposed-conv G with batch-norm, strided-conv critic. Conditional (labels as one-hot next to z,
// and a projection head in the critic) when the data has >= 2 classes, unless turned off.
import * as tf from '@tensorflow/tfjs';
import { FusedAdamOptimizer } from '../engine/index.js';
import { getLoss, gradientPenalty } from '../losses/index.js';
import { SynthsetBatchNorm } from '../layers/batch_norm.js';
import { LayerNorm2D } from '../layers/layer_norm.js';
import { ProjectionHead } from '../layers/projection.js';
import { registerFamily, type FamilyContext, type GanFamily } from './family.js';
import { AdversarialModel, numOption, resolveConditional, seeder, zFamilySize } from './adversarial.js';

type Sym = tf.SymbolicTensor;

export const WGAN_GP_DEFAULTS: Record<string, unknown> = {
  /** Channels of G's last hidden layer and the critic's first (doubling per resolution step, at most 8x). */
  width: 64,
  /** Critic normalisation: 'layer' (over each sample's feature map) or 'none'. */
  norm: 'layer',
  lambda: 10,
  lrG: 1e-4,
  lrD: 1e-4,
  beta1: 0.5,
  beta2: 0.9,
  ndis: 5,
  /** true / false, or null: conditional whenever the data has >= 2 classes. */
  conditional: null,
};

export interface WganShape {
  size: 32 | 64 | 128;
  channels: 1 | 3;
  zDim: number;
  numClasses: number;
  width: number;
  norm: 'layer' | 'none';
  seed: number;
}

/** Channels per layer from the critic's first (largest map) to its last 4x4 map. */
function widths(s: WganShape): number[] {
  const n = Math.log2(s.size / 4);
  return Array.from({ length: n }, (_, i) => s.width * Math.min(2 ** i, 8));
}

export function buildWganGenerator(s: WganShape): tf.LayersModel {
  const next = seeder(s.seed);
  const ws = widths(s).reverse();
  const z = tf.input({ shape: [s.zDim], name: 'z' });
  const y = s.numClasses ? tf.input({ shape: [s.numClasses], name: 'labels' }) : null;
  const init = () => tf.initializers.glorotUniform({ seed: next() });
  const bnRelu = (t: Sym) => tf.layers.reLU().apply(new SynthsetBatchNorm().apply(t)) as Sym;
  let h = y ? tf.layers.concatenate().apply([z, y]) as Sym : z;
  h = tf.layers.dense({ units: 16 * ws[0], useBias: false, kernelInitializer: init() }).apply(h) as Sym;
  h = bnRelu(tf.layers.reshape({ targetShape: [4, 4, ws[0]] }).apply(h) as Sym);
  const outs = [...ws.slice(1), s.channels];
  outs.forEach((w, i) => {
    const last = i === outs.length - 1;
    h = tf.layers.conv2dTranspose({
      filters: w, kernelSize: 4, strides: 2, padding: 'same', useBias: last, kernelInitializer: init(),
    }).apply(h) as Sym;
    h = last ? tf.layers.activation({ activation: 'tanh' }).apply(h) as Sym : bnRelu(h);
  });
  return tf.model({ inputs: y ? [z, y] : z, outputs: h, name: 'wgan_gp_g' });
}

export function buildWganCritic(s: WganShape): tf.LayersModel {
  const next = seeder(s.seed + 1);
  const x = tf.input({ shape: [s.size, s.size, s.channels], name: 'image' });
  const y = s.numClasses ? tf.input({ shape: [s.numClasses], name: 'labels' }) : null;
  let h: Sym = x;
  widths(s).forEach((w, i) => {
    h = tf.layers.conv2d({
      filters: w, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: next() }),
    }).apply(h) as Sym;
    if (i > 0 && s.norm === 'layer') h = new LayerNorm2D().apply(h) as Sym;
    h = tf.layers.leakyReLU({ alpha: 0.2 }).apply(h) as Sym;
  });
  const feats = tf.layers.flatten().apply(h) as Sym;
  const head = new ProjectionHead({ numClasses: s.numClasses, spectral: false, seed: next() });
  return tf.model({ inputs: y ? [x, y] : x, outputs: head.apply(y ? [feats, y] : feats) as Sym, name: 'wgan_gp_critic' });
}

export const wganGp: GanFamily = {
  name: 'wgan-gp',
  description: 'WGAN-GP: Wasserstein loss with gradient penalty, layer-norm critic (no batch-norm), 5 critic updates per G update.',
  conditional: (o, dataClasses) => o.conditional === true || (o.conditional == null && dataClasses >= 2),
  defaults: WGAN_GP_DEFAULTS,
  build(ctx: FamilyContext) {
    if (![32, 64, 128].includes(ctx.size)) throw new Error(`wgan-gp builds 32, 64 or 128 px images, not ${ctx.size}.`);
    if (ctx.channels !== 1 && ctx.channels !== 3) throw new Error(`wgan-gp builds 1- or 3-channel images, not ${ctx.channels}.`);
    if (!(Number.isInteger(ctx.zDim) && ctx.zDim >= 1)) throw new Error(`wgan-gp: zDim must be a positive integer, got ${ctx.zDim}.`);
    const o = ctx.options;
    const norm = o.norm ?? 'layer';
    if (norm !== 'layer' && norm !== 'none') throw new Error(`Option "norm" must be "layer" or "none", got ${JSON.stringify(norm)}.`);
    const d = WGAN_GP_DEFAULTS as Record<string, number>;
    const rate = (k: string) => numOption(o, k, d[k], (v) => v > 0 && v < 1, 'in (0, 1)');
    const beta = (k: string) => numOption(o, k, d[k], (v) => v >= 0 && v < 1, 'in [0, 1)');
    const lambda = numOption(o, 'lambda', 10, (v) => v >= 0, 'a number >= 0');
    const shape: WganShape = {
      size: zFamilySize('wgan-gp', ctx.size), channels: ctx.channels, zDim: ctx.zDim, norm, seed: ctx.seed,
      numClasses: resolveConditional('wgan-gp', o, ctx.numClasses) ? ctx.numClasses : 0,
      width: numOption(o, 'width', 64, (v) => Number.isInteger(v) && v >= 1 && v <= 1024, 'an integer in 1..1024'),
    };
    const b1 = beta('beta1'), b2 = beta('beta2');
    return new AdversarialModel({
      generator: buildWganGenerator(shape),
      d: buildWganCritic(shape),
      buildGenerator: () => buildWganGenerator(shape),
      optG: new FusedAdamOptimizer(rate('lrG'), b1, b2),
      optD: new FusedAdamOptimizer(rate('lrD'), b1, b2),
      ndis: numOption(o, 'ndis', 5, (v) => Number.isInteger(v) && v >= 1 && v <= 10, 'an integer in 1..10'),
      loss: getLoss('wasserstein'),
      numClasses: shape.numClasses,
      zDim: ctx.zDim,
      penalty: { name: 'gp', fn: (critic, real, fake, seed) => gradientPenalty(critic, real, fake, seed, lambda) },
    });
  },
};

registerFamily(wganGp);
