// pix2pix (Isola et al. 2017): a U-Net G translates A to B; a 70x70 PatchGAN D judges the
// concatenated (input, output) pair against (input, target); G minimises GAN + lambda * L1 to the
// target. Batch norm, dropout in G, D's loss halved, Adam 2e-4 / beta1 0.5 (the reference's
// `--model pix2pix` defaults). Trains on paired data: batch.real = A (input), batch.b = B (target).
// On label-map data (ctx.labelClasses = K) the input is the map as K one-hot channels, not a colour
// image: G takes [n, s, s, K], D judges concat(one-hot, photo), as the paper's labels -> facades.
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from '../engine/index.js';
import { getLoss, isLossName, lossNames } from '../losses/index.js';
import { subSeed } from '../util/random.js';
import { numOption, seeder } from './adversarial.js';
import { registerFamily, type FamilyContext, type GanModel, type StepContext, type TrainBatch } from './family.js';
import { adam, bothDomains, checkI2iContext, I2I_DEFAULTS, l1, parseI2iOptions } from './i2i_common.js';
import { buildPatchGan, buildUnet, dropoutsOf } from './i2i_nets.js';
import { mapIndices, oneHotMaps, paletteImages } from './label_maps.js';
import { adversarialUpdate, readStats, update, variablesOf } from './step.js';

export const PIX2PIX_DEFAULTS = { ...I2I_DEFAULTS, lambdaL1: 100, dropout: 0.5, loss: 'bce' };

function build(ctx: FamilyContext): GanModel {
  checkI2iContext('pix2pix', ctx);
  const o = parseI2iOptions(ctx.options);
  const lambda = numOption(ctx.options, 'lambdaL1', PIX2PIX_DEFAULTS.lambdaL1, (v) => v >= 0, 'a number >= 0');
  const dropout = numOption(ctx.options, 'dropout', PIX2PIX_DEFAULTS.dropout, (v) => v >= 0 && v < 1, 'in [0, 1)');
  const lossName = ctx.options.loss ?? PIX2PIX_DEFAULTS.loss;
  if (!isLossName(lossName)) throw new Error(`Option "loss" must be one of ${lossNames().join(', ')}, got ${JSON.stringify(lossName)}.`);
  const loss = getLoss(lossName);
  const next = seeder(ctx.seed);
  const gSeed = next(), dSeed = next();
  const k = ctx.labelClasses;
  if (k !== undefined && !(Number.isInteger(k) && k >= 2)) throw new Error(`pix2pix: a label-map input needs at least 2 classes, got ${k}.`);
  const inChannels = k ?? ctx.channels;
  const makeG = () => buildUnet({ size: ctx.size, channels: ctx.channels, inChannels, ngf: o.ngf, norm: 'batch', dropout, seed: gSeed });
  const g = makeG();
  const d = buildPatchGan({ size: ctx.size, channels: inChannels + ctx.channels, ndf: o.ndf, norm: 'batch', seed: dSeed });
  const input = (x: tf.Tensor4D) => (k ? oneHotMaps(x, k) : x);
  const opt = { g: adam(o.lrG, o), d: adam(o.lrD, o) };
  const gU = { opt: opt.g, vars: variablesOf(g) }, dU = { opt: opt.d, vars: variablesOf(d) };
  const drops = dropoutsOf(g);
  const judge = (a: tf.Tensor4D, b: tf.Tensor4D) => d.apply(tf.concat([a, b], 3), { training: true }) as tf.Tensor;
  const score = (logits: tf.Tensor) => tf.mean(lossName === 'bce' ? tf.sigmoid(logits) : logits) as tf.Scalar;

  return {
    generator: g, nets: { g, d }, optimizers: opt, ndis: 1,
    buildGenerator: makeG,
    trainStep(batches: TrainBatch[], s: StepContext) {
      const [raw, b] = bothDomains('pix2pix', batches[0], 'paired');
      for (const l of drops) l.reseed(subSeed(s.seed, 1));
      return readStats(() => {
        const a = input(raw);
        return adversarialUpdate(gU,
          () => g.apply(a, { training: true }) as tf.Tensor4D,
          (fake) => {
            // D sees the (input, output) pair; the pool, when on, stores whole pairs.
            const pair = s.pool(tf.concat([a, stopGradient(fake)], 3) as tf.Tensor4D, subSeed(s.seed, 2));
            return update(dU, (stat) => {
              const r = judge(a, b);
              const f = d.apply(pair, { training: true }) as tf.Tensor;
              stat('dReal', score(r));
              stat('dFake', score(f));
              return tf.mul(0.5, loss.d(r, f)) as tf.Scalar;
            });
          },
          (fake, stat) => {
            const gan = loss.g(judge(a, fake));
            const dist = l1(fake, b);
            stat('ganG', gan);
            stat('l1', dist);
            return tf.add(gan, tf.mul(lambda, dist)) as tf.Scalar;
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
  name: 'pix2pix',
  description: 'paired image-to-image: U-Net G, 70x70 PatchGAN D on (input, output), GAN + 100 L1 (Isola et al. 2017)',
  conditional: false,
  data: 'paired',
  defaults: { ...PIX2PIX_DEFAULTS },
  translate: {
    directions: ['AtoB'],
    // input | output | target; the caller runs this inside tf.tidy. A generator that takes more
    // channels than the input has is conditioned on one-hot maps: the map is shown in palette colours.
    sampleColumns: (gen, a, b) => {
      const k = gen.inputs[0].shape[3]!;
      if (k === a.shape[3]) return [a, gen.predict(a) as tf.Tensor4D, b];
      return [paletteImages(mapIndices(a), k), gen.predict(oneHotMaps(a, k)) as tf.Tensor4D, b];
    },
  },
  build,
});
