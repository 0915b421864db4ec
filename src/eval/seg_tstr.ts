// Segmentation TSTR/TRTR: is a synthetic labelled set (label map -> pix2pix photo, with the map as its
// mask) useful for training a segmenter? One fixed net (the pix2pix U-Net with a K-class logit head)
// trained on the synthetic (photo, mask) pairs, and once on the real training pairs, both scored by
// mean IoU on the real held-out photos. The same steps, batch and seed for both, as with the
// classifier of tstr.ts, so the ratio compares the data and nothing else.
import * as tf from '@tensorflow/tfjs';
import { FusedAdamOptimizer } from '../engine/index.js';
import { chunks, imagesOf, type ImageSet } from '../data/image_set.js';
import { buildUnet } from '../models/i2i_nets.js';
import { rng } from '../util/random.js';
import { registerMetric, type EvalContext } from './registry.js';

/** Photos and their masks (one channel of class indices 0..K-1), index by index. */
export interface SegSet { images: ImageSet; masks: ImageSet }

export interface SegSets { synthetic: SegSet; train: SegSet; test: SegSet; classes: string[] }

declare module './registry.js' {
  interface EvalContext {
    /** Labelled photos: a synthetic labelled folder and a label-map run's real splits (sources.ts). */
    segmentation?: SegSets;
  }
}

export interface SegmenterOptions { steps?: number; batchSize?: number; ngf?: number; learningRate?: number; seed?: number; onProgress?: (done: number, total: number) => void }

/** Sized for a few minutes per net on 2 cores at 64 px; the same for synthetic and real. */
export const SEGMENTER_DEFAULTS = { steps: 1500, batchSize: 8, ngf: 16, learningRate: 1e-3, seed: 1 };

function checkSet(s: SegSet, what: string): void {
  if (s.images.count !== s.masks.count) throw new Error(`${what}: ${s.images.count} photos but ${s.masks.count} masks.`);
  if (s.masks.channels !== 1) throw new Error(`${what}: masks must have one channel of class indices, ${s.masks.name} has ${s.masks.channels}.`);
  if (s.masks.size !== s.images.size) throw new Error(`${what}: masks are ${s.masks.size} px, photos ${s.images.size} px.`);
  if (!s.images.count) throw new Error(`${what}: no images.`);
}

/** Class indices [n, h, w] of masks, checked against K. */
function maskIndices(set: ImageSet, idx: number[], k: number): tf.Tensor3D {
  const bytes = set.read(idx);
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] >= k) throw new Error(`${set.name}: mask value ${bytes[i]} in image ${idx[Math.floor(i / (set.size * set.size))]} is not one of the ${k} classes.`);
  }
  return tf.tensor3d(Int32Array.from(bytes), [idx.length, set.size, set.size], 'int32');
}

/** The U-Net trained to predict each pixel's class of `set`'s masks from its photos. */
export function trainSegmenter(set: SegSet, k: number, o: SegmenterOptions = {}): tf.LayersModel {
  checkSet(set, 'segmenter training set');
  const { steps, batchSize, ngf, learningRate, seed } = { ...SEGMENTER_DEFAULTS, ...o };
  const model = buildUnet({ size: set.images.size, channels: k, inChannels: set.images.channels, ngf, norm: 'batch', dropout: 0, seed, head: 'logits' });
  const opt = new FusedAdamOptimizer(learningRate, 0.9, 0.999);
  const rand = rng(seed);
  const n = set.images.count;
  const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
  try {
    for (let step = 0; step < steps; step++) {
      // Half-cosine decay to zero, as the classifier: a fixed schedule with no validation set.
      (opt as unknown as { learningRate: number }).learningRate = learningRate * 0.5 * (1 + Math.cos((Math.PI * step) / steps));
      const idx = Array.from({ length: batchSize }, () => Math.floor(rand() * n));
      const flip = rand() < 0.5;
      tf.tidy(() => {
        let x: tf.Tensor4D = imagesOf(set.images, idx);
        let y: tf.Tensor4D = tf.oneHot(maskIndices(set.masks, idx, k), k).toFloat() as tf.Tensor4D;
        if (flip) [x, y] = [tf.reverse(x, 2), tf.reverse(y, 2)];
        const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor4D) as tf.Scalar, weights);
        opt.applyGradients(grads);
      });
      if (step % 50 === 49 || step === steps - 1) o.onProgress?.(step + 1, steps);
    }
  } finally {
    opt.dispose();
  }
  return model;
}

