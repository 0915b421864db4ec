// What pix2pix and cyclegan share: the reference's optimiser settings, option checks, the image
// batch a step needs, and sample-grid helpers.
import * as tf from '@tensorflow/tfjs';
import { FusedAdamOptimizer } from '../engine/index.js';
import { numOption } from './adversarial.js';
import type { FamilyContext, TrainBatch } from './family.js';

/** junyanz/pytorch-CycleGAN-and-pix2pix defaults: Adam 2e-4, beta1 0.5; ngf = ndf = 64. */
export const I2I_DEFAULTS = { ngf: 64, ndf: 64, lrG: 2e-4, lrD: 2e-4, beta1: 0.5, beta2: 0.999 };

export interface I2iOptions { ngf: number; ndf: number; lrG: number; lrD: number; beta1: number; beta2: number }

export function parseI2iOptions(o: Record<string, unknown>): I2iOptions {
  const width = (v: number) => Number.isInteger(v) && v >= 1 && v <= 512;
  return {
    ngf: numOption(o, 'ngf', I2I_DEFAULTS.ngf, width, 'an integer in 1..512'),
    ndf: numOption(o, 'ndf', I2I_DEFAULTS.ndf, width, 'an integer in 1..512'),
    lrG: numOption(o, 'lrG', I2I_DEFAULTS.lrG, (v) => v > 0, 'a positive number'),
    lrD: numOption(o, 'lrD', I2I_DEFAULTS.lrD, (v) => v > 0, 'a positive number'),
    beta1: numOption(o, 'beta1', I2I_DEFAULTS.beta1, (v) => v >= 0 && v < 1, 'in [0, 1)'),
    beta2: numOption(o, 'beta2', I2I_DEFAULTS.beta2, (v) => v >= 0 && v < 1, 'in [0, 1)'),
  };
}

export const adam = (lr: number, o: I2iOptions) => new FusedAdamOptimizer(lr, o.beta1, o.beta2);

export function checkI2iContext(family: string, ctx: FamilyContext): void {
  if (![32, 64, 128, 256].includes(ctx.size)) throw new Error(`${family} translates 32, 64, 128 or 256 px images, not ${ctx.size}.`);
  if (ctx.channels !== 1 && ctx.channels !== 3) throw new Error(`${family} works on 1- or 3-channel images, not ${ctx.channels}.`);
}

/** Both images of a paired or unpaired batch, or an error saying what data the family needs. */
export function bothDomains(family: string, batch: TrainBatch, kind: string): [tf.Tensor4D, tf.Tensor4D] {
  if (!batch.b) throw new Error(`${family} trains on ${kind} data: every batch needs domain B (batch.b).`);
  return [batch.real, batch.b];
}

/** The generator's output for one direction (generators with several outputs return one per direction). */
export function outputOf(y: tf.Tensor | tf.Tensor[], k: number): tf.Tensor4D {
  return (Array.isArray(y) ? y[k] : y) as tf.Tensor4D;
}

/** L1 distance: mean |x - y|. */
export const l1 = (x: tf.Tensor, y: tf.Tensor): tf.Scalar => tf.mean(tf.abs(tf.sub(x, y)));
