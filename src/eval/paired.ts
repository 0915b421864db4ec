// pix2pix's held-out scores: per image, L1 (mean |difference| of 8-bit pixels / 255), PSNR (dB,
// peak 255) and SSIM (ssim.ts) of the output to its target, beside the two trivial baselines any
// translator must beat: the input itself, and the mean training target (one average image).
import * as tf from '@tensorflow/tfjs';
import { chunks, imagesOf, type ImageSet } from '../data/image_set.js';
import { registerMetric, type EvalContext } from './registry.js';
import { ssimPairs } from './ssim.js';

export interface PairedSets {
  /** Held-out inputs (A), the model's outputs for them, and their targets (B), index by index. */
  input: ImageSet;
  output: ImageSet;
  target: ImageSet;
  /** The train split's targets, for the mean-target baseline. */
  trainTargets: ImageSet;
}

export interface PairedScores { l1: number; psnr: number; ssim: number; perImage: { l1: number[]; psnr: number[]; ssim: number[] } }

const BATCH = 64;

function check(sets: PairedSets): void {
  const { input, output, target } = sets;
  for (const s of [output, sets.trainTargets]) {
    if (s.size !== target.size || s.channels !== target.channels) {
      throw new Error(`Paired scores compare images of one shape: ${s.name} is ${s.size} px x ${s.channels}, ${target.name} ${target.size} px x ${target.channels}.`);
    }
  }
  if (input.count !== target.count || output.count !== target.count) {
    throw new Error(`Paired scores need one output and one target per input: ${input.count} inputs, ${output.count} outputs, ${target.count} targets.`);
  }
}

/** Scores of `pred(indices)` against the targets, image by image. */
function scoresOf(target: ImageSet, pred: (idx: number[]) => tf.Tensor4D): PairedScores {
  const per = { l1: [] as number[], psnr: [] as number[], ssim: [] as number[] };
  for (const idx of chunks(target.count, BATCH)) {
    const y = imagesOf(target, idx), p = pred(idx);
    const [l1, mse] = tf.tidy(() => {
      const d = tf.sub(p, y);
      // [-1, 1] units: |d| / 2 is the 8-bit difference / 255.
      return [tf.div(tf.mean(tf.abs(d), [1, 2, 3]), 2).dataSync(), tf.div(tf.mean(tf.square(d), [1, 2, 3]), 4).dataSync()];
    });
    const s = ssimPairs(p, y);
    idx.forEach((_, i) => {
      per.l1.push(l1[i]);
      per.psnr.push(mse[i] > 0 ? -10 * Math.log10(mse[i]) : 100);
      per.ssim.push(s[i]);
    });
    tf.dispose([y, p]);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { l1: mean(per.l1), psnr: mean(per.psnr), ssim: mean(per.ssim), perImage: per };
}

/** The pixel-wise mean of a set, as one [1, H, W, C] image in [-1, 1]. */
function meanImage(set: ImageSet): tf.Tensor4D {
  let sum: tf.Tensor | null = null;
  for (const idx of chunks(set.count, BATCH)) {
    const x = imagesOf(set, idx);
    const s = tf.sum(x, 0, true);
    const next: tf.Tensor = sum ? tf.add(sum, s) : s.clone();
    tf.dispose([x, s, ...(sum ? [sum] : [])]);
    sum = next;
  }
  const out = tf.div(sum!, set.count) as tf.Tensor4D;
  sum!.dispose();
  return out;
}

/** `identity` is null when the inputs are not images of the targets' shape (label maps). */
export function pairedScores(sets: PairedSets): { output: PairedScores; identity: PairedScores | null; meanTarget: PairedScores } {
  check(sets);
  const mean = meanImage(sets.trainTargets);
  const comparable = sets.input.size === sets.target.size && sets.input.channels === sets.target.channels;
  try {
    return {
      output: scoresOf(sets.target, (idx) => imagesOf(sets.output, idx)),
      identity: comparable ? scoresOf(sets.target, (idx) => imagesOf(sets.input, idx)) : null,
      meanTarget: scoresOf(sets.target, (idx) => tf.tile(mean, [idx.length, 1, 1, 1]) as tf.Tensor4D),
    };
  } finally {
    mean.dispose();
  }
}

declare module './registry.js' {
  interface EvalContext {
    /** Held-out pairs of an image-to-image run (pix2pix): input, output, target. */
    pairs?: PairedSets;
  }
}

registerMetric({
  name: 'paired',
  description: 'pix2pix: per-image L1, PSNR and SSIM of outputs to held-out targets, beside the input itself and the mean training target',
  applies: (ctx: EvalContext) => (ctx.pairs ? null : 'needs held-out pairs (a pix2pix run)'),
  async run(ctx: EvalContext) {
    const r = pairedScores(ctx.pairs!);
    const strip = ({ perImage: _, ...s }: PairedScores) => s;
    return { count: ctx.pairs!.target.count, output: strip(r.output), identity: r.identity && strip(r.identity), meanTarget: strip(r.meanTarget) };
  },
});