export interface SegScores {
  /** Mean over the classes that occur in the test masks of TP / (TP + FP + FN), pixels of the whole set. */
  miou: number;
  pixelAccuracy: number;
  /** IoU per class (null where the class occurs in neither the masks nor the predictions). */
  perClass: (number | null)[];
}

export function segScores(model: tf.LayersModel, test: SegSet, k: number): SegScores {
  checkSet(test, 'segmentation test set');
  const cm = new Float64Array(k * k); // [truth][predicted]
  for (const idx of chunks(test.images.count, 32)) {
    const [truth, pred] = tf.tidy(() => {
      const logits = model.apply(imagesOf(test.images, idx), { training: false }) as tf.Tensor4D;
      return [maskIndices(test.masks, idx, k).dataSync(), tf.argMax(logits, 3).dataSync()];
    });
    for (let i = 0; i < truth.length; i++) cm[truth[i] * k + pred[i]]++;
  }
  return iouScores(cm, k);
}

/** Scores of a confusion matrix cm[truth * k + predicted] (pixel counts). */
export function iouScores(cm: ArrayLike<number>, k: number): SegScores {
  const perClass: (number | null)[] = [];
  let sum = 0, classes = 0, correct = 0, total = 0;
  for (let c = 0; c < k; c++) {
    let row = 0, col = 0;
    for (let j = 0; j < k; j++) {
      row += cm[c * k + j];
      col += cm[j * k + c];
    }
    const tp = cm[c * k + c], union = row + col - tp;
    perClass.push(union > 0 ? tp / union : null);
    if (row > 0) {
      sum += tp / union;
      classes++;
    }
    correct += tp;
    total += row;
  }
  return { miou: classes ? sum / classes : 0, pixelAccuracy: total ? correct / total : 0, perClass };
}

function trainAndScore(sets: SegSets, set: SegSet, o: SegmenterOptions): SegScores {
  const model = trainSegmenter(set, sets.classes.length, o);
  try {
    return segScores(model, sets.test, sets.classes.length);
  } finally {
    model.dispose();
  }
}

export function runSegTstr(sets: SegSets, o: SegmenterOptions & { progress?: (stage: string, done: number, total: number) => void } = {}) {
  const named = (s: SegScores) => ({ ...s, perClass: Object.fromEntries(sets.classes.map((c, i) => [c, s.perClass[i]])) });
  const tstr = trainAndScore(sets, sets.synthetic, { ...o, onProgress: (d, t) => o.progress?.('seg-tstr: segmenter on synthetic', d, t) });
  const trtr = trainAndScore(sets, sets.train, { ...o, onProgress: (d, t) => o.progress?.('seg-tstr: segmenter on real', d, t) });
  return {
    ...named(tstr), trtr: named(trtr), ratio: trtr.miou > 0 ? tstr.miou / trtr.miou : null,
    trainImages: { synthetic: sets.synthetic.images.count, real: sets.train.images.count }, testImages: sets.test.images.count,
    segmenter: { ...SEGMENTER_DEFAULTS, ...o, progress: undefined, onProgress: undefined },
  };
}

registerMetric({
  name: 'seg-tstr',
  description: 'labelled synthetic photos: mean IoU on real held-out photos of a U-Net segmenter trained on the synthetic (photo, mask) pairs, beside the same net trained on the real pairs',
  topLevel: [],
  applies: (ctx) => (ctx.segmentation ? null : 'needs a labelled synthetic folder (images/ and masks/) and a label-map run as --real'),
  run: async (ctx: EvalContext) => runSegTstr(ctx.segmentation!, { seed: ctx.seed + 1, ...ctx.options?.segmenter, progress: ctx.progress }),
});
