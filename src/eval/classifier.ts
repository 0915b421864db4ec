// The fixed classifier behind classifier agreement, TSTR/TRTR and the domain feature space. One
// documented architecture for every run, so figures compare across runs and datasets:
//   conv3x3(w) → LeakyReLU → [conv4x4 s2 (2^k·w, at most 8w) → BN → LeakyReLU(0.2)] until 4x4 →
//   flatten → dense(128) + LeakyReLU ("features") → dropout 0.3 → dense(classes)
// with w = 16 by default (~0.4 M weights at 32 px). Flattening the 4x4 map, not pooling it, keeps
// where things are, which is what tells a shirt from a coat; Adam 2e-3 → cosine decay, batch 128, and
// random horizontal flips + ±2 px shifts per image, seeded. Small on purpose: TSTR has to train it twice per
// report on a 2-core CPU, and the question is "is the synthetic set as useful as the real one to
// the same learner", not the best accuracy. Convolutions are synthset's plain conv layer, so the
// native backend runs the whole step.
import * as tf from '@tensorflow/tfjs';
import { FusedAdamOptimizer, imagesFromBytes } from '../engine/index.js';
import { SynthsetBatchNorm, SynthsetConv2D } from '../layers/index.js';
import { rng, shuffle } from '../util/random.js';
import { chunks, imagesOf, type ImageSet } from '../data/image_set.js';

export interface ClassifierOptions {
  /** Training images seen in total (whole shuffled passes, the last one partial): the budget. */
  images?: number;
  /** Passes over the set instead of an image budget. */
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  width?: number;
  seed?: number;
  /** Flips and shifts (default true; turn off for data where mirroring changes the class). */
  augment?: boolean;
  onProgress?: (e: { done: number; total: number; loss: number }) => void;
}

// A fixed image budget rather than epochs: a classifier on 10k synthetic images and one on 60k real
// ones get the same training effort (fair TSTR vs TRTR), and a report's time does not grow with the
// size of the real set.
export const CLASSIFIER_DEFAULTS = { images: 120_000, batchSize: 128, learningRate: 2e-3, width: 16, seed: 1, augment: true };

export interface Classifier {
  model: tf.LayersModel;
  /** The same network up to its 128-d features. */
  features: tf.LayersModel;
  classes: string[];
  size: number;
  channels: 1 | 3;
  dispose(): void;
}

export function buildClassifier(size: number, channels: 1 | 3, classes: number, width = CLASSIFIER_DEFAULTS.width, seed = 1): { model: tf.LayersModel; features: tf.LayersModel } {
  if (!(size >= 8 && Number.isInteger(Math.log2(size)))) throw new Error(`Classifier: image size ${size} must be a power of two ≥ 8.`);
  if (classes < 2) throw new Error(`Classifier: needs at least 2 classes, got ${classes}.`);
  let s = seed * 7919;
  const input = tf.input({ shape: [size, size, channels] });
  const conv = (h: tf.SymbolicTensor, filters: number, k: number, strides: number) =>
    new SynthsetConv2D({ filters, kernelSize: k, strides, stddev: Math.sqrt(2 / (k * k * (h.shape[3] as number))), seed: s++ }).apply(h) as tf.SymbolicTensor;
  let h = tf.layers.leakyReLU({ alpha: 0.2 }).apply(conv(input, width, 3, 1)) as tf.SymbolicTensor;
  let side = size, f = width;
  while (side > 4) {
    f = Math.min(2 * f, 8 * width);
    side /= 2;
    h = conv(h, f, 4, 2);
    h = new SynthsetBatchNorm({ momentum: 0.9, epsilon: 1e-5 }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.leakyReLU({ alpha: 0.2 }).apply(h) as tf.SymbolicTensor;
  }
  const flat = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  const dense = tf.layers.dense({ units: 128, kernelInitializer: tf.initializers.heNormal({ seed: s++ }) }).apply(flat) as tf.SymbolicTensor;
  const feats = tf.layers.leakyReLU({ alpha: 0.2, name: 'features' }).apply(dense) as tf.SymbolicTensor;
  const dropped = tf.layers.dropout({ rate: 0.3, seed: s++ }).apply(feats) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: classes, kernelInitializer: tf.initializers.glorotUniform({ seed: s++ }) }).apply(dropped) as tf.SymbolicTensor;
  return { model: tf.model({ inputs: input, outputs: logits }), features: tf.model({ inputs: input, outputs: feats }) };
}

/**
 * Random horizontal flips and ±2 px shifts per image, black where the shift uncovers the border, done
 * on the 8-bit HWC bytes before they become a tensor: no gradient flows into augmentation, and the
 * backend's reverse/pad/slice kernels are pure JS (they took 80 % of a step).
 */
export function augmentBytes(src: Uint8Array, n: number, size: number, channels: number, rand: () => number, maxShift = 2): Uint8Array {
  const out = new Uint8Array(src.length);
  const row = size * channels, img = size * row;
  for (let i = 0; i < n; i++) {
    const flip = rand() < 0.5;
    const dy = Math.floor(rand() * (2 * maxShift + 1)) - maxShift, dx = Math.floor(rand() * (2 * maxShift + 1)) - maxShift;
    for (let y = 0; y < size; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= size) continue;
      const o = i * img + y * row, s = i * img + sy * row;
      for (let x = 0; x < size; x++) {
        // Output pixel x shows source pixel x + dx of the (maybe mirrored) image.
        const mx = x + dx;
        if (mx < 0 || mx >= size) continue;
        const sx = flip ? size - 1 - mx : mx;
        for (let c = 0; c < channels; c++) out[o + x * channels + c] = src[s + sx * channels + c];
      }
    }
  }
  return out;
}

