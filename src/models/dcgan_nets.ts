// The DCGAN networks (Radford et al.) shared by the dcgan and cgan families, as tf.LayersModels so
// the generator saves and exports like any Keras model. G: dense -> 4x4xC, then k4 s2 transposed
// convolutions with batch-norm + ReLU, tanh. D: k4 s2 convolutions with LeakyReLU(0.2), a dense
// logit. Conditional variants take a one-hot label: concatenated to z in G, and broadcast over
// H x W as extra input planes in D.
import * as tf from '@tensorflow/tfjs';
import { MinibatchStd, SynthsetBatchNorm, SynthsetConv2D, SynthsetLabelPlanes } from '../layers/index.js';
import { ConditionalBatchNorm } from '../layers/conditional_batch_norm.js';
import { ProjectionHead } from '../layers/projection.js';

export interface NetShape {
  size: 32 | 64 | 128;
  /** Image channels (1 or 3), or K for a discriminator of K-channel one-hot label maps. */
  channels: number;
  zDim: number;
  /** 0 = unconditional. */
  numClasses: number;
  /** Channels of G's last hidden layer and D's first (64 in the paper). */
  width: number;
  /** D's base width when it differs from G's. */
  dWidth?: number;
  /** Batch-norm in D (off by default: unstable with small batches). */
  dBatchNorm: boolean;
  /** D also outputs K class logits (AC-GAN's auxiliary classifier) and takes no label input; needs numClasses. */
  auxClassifier?: boolean;
  /**
   * Conditioning as in SNGAN, not by concatenation: G's batch-norms take their scale and shift from
   * the class (conditional batch-norm), and D's logit adds <embed(y), features> (projection head)
   * instead of reading the label as input planes. Needs numClasses.
   */
  projection?: boolean;
  /** A minibatch standard-deviation feature map before D's head (ProGAN), against mode collapse. */
  minibatchStd?: boolean;
  seed: number;
}

// PyTorch's batch-norm settings (the reference DCGAN): moving stats follow the batch quickly
// enough that a short run's generator is already usable in inference mode.
const BN = { momentum: 0.9, epsilon: 1e-5 };

/**
 * Hidden widths from the 4x4 end to the full-size end: width * 2^k, capped at 8 * width so that
 * 128 px does not reach 16x the base width (the paper's 64 px network tops out at 8x).
 */
export function hiddenWidths(size: number, width: number): number[] {
  const ups = Math.log2(size / 4);
  return Array.from({ length: ups }, (_, i) => Math.min(width * 2 ** (ups - 1 - i), 8 * width));
}

function initializer(seed: number): ReturnType<typeof tf.initializers.randomNormal> {
  return tf.initializers.randomNormal({ mean: 0, stddev: 0.02, seed });
}

export function buildGenerator(s: NetShape): tf.LayersModel {
  const chans = hiddenWidths(s.size, s.width);
  let seed = s.seed;
  const z = tf.input({ shape: [s.zDim], name: 'z' });
  const label = s.numClasses ? tf.input({ shape: [s.numClasses], name: 'label' }) : null;
  const inputs = label ? [z, label] : [z];
  // With projection the class enters through every batch-norm instead.
  const start = label && !s.projection ? (tf.layers.concatenate().apply([z, label]) as tf.SymbolicTensor) : z;
  // No biases before batch-norm: its beta makes them redundant, and each costs a gradient.
  let h = tf.layers.dense({ units: 16 * chans[0], useBias: false, kernelInitializer: initializer(seed++) }).apply(start) as tf.SymbolicTensor;
  h = tf.layers.reshape({ targetShape: [4, 4, chans[0]] }).apply(h) as tf.SymbolicTensor;
  for (let i = 0; i < chans.length; i++) {
    h = (label && s.projection ? new ConditionalBatchNorm({ numClasses: s.numClasses, ...BN }).apply([h, label]) : new SynthsetBatchNorm(BN).apply(h)) as tf.SymbolicTensor;
    h = tf.layers.reLU().apply(h) as tf.SymbolicTensor;
    const last = i === chans.length - 1;
    h = tf.layers.conv2dTranspose({
      filters: last ? s.channels : chans[i + 1], kernelSize: 4, strides: 2, padding: 'same', useBias: last,
      kernelInitializer: initializer(seed++),
    }).apply(h) as tf.SymbolicTensor;
  }
  const out = tf.layers.activation({ activation: 'tanh' }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs, outputs: out, name: 'generator' });
}

/**
 * AC-GAN's D sees the image alone: with the label beside it, its classifier could read the answer.
 * A projection head reads the label only after the features the classifier uses, so it keeps it.
 */
export function discriminatorTakesLabel(s: NetShape): boolean {
  return s.numClasses > 0 && (!s.auxClassifier || !!s.projection);
}

export function buildDiscriminator(s: NetShape): tf.LayersModel {
  const chans = [...hiddenWidths(s.size, s.dWidth ?? s.width)].reverse();
  let seed = s.seed + 1000;
  const image = tf.input({ shape: [s.size, s.size, s.channels], name: 'image' });
  const label = discriminatorTakesLabel(s) ? tf.input({ shape: [s.numClasses], name: 'label' }) : null;
  let h: tf.SymbolicTensor = image;
  // The label as constant planes beside the image, so every conv position sees the class.
  if (label && !s.projection) h = new SynthsetLabelPlanes().apply([image, label]) as tf.SymbolicTensor;
  chans.forEach((c, i) => {
    // As in the paper, no batch-norm on D's input layer.
    const bn = s.dBatchNorm && i > 0;
    // Not tf.layers.conv2d: its fused kernel's gradient computes gradients nobody asked for.
    h = new SynthsetConv2D({ filters: c, kernelSize: 4, strides: 2, padding: 'same', useBias: !bn, seed: seed++ }).apply(h) as tf.SymbolicTensor;
    if (bn) h = new SynthsetBatchNorm(BN).apply(h) as tf.SymbolicTensor;
    h = tf.layers.leakyReLU({ alpha: 0.2 }).apply(h) as tf.SymbolicTensor;
  });
  if (s.minibatchStd) h = new MinibatchStd().apply(h) as tf.SymbolicTensor;
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  const logit = (label && s.projection
    ? new ProjectionHead({ numClasses: s.numClasses, spectral: false, seed: seed++ }).apply([h, label])
    : tf.layers.dense({ units: 1, kernelInitializer: initializer(seed++) }).apply(h)) as tf.SymbolicTensor;
  const cls = s.auxClassifier ? tf.layers.dense({ units: s.numClasses, kernelInitializer: initializer(seed++), name: 'class_logits' }).apply(h) as tf.SymbolicTensor : null;
  return tf.model({ inputs: label ? [image, label] : [image], outputs: cls ? [logit, cls] : logit, name: 'discriminator' });
}
