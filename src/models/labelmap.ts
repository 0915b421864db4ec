// A GAN that draws label maps ("doodles") from noise: G is the DCGAN generator with K output
// channels and a per-pixel softmax (LabelSoftmax), D the DCGAN discriminator on K-channel one-hot
// maps. Real maps reach D as one-hot; G's maps by default as the straight-through one-hot of their
// most likely class (forward exactly what a real map looks like, backward the softmax's gradient),
// since a D shown soft probabilities beside hard one-hots tells them apart by their values alone.
// Trains on the maps of a label-map dataset (data kind `labelmaps`); sampled maps feed pix2pix.
import * as tf from '@tensorflow/tfjs';
import { FusedAdamOptimizer, stopGradient } from '../engine/index.js';
import { LabelSoftmax, SynthsetBatchNorm } from '../layers/index.js';
import { getLoss, isLossName, lossNames } from '../losses/index.js';
import { subSeed } from '../util/random.js';
import { numOption, seeder, zFamilySize } from './adversarial.js';
import { buildDiscriminator, hiddenWidths } from './dcgan_nets.js';
import { registerFamily, type FamilyContext, type GanModel, type StepContext, type TrainBatch } from './family.js';
import { gumbelSoftmax, oneHotMaps, straightThrough } from './label_maps.js';
import { adversarialUpdate, readStats, update, variablesOf } from './step.js';

export const LABELMAP_DEFAULTS = { width: 32, loss: 'bce', lrG: 2e-4, lrD: 2e-4, beta1: 0.5, beta2: 0.999, output: 'straight-through', minibatchStd: true, diversity: 10 };

// gumbel: the straight-through one-hot of a Gumbel-softmax sample (Jang et al. 2017) at temperature 1,
// kept as an option; on facades D won at once with it (dReal 0.997 after 200 steps), as with softmax.
// The default's diversity term and minibatch-std D are what stopped every z drawing the same map.
const OUTPUTS = ['straight-through', 'softmax', 'gumbel'];

/** z [n, zDim] -> class probabilities [n, size, size, k]: dense to 4x4, k4 s2 transposed convs with batch norm + ReLU. */
export function buildMapGenerator(size: number, zDim: number, k: number, width: number, seed: number): tf.LayersModel {
  const chans = hiddenWidths(size, width);
  const init = (s: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.02, seed: s });
  const z = tf.input({ shape: [zDim], name: 'z' });
  let h = tf.layers.dense({ units: 16 * chans[0], useBias: false, kernelInitializer: init(seed++) }).apply(z) as tf.SymbolicTensor;
  h = tf.layers.reshape({ targetShape: [4, 4, chans[0]] }).apply(h) as tf.SymbolicTensor;
  chans.forEach((_, i) => {
    const last = i === chans.length - 1;
    h = new SynthsetBatchNorm({ momentum: 0.9, epsilon: 1e-5 }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.reLU().apply(h) as tf.SymbolicTensor;
    h = tf.layers.conv2dTranspose({ filters: last ? k : chans[i + 1], kernelSize: 4, strides: 2, padding: 'same', useBias: last, kernelInitializer: init(seed++) })
      .apply(h) as tf.SymbolicTensor;
  });
  const out = new LabelSoftmax({ classes: k }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: z, outputs: out, name: 'labelmap_generator' });
}