/** Trains the fixed classifier on a labelled set (seeded: same set + options → same weights). */
export function trainClassifier(set: ImageSet, opts: ClassifierOptions = {}): Classifier {
  const o = { ...CLASSIFIER_DEFAULTS, ...opts };
  if (!set.labels) throw new Error(`${set.name}: the classifier needs labelled images (an ImageFolder with class folders).`);
  const k = set.classes.length;
  const present = new Set(set.labels);
  if (present.size < 2) throw new Error(`${set.name}: needs images of at least 2 classes to train a classifier, has ${present.size}.`);
  for (const [key, v] of [['images', o.images], ['epochs', o.epochs ?? 1], ['batchSize', o.batchSize], ['width', o.width]] as const) {
    if (!(Number.isInteger(v) && v >= 1)) throw new Error(`Classifier: ${key} must be a positive integer, got ${v}.`);
  }
  const { model, features } = buildClassifier(set.size, set.channels, k, o.width, o.seed);
  const optimizer = new FusedAdamOptimizer(o.learningRate, 0.9, 0.999, 1e-7);
  const rand = rng(o.seed);
  const perEpoch = Math.ceil(set.count / o.batchSize);
  const total = o.epochs !== undefined ? perEpoch * o.epochs : Math.max(1, Math.ceil(o.images / o.batchSize));
  const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let it = 0;
  try {
    let lossSum = 0, seen = 0;
    while (it < total) {
      const order = shuffle(Array.from({ length: set.count }, (_, i) => i), rand);
      for (let b = 0; b < perEpoch && it < total; b++) {
        const idx = order.slice(b * o.batchSize, (b + 1) * o.batchSize);
        // Half-cosine decay to zero: a fixed schedule that needs no validation set.
        (optimizer as unknown as { learningRate: number }).learningRate = o.learningRate * 0.5 * (1 + Math.cos((Math.PI * it++) / total));
        const loss = tf.tidy(() => {
          const x = o.augment
            ? imagesFromBytes<tf.Tensor4D>(augmentBytes(set.read(idx), idx.length, set.size, set.channels, rand), [idx.length, set.size, set.size, set.channels])
            : imagesOf(set, idx);
          const y = tf.oneHot(tf.tensor1d(Int32Array.from(idx, (i) => set.labels![i]), 'int32'), k);
          const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, weights);
          optimizer.applyGradients(grads);
          return value;
        });
        lossSum += loss.dataSync()[0] * idx.length;
        seen += idx.length;
        loss.dispose();
        o.onProgress?.({ done: it, total, loss: lossSum / seen });
      }
    }
  } finally {
    optimizer.dispose();
  }
  return {
    model, features, classes: set.classes, size: set.size, channels: set.channels,
    dispose: () => model.dispose(),
  };
}

function checkInput(c: Classifier, set: ImageSet): void {
  if (set.size !== c.size || set.channels !== c.channels) {
    throw new Error(`${set.name}: ${set.size}x${set.size}x${set.channels} images, but the classifier was trained on ${c.size}x${c.size}x${c.channels}.`);
  }
}

// `apply` rather than `predict`: predict re-splits every batch into batches of 32 (~3x slower here).

/** Softmax probabilities, [count x classes] row-major. */
export function predict(c: Classifier, set: ImageSet, batch = 256): Float32Array {
  checkInput(c, set);
  const k = c.classes.length;
  const out = new Float32Array(set.count * k);
  for (const idx of chunks(set.count, batch)) {
    const p = tf.tidy(() => tf.softmax(c.model.apply(imagesOf(set, idx), { training: false }) as tf.Tensor2D));
    out.set(p.dataSync(), idx[0] * k);
    p.dispose();
  }
  return out;
}

/** The 128-d features, [count x dims] row-major, and dims. */
export function embed(c: Classifier, set: ImageSet, batch = 256): { data: Float32Array; dims: number } {
  checkInput(c, set);
  const dims = c.features.outputs[0].shape[1] as number;
  const out = new Float32Array(set.count * dims);
  for (const idx of chunks(set.count, batch)) {
    const f = tf.tidy(() => c.features.apply(imagesOf(set, idx), { training: false }) as tf.Tensor2D);
    out.set(f.dataSync(), idx[0] * dims);
    f.dispose();
  }
  return { data: out, dims };
}

export interface Scores {
  accuracy: number;
  /** Accuracy per true class (null where the set has no image of the class). */
  perClass: (number | null)[];
  /** confusion[true][predicted] = count. */
  confusion: number[][];
  count: number;
}

/** Accuracy and confusion of predicted (argmax) against the set's labels. */
export function score(c: Classifier, set: ImageSet): Scores {
  if (!set.labels) throw new Error(`${set.name}: scoring needs labelled images.`);
  if (set.classes.length !== c.classes.length || set.classes.some((n, i) => n !== c.classes[i])) {
    throw new Error(`${set.name} has classes [${set.classes.join(', ')}] but the classifier [${c.classes.join(', ')}]: both sets need the same class folders.`);
  }
  const k = c.classes.length;
  const probs = predict(c, set);
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let right = 0;
  for (let i = 0; i < set.count; i++) {
    let top = 0;
    for (let j = 1; j < k; j++) if (probs[i * k + j] > probs[i * k + top]) top = j;
    confusion[set.labels[i]][top]++;
    if (top === set.labels[i]) right++;
  }
  const perClass = confusion.map((row, i) => {
    const n = row.reduce((a, b) => a + b, 0);
    return n ? row[i] / n : null;
  });
  return { accuracy: set.count ? right / set.count : 0, perClass, confusion, count: set.count };
}
