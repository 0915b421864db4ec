// CycleGAN (Zhu et al. 2017): two ResNet generators, G: A -> B and F: B -> A (instance norm,
// reflection padding; 6 residual blocks up to 128 px, 9 at 256), two 70x70 PatchGAN
// discriminators (D_B judges B images, D_A judges A images), LSGAN losses, cycle consistency
// (lambda 10) and identity (0.5 * lambda), an image pool of fakes per direction (poolNames A and B;
// the preset sets 50). D's loss is (MSE(real, 1) + MSE(fake, 0)) / 2, as in the reference.
// The exported generator is one model with both directions: input x, outputs [G(x), F(x)].
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from '../engine/index.js';
import { subSeed } from '../util/random.js';
import { numOption, seeder } from './adversarial.js';
import { registerFamily, type FamilyContext, type GanModel, type StepContext, type TrainBatch } from './family.js';
import { adam, bothDomains, checkI2iContext, I2I_DEFAULTS, l1, outputOf, parseI2iOptions } from './i2i_common.js';
import { buildPatchGan, resnetGenerator } from './i2i_nets.js';
import { adversarialUpdate, readStats, update, variablesOf } from './step.js';

export const CYCLEGAN_DEFAULTS = { ...I2I_DEFAULTS, lambdaCycle: 10, lambdaIdentity: 0.5, blocks: null as number | null };

const mse = (x: tf.Tensor, target: number): tf.Scalar => tf.mean(tf.square(tf.sub(x, target)));

interface Generators { both: tf.LayersModel; ab: tf.LayersModel; ba: tf.LayersModel }

function buildGenerators(ctx: FamilyContext, ngf: number, blocks: number, seeds: [number, number]): Generators {
  const x = tf.input({ shape: [ctx.size, ctx.size, ctx.channels], name: 'image' });
  const shape = { size: ctx.size, channels: ctx.channels, ngf, blocks };
  const ab = resnetGenerator(x, { ...shape, seed: seeds[0] });
  const ba = resnetGenerator(x, { ...shape, seed: seeds[1] });
  // Three views of the same layers: dispose `both` only (it owns every layer).
  return {
    both: tf.model({ inputs: x, outputs: [ab, ba], name: 'cyclegan_generator' }),
    ab: tf.model({ inputs: x, outputs: ab }),
    ba: tf.model({ inputs: x, outputs: ba }),
  };
}

interface Forward { fakeB: tf.Tensor4D; recA: tf.Tensor4D; fakeA: tf.Tensor4D; recB: tf.Tensor4D; idtB: tf.Tensor4D | null; idtA: tf.Tensor4D | null }