function build(ctx: FamilyContext): GanModel {
  const size = zFamilySize('labelmap', ctx.size);
  const k = ctx.labelClasses;
  if (k === undefined) throw new Error('labelmap trains on label maps: --data must be a label-map dataset (root/label/*.png class-index maps with label_names.txt or palette.txt).');
  if (!(Number.isInteger(k) && k >= 2)) throw new Error(`labelmap needs maps of at least 2 classes, got ${k}.`);
  if (ctx.private) throw new Error('labelmap cannot train privately: its D uses no per-example clipping.');
  const o = ctx.options;
  const width = numOption(o, 'width', LABELMAP_DEFAULTS.width, (v) => Number.isInteger(v) && v >= 1 && v <= 1024, 'an integer in 1..1024');
  const num = (key: 'lrG' | 'lrD' | 'beta1' | 'beta2', ok: (v: number) => boolean, what: string) => numOption(o, key, LABELMAP_DEFAULTS[key], ok, what);
  const lrG = num('lrG', (v) => v > 0, 'a positive number'), lrD = num('lrD', (v) => v > 0, 'a positive number');
  const beta1 = num('beta1', (v) => v >= 0 && v < 1, 'in [0, 1)'), beta2 = num('beta2', (v) => v >= 0 && v < 1, 'in [0, 1)');
  const lossName = o.loss ?? LABELMAP_DEFAULTS.loss;
  if (!isLossName(lossName)) throw new Error(`Option "loss" must be one of ${lossNames().join(', ')}, got ${JSON.stringify(lossName)}.`);
  const output = o.output ?? LABELMAP_DEFAULTS.output;
  if (typeof output !== 'string' || !OUTPUTS.includes(output)) throw new Error(`Option "output" must be one of ${OUTPUTS.join(', ')}, got ${JSON.stringify(output)}.`);
  const minibatchStd = o.minibatchStd ?? LABELMAP_DEFAULTS.minibatchStd;
  if (typeof minibatchStd !== 'boolean') throw new Error(`Option "minibatchStd" must be true or false, got ${JSON.stringify(minibatchStd)}.`);
  const diversity = numOption(o, 'diversity', LABELMAP_DEFAULTS.diversity, (v) => v >= 0, 'a number >= 0');
  const loss = getLoss(lossName);
  const next = seeder(ctx.seed);
  const gSeed = next(), dSeed = next();
  const makeG = () => buildMapGenerator(size, ctx.zDim, k, width, gSeed);
  const g = makeG();
  const d = buildDiscriminator({ size, channels: k, zDim: ctx.zDim, numClasses: 0, width, dBatchNorm: false, minibatchStd, seed: dSeed });
  const opt = { g: new FusedAdamOptimizer(lrG, beta1, beta2), d: new FusedAdamOptimizer(lrD, beta1, beta2) };
  const gU = { opt: opt.g, vars: variablesOf(g) }, dU = { opt: opt.d, vars: variablesOf(d) };
  const shown = (p: tf.Tensor4D, seed: number) => (output === 'softmax' ? p
    : straightThrough(output === 'gumbel' ? gumbelSoftmax(p, seed) : p));
  const critic = (x: tf.Tensor4D) => d.apply(x, { training: true }) as tf.Tensor;
  const score = (logits: tf.Tensor) => tf.mean(lossName === 'bce' ? tf.sigmoid(logits) : logits) as tf.Scalar;

  return {
    generator: g, nets: { g, d }, optimizers: opt, ndis: 1,
    buildGenerator: makeG,
    trainStep(batches: TrainBatch[], s: StepContext) {
      const batch = batches[0];
      return readStats(() => {
        const real = oneHotMaps(batch.real, k);
        const n = real.shape[0];
        return adversarialUpdate(gU,
          () => {
            const z = tf.randomNormal([n, ctx.zDim], 0, 1, 'float32', subSeed(s.seed, 0)) as tf.Tensor2D;
            const p = g.apply(z, { training: true }) as tf.Tensor4D;
            return { z, p, x: shown(p, subSeed(s.seed, 5)) };
          },
          ({ x }) => {
            const f = s.pool(stopGradient(x), subSeed(s.seed, 1));
            return update(dU, (stat) => {
              const r = critic(s.augment(real, subSeed(s.seed, 2)));
              const ff = critic(s.augment(f, subSeed(s.seed, 3)));
              stat('dReal', score(r));
              stat('dFake', score(ff));
              return loss.d(r, ff);
            });
          },
          ({ z, p, x }, stat) => {
            const adv = loss.g(critic(s.augment(x, subSeed(s.seed, 4))));
            if (!diversity || n < 2) return adv;
            // Diversity-sensitive loss (DSGAN, Yang et al. 2019; MSGAN's idea): reward maps that differ
            // as their z do, pairing the batch's halves. Linear rather than MSGAN's 1 / ratio, which
            // exploded at the ratios of near-uniform probabilities (~0.01). Without it every z drew one map.
            const h = Math.floor(n / 2);
            const half = <T extends tf.Tensor>(t: T, at: number) => tf.slice(t, at, h) as T;
            const ratio = tf.div(tf.mean(tf.abs(tf.sub(half(p, 0), half(p, h)))), tf.mean(tf.abs(tf.sub(half(z, 0), half(z, h)))));
            stat('diversity', ratio as tf.Scalar);
            return tf.sub(adv, tf.mul(diversity, ratio)) as tf.Scalar;
          });
      });
    },
    dispose() {
      g.dispose();
      d.dispose();
      opt.g.dispose();
      opt.d.dispose();
    },
  };
}

registerFamily({
  name: 'labelmap',
  description: 'label maps from noise: DCGAN G with a K-class softmax (straight-through one-hot to D), DCGAN D on one-hot maps; feeds pix2pix',
  conditional: false,
  data: 'labelmaps',
  defaults: { ...LABELMAP_DEFAULTS },
  build,
});
