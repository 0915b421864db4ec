// The image-to-image networks of pix2pix and CycleGAN (junyanz/pytorch-CycleGAN-and-pix2pix
// `models/networks.py`): the U-Net generator, the ResNet generator and the PatchGAN discriminator.
// Weights start ~ N(0, 0.02) from seeds derived from the family's seed.
import * as tf from '@tensorflow/tfjs';
import { InstanceNorm, ReflectionPad2D, StepDropout, SynthsetBatchNorm, SynthsetConv2D } from '../layers/index.js';

export type Norm = 'batch' | 'instance';
type T = tf.SymbolicTensor;

const apply = (layer: tf.layers.Layer, x: T | T[]) => layer.apply(x) as T;
// PyTorch's batch-norm settings, as in the reference.
const norm = (kind: Norm) => (kind === 'batch' ? new SynthsetBatchNorm({ momentum: 0.9, epsilon: 1e-5 }) : new InstanceNorm({ epsilon: 1e-5 }));
const init = (seed: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.02, seed });

function convT(filters: number, kernelSize: number, seed: number, useBias: boolean) {
  return tf.layers.conv2dTranspose({ filters, kernelSize, strides: 2, padding: 'same', useBias, kernelInitializer: init(seed) });
}

export interface UnetShape {
  size: number;
  /** Output channels, and input channels unless `inChannels` says otherwise (a K-channel one-hot map in). */
  channels: number;
  inChannels?: number;
  ngf: number;
  norm: Norm;
  dropout: number;
  seed: number;
  /**
   * tanh for images (default); logits for a per-pixel classifier (eval/seg_tstr.ts), whose last
   * convolution also sees the input at full resolution: through the stride-2 trunk alone, thin
   * regions a few pixels wide are lost (measured: 93 % pixel accuracy at most on flat-coloured maps).
   */
  head?: 'tanh' | 'logits';
}

/**
 * U-Net with log2(size) downsamplings to 1x1 (unet_256 at 256 px, unet_128 at 128): k4 s2
 * convolutions, LeakyReLU(0.2) down, ReLU up, each up-level concatenated with its mirror down-level;
 * dropout on the up path of the innermost ngf*8 levels below the bottleneck, as in the reference.
 */
export function buildUnet(s: UnetShape): tf.LayersModel {
  const downs = Math.log2(s.size);
  if (!Number.isInteger(downs) || downs < 5) throw new Error(`U-Net needs a power-of-two size >= 32, got ${s.size}.`);
  const chans = Array.from({ length: downs }, (_, i) => s.ngf * Math.min(2 ** i, 8));
  let seed = s.seed;
  const input = tf.input({ shape: [s.size, s.size, s.inChannels ?? s.channels], name: 'image' });
  const skips: T[] = [];
  let h: T = input;
  for (let i = 0; i < downs; i++) {
    if (i > 0) h = apply(tf.layers.leakyReLU({ alpha: 0.2 }), h);
    const normed = i > 0 && i < downs - 1;
    h = apply(new SynthsetConv2D({ filters: chans[i], kernelSize: 4, strides: 2, padding: 'same', useBias: !normed, seed: seed++ }), h);
    if (normed) h = apply(norm(s.norm), h);
    skips.push(h);
  }
  for (let i = downs - 1; i >= 1; i--) {
    h = apply(tf.layers.reLU(), h);
    h = apply(convT(chans[i - 1], 4, seed++, false), h);
    h = apply(norm(s.norm), h);
    if (s.dropout > 0 && i >= 4 && i <= downs - 2) h = apply(new StepDropout({ rate: s.dropout }), h);
    h = apply(tf.layers.concatenate(), [skips[i - 1], h]);
  }
  h = apply(tf.layers.reLU(), h);
  if (s.head === 'logits') {
    h = apply(convT(s.ngf, 4, seed++, true), h);
    h = apply(tf.layers.concatenate(), [input, apply(tf.layers.reLU(), h)]);
    const logits = apply(new SynthsetConv2D({ filters: s.channels, kernelSize: 3, strides: 1, padding: 'same', useBias: true, stddev: Math.sqrt(2 / (9 * ((s.inChannels ?? s.channels) + s.ngf))), seed: seed++ }), h);
    return tf.model({ inputs: input, outputs: logits, name: 'unet_segmenter' });
  }
  h = apply(convT(s.channels, 4, seed++, true), h);
  const out = apply(tf.layers.activation({ activation: 'tanh' }), h);
  return tf.model({ inputs: input, outputs: out, name: 'unet' });
}