function build(ctx: FamilyContext): GanModel {
  checkI2iContext('cyclegan', ctx);
  const o = parseI2iOptions(ctx.options);
  const lambda = numOption(ctx.options, 'lambdaCycle', CYCLEGAN_DEFAULTS.lambdaCycle, (v) => v >= 0, 'a number >= 0');
  const idRatio = numOption(ctx.options, 'lambdaIdentity', CYCLEGAN_DEFAULTS.lambdaIdentity, (v) => v >= 0, 'a number >= 0');
  const blocks = numOption(ctx.options, 'blocks', ctx.size >= 256 ? 9 : 6, (v) => Number.isInteger(v) && v >= 0 && v <= 32, 'an integer in 0..32 (null: 6 up to 128 px, 9 at 256)');
  const next = seeder(ctx.seed);
  const seeds: [number, number] = [next(), next()];
  const gens = buildGenerators(ctx, o.ngf, blocks, seeds);
  const patch = (seed: number) => buildPatchGan({ size: ctx.size, channels: ctx.channels, ndf: o.ndf, norm: 'instance', seed });
  const dA = patch(next()), dB = patch(next());
  const opt = { g: adam(o.lrG, o), d: adam(o.lrD, o) };
  // One optimizer over both generators and one over both discriminators, as in the reference.
  const gU = { opt: opt.g, vars: variablesOf(gens.both) };
  const dU = { opt: opt.d, vars: [...variablesOf(dA), ...variablesOf(dB)] };
  const run = (m: tf.LayersModel, x: tf.Tensor4D) => m.apply(x, { training: true }) as tf.Tensor4D;

  return {
    generator: gens.both, nets: { g: gens.both, dA, dB }, optimizers: opt, ndis: 1, poolNames: ['A', 'B'],
    buildGenerator: () => buildGenerators(ctx, o.ngf, blocks, seeds).both,
    trainStep(batches: TrainBatch[], s: StepContext) {
      const [a, b] = bothDomains('cyclegan', batches[0], 'unpaired');
      return readStats(() => adversarialUpdate<Forward>(gU,
        () => {
          const fakeB = run(gens.ab, a), fakeA = run(gens.ba, b);
          return {
            fakeB, recA: run(gens.ba, fakeB), fakeA, recB: run(gens.ab, fakeA),
            idtB: idRatio > 0 ? run(gens.ab, b) : null, idtA: idRatio > 0 ? run(gens.ba, a) : null,
          };
        },
        (f) => {
          const poolB = s.pool(stopGradient(f.fakeB), subSeed(s.seed, 1), 'B');
          const poolA = s.pool(stopGradient(f.fakeA), subSeed(s.seed, 2), 'A');
          return update(dU, (stat) => {
            const [rA, fA, rB, fB] = [run(dA, a), run(dA, poolA), run(dB, b), run(dB, poolB)];
            stat('dReal', tf.mul(0.5, tf.add(tf.mean(rA), tf.mean(rB))));
            stat('dFake', tf.mul(0.5, tf.add(tf.mean(fA), tf.mean(fB))));
            const lossA = tf.mul(0.5, tf.add(mse(rA, 1), mse(fA, 0)));
            const lossB = tf.mul(0.5, tf.add(mse(rB, 1), mse(fB, 0)));
            return tf.add(lossA, lossB) as tf.Scalar;
          });
        },
        (f, stat) => {
          const gan = tf.add(mse(run(dB, f.fakeB), 1), mse(run(dA, f.fakeA), 1));
          const cycle = tf.add(l1(f.recA, a), l1(f.recB, b)) as tf.Scalar;
          stat('ganG', gan as tf.Scalar);
          stat('cycle', cycle);
          let total = tf.add(gan, tf.mul(lambda, cycle));
          if (f.idtA && f.idtB) {
            const idt = tf.add(l1(f.idtB, b), l1(f.idtA, a)) as tf.Scalar;
            stat('identity', idt);
            total = tf.add(total, tf.mul(lambda * idRatio, idt));
          }
          return total as tf.Scalar;
        }));
    },
    dispose() {
      gens.both.dispose();
      dA.dispose();
      dB.dispose();
      opt.g.dispose();
      opt.d.dispose();
    },
  };
}

registerFamily({
  name: 'cyclegan',
  description: 'unpaired image-to-image: two ResNet G, two PatchGAN D, LSGAN + cycle 10 + identity 5 (Zhu et al. 2017)',
  conditional: false,
  data: 'unpaired',
  defaults: { ...CYCLEGAN_DEFAULTS },
  translate: {
    directions: ['AtoB', 'BtoA'],
    // A | G(A) | F(G(A)) | B | F(B) | G(F(B)); the caller runs this inside tf.tidy.
    sampleColumns(gen, a, b) {
      const ga = outputOf(gen.predict(a) as tf.Tensor[], 0);
      const fb = outputOf(gen.predict(b) as tf.Tensor[], 1);
      return [a, ga, outputOf(gen.predict(ga) as tf.Tensor[], 1), b, fb, outputOf(gen.predict(fb) as tf.Tensor[], 0)];
    },
  },
  build,
});
