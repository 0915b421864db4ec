// The pix2pix/CycleGAN data jitter (load at 286, random-crop 256, random flip) as one
// crop-and-resize per batch: a random window of 1/scale of the image, resampled bilinearly to the
// training size, is the same as upscaling by `scale` and cropping; a box with x1 > x2 samples the
// window mirrored. A pair (A and B) gets the same window and flip. Draws come from the step's seed.
// Batches of label maps (class indices) are resampled by nearest neighbour instead: a bilinear
// blend of two class indices is a third class. The data stream marks them, since the loop hands
// jitter bare tensors.
import * as tf from '@tensorflow/tfjs';
import { rng } from '../util/random.js';

export interface JitterOptions { scale: number; flip: boolean }

/** The crop boxes [y1, x1, y2, x2] for n images, a pure function of the seed. */
export function jitterBoxes(n: number, o: JitterOptions, seed: number): number[][] {
  const rand = rng(seed), f = 1 / o.scale;
  return Array.from({ length: n }, () => {
    const y = rand() * (1 - f), x = rand() * (1 - f);
    const flip = o.flip && rand() < 0.5;
    return flip ? [y, x + f, y + f, x] : [y, x, y + f, x + f];
  });
}

const labelMaps = new WeakSet<tf.Tensor>();

/** Marks batches of label maps so that jitter resamples them by nearest neighbour. */
export function markLabelMaps(x: tf.Tensor): void {
  labelMaps.add(x);
}

/** Every image of `images` through its box (same boxes for each tensor given); label maps stay maps. */
export function jitter(images: tf.Tensor4D[], o: JitterOptions, seed: number): tf.Tensor4D[] {
  const [n, h, w] = images[0].shape;
  const boxes = jitterBoxes(n, o, seed);
  const out = tf.tidy(() => {
    const b = tf.tensor2d(boxes, [n, 4]), ind = tf.range(0, n, 1, 'int32') as tf.Tensor1D;
    return images.map((x) => tf.image.cropAndResize(x, b, ind, [h, w], labelMaps.has(x) ? 'nearest' : 'bilinear'));
  });
  out.forEach((y, i) => {
    if (labelMaps.has(images[i])) labelMaps.add(y);
  });
  return out;
}