export interface ResnetShape { size: number; channels: number; ngf: number; blocks: number; seed: number }

/**
 * ResNet generator layers (resnet_6blocks / resnet_9blocks) applied to `x`: reflection-padded 7x7,
 * two stride-2 downsamplings, `blocks` residual blocks (reflection pad, 3x3, instance norm), two
 * transposed-conv upsamplings, reflection-padded 7x7 to the image, tanh.
 */
export function resnetGenerator(x: T, s: ResnetShape): T {
  let seed = s.seed;
  const conv = (filters: number, k: number, strides: number, padding: 'same' | 'valid', useBias = false) =>
    new SynthsetConv2D({ filters, kernelSize: k, strides, padding, useBias, seed: seed++ });
  const inorm = () => new InstanceNorm({ epsilon: 1e-5 });
  let h = apply(new ReflectionPad2D({ padding: 3 }), x);
  h = apply(tf.layers.reLU(), apply(inorm(), apply(conv(s.ngf, 7, 1, 'valid'), h)));
  for (const m of [2, 4]) h = apply(tf.layers.reLU(), apply(inorm(), apply(conv(s.ngf * m, 3, 2, 'same'), h)));
  for (let b = 0; b < s.blocks; b++) {
    let r = apply(new ReflectionPad2D({ padding: 1 }), h);
    r = apply(tf.layers.reLU(), apply(inorm(), apply(conv(s.ngf * 4, 3, 1, 'valid'), r)));
    r = apply(new ReflectionPad2D({ padding: 1 }), r);
    r = apply(inorm(), apply(conv(s.ngf * 4, 3, 1, 'valid'), r));
    h = apply(tf.layers.add(), [h, r]);
  }
  for (const m of [2, 1]) h = apply(tf.layers.reLU(), apply(inorm(), apply(convT(s.ngf * m, 3, seed++, false), h)));
  h = apply(new ReflectionPad2D({ padding: 3 }), h);
  h = apply(conv(s.channels, 7, 1, 'valid', true), h);
  return apply(tf.layers.activation({ activation: 'tanh' }), h);
}

export interface PatchShape { size: number; channels: number; ndf: number; norm: Norm; seed: number }

/**
 * The 70x70 PatchGAN (n_layers = 3): k4 convolutions, strides 2, 2, 2, 1, 1, zero padding 1,
 * LeakyReLU(0.2), norm from the second layer on; one logit per patch.
 */
export function buildPatchGan(s: PatchShape): tf.LayersModel {
  let seed = s.seed;
  const input = tf.input({ shape: [s.size, s.size, s.channels], name: 'image' });
  let h: T = input;
  const widths = [1, 2, 4, 8].map((m) => s.ndf * m);
  widths.forEach((f, i) => {
    const stride = i < 3 ? 2 : 1;
    if (stride === 1) h = apply(tf.layers.zeroPadding2d({ padding: 1 }), h);
    h = apply(new SynthsetConv2D({ filters: f, kernelSize: 4, strides: stride, padding: stride === 2 ? 'same' : 'valid', useBias: i === 0, seed: seed++ }), h);
    if (i > 0) h = apply(norm(s.norm), h);
    h = apply(tf.layers.leakyReLU({ alpha: 0.2 }), h);
  });
  h = apply(tf.layers.zeroPadding2d({ padding: 1 }), h);
  const out = apply(new SynthsetConv2D({ filters: 1, kernelSize: 4, strides: 1, padding: 'valid', useBias: true, seed: seed++ }), h);
  return tf.model({ inputs: input, outputs: out, name: 'patchgan' });
}

/** The StepDropout layers of a model, to reseed before each training step. */
export const dropoutsOf = (m: tf.LayersModel): StepDropout[] => m.layers.filter((l): l is StepDropout => l instanceof StepDropout);
