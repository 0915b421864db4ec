// DiffAugment (Zhao et al. 2020): random colour, translation and cutout applied to every image D
// sees, real and fake alike, built from differentiable ops so G's gradient passes through. The
// random parameters are drawn in JS from the seed of the call and enter the graph as constants:
// the same seed gives the same augmentation on any backend, and only the images carry gradients.
import * as tf from '@tensorflow/tfjs';
import { rng } from '../util/random.js';

import { AUGMENT_OPS, type AugmentOp } from '../run/config.js';

export { AUGMENT_OPS, type AugmentOp };

export interface AugmentOptions {
  policy: AugmentOp[];
  /** Largest shift as a share of the side (DiffAugment's default 1/8). */
  translation?: number;
  /** Cutout square side as a share of the side (DiffAugment's default 1/2). */
  cutout?: number;
}

const perImage = (n: number, rand: () => number, f: (u: number) => number) =>
  tf.tensor4d(Float32Array.from({ length: n }, () => f(rand())), [n, 1, 1, 1]);

/**
 * Which images an op applies to: all of them without a strength (DiffAugment), else each with
 * probability p (ADA). Drawn only when there is a strength, so a run without ADA keeps its draws.
 */
function gates(n: number, rand: () => number, p: number | null): boolean[] {
  return Array.from({ length: n }, () => p === null || rand() < p);
}

/** Brightness, saturation and contrast jitter, as in the reference implementation. */
function color(x: tf.Tensor4D, rand: () => number, p: number | null): tf.Tensor4D {
  const n = x.shape[0];
  const on = gates(n, rand, p);
  const param = (f: (u: number) => number, off: number) => {
    let i = 0;
    return perImage(n, rand, (u) => (on[i++] ? f(u) : off));
  };
  let y = tf.add(x, param((u) => u - 0.5, 0));
  if (x.shape[3] > 1) {
    const mean = tf.mean(y, 3, true);
    y = tf.add(tf.mul(tf.sub(y, mean), param((u) => u * 2, 1)), mean);
  }
  const mean = tf.mean(y, [1, 2, 3], true);
  return tf.add(tf.mul(tf.sub(y, mean), param((u) => u + 0.5, 1)), mean) as tf.Tensor4D;
}

/** [count, size, size] 0/1 matrices: row i of matrix k picks source index i + offsets[k] (none outside). */
function shiftMatrices(offsets: number[], size: number, repeat = 1): Float32Array {
  const m = new Float32Array(offsets.length * repeat * size * size);
  offsets.forEach((d, k) => {
    for (let r = 0; r < repeat; r++) {
      const base = (k * repeat + r) * size * size;
      for (let i = 0; i < size; i++) if (i + d >= 0 && i + d < size) m[base + i * size + i + d] = 1;
    }
  });
  return m;
}

/**
 * Shifts each image by up to `ratio` of its side, filling with zeros. Written as two batched
 * matmuls with 0/1 shift matrices (rows, then columns) rather than pad + a slice per image + concat:
 * those are pure-JS kernels whose gradients cost more than D's convolutions; matmuls run natively
 * in both directions and are exact with 0/1 weights.
 */
function translation(x: tf.Tensor4D, rand: () => number, ratio: number, p: number | null): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const sh = Math.round(h * ratio), sw = Math.round(w * ratio);
  if (sh === 0 && sw === 0) return x;
  const on = gates(n, rand, p);
  const dy: number[] = [], dx: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = Math.floor(rand() * (2 * sh + 1)) - sh, xx = Math.floor(rand() * (2 * sw + 1)) - sw;
    dy.push(on[i] ? y : 0);
    dx.push(on[i] ? xx : 0);
  }
  const rows = tf.matMul(tf.tensor3d(shiftMatrices(dy, h), [n, h, h]), tf.reshape(x, [n, h, w * c]));
  const cols = tf.matMul(tf.tensor3d(shiftMatrices(dx, w, h), [n * h, w, w]), tf.reshape(rows, [n * h, w, c]));
  return tf.reshape(cols, [n, h, w, c]);
}

/** Zeroes one square of side `ratio` of the image per image, at a random place (may overhang). */
function cutout(x: tf.Tensor4D, rand: () => number, ratio: number, p: number | null): tf.Tensor4D {
  const [n, h, w] = x.shape;
  const ch = Math.round(h * ratio), cw = Math.round(w * ratio);
  const on = gates(n, rand, p);
  const mask = new Float32Array(n * h * w).fill(1);
  for (let i = 0; i < n; i++) {
    const cy = Math.floor(rand() * (h + 1 - (ch % 2))), cx = Math.floor(rand() * (w + 1 - (cw % 2)));
    if (!on[i]) continue;
    const y0 = Math.max(0, cy - Math.floor(ch / 2)), y1 = Math.min(h, cy - Math.floor(ch / 2) + ch);
    const x0 = Math.max(0, cx - Math.floor(cw / 2)), x1 = Math.min(w, cx - Math.floor(cw / 2) + cw);
    for (let y = y0; y < y1; y++) mask.fill(0, i * h * w + y * w + x0, i * h * w + y * w + x1);
  }
  return tf.mul(x, tf.tensor4d(mask, [n, h, w, 1]));
}

/**
 * The `augment` hook of StepContext for a policy; identity when the policy is empty. With
 * `strength` (ADA), each op applies to each image with that probability, read at every call.
 */
export function diffAugment(opts: AugmentOptions, strength?: () => number): (x: tf.Tensor4D, seed: number) => tf.Tensor4D {
  for (const op of opts.policy) {
    if (!AUGMENT_OPS.includes(op)) throw new Error(`Unknown DiffAugment op "${op}": use ${AUGMENT_OPS.join(', ')}.`);
  }
  if (!opts.policy.length) return (x) => x;
  return (x, seed) => tf.tidy(() => {
    const rand = rng(seed);
    const p = strength ? strength() : null;
    if (p === 0) return x;
    let y = x;
    for (const op of opts.policy) {
      if (op === 'color') y = color(y, rand, p);
      else if (op === 'translation') y = translation(y, rand, opts.translation ?? 1 / 8, p);
      else y = cutout(y, rand, opts.cutout ?? 1 / 2, p);
    }
    return y;
  });
}
