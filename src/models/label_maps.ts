// Label maps inside the networks. The loop's batches carry a map as one channel of class indices
// mapped like image bytes (index k -> k / 127.5 - 1, so the loop, the cache and the jitter need no
// special case); families turn them into K one-hot channels, and draw maps in palette colours for
// the sample grids.
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from '../engine/index.js';
import { paletteTable } from '../util/palette.js';

/** Class indices int32 [n, h, w] of a batch of maps [n, h, w, 1] in the byte mapping. */
export function mapIndices(x: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => tf.cast(tf.round(tf.mul(tf.add(tf.squeeze(x, [3]), 1), 127.5)), 'int32') as tf.Tensor3D);
}

/** One-hot float32 [n, h, w, k] of a batch of maps [n, h, w, 1] in the byte mapping. */
export function oneHotMaps(x: tf.Tensor4D, k: number): tf.Tensor4D {
  return tf.tidy(() => tf.cast(tf.oneHot(mapIndices(x), k), 'float32') as tf.Tensor4D);
}

/** Class indices int32 [n, h, w] of per-pixel class scores [n, h, w, k] (the most likely class). */
export const argmaxMaps = (p: tf.Tensor4D): tf.Tensor3D => tf.argMax(p, 3) as tf.Tensor3D;

/**
 * The straight-through one-hot of class probabilities: forward, the one-hot of the most likely class
 * (what D sees of a real map); backward, the gradient of the probabilities.
 */
export function straightThrough(p: tf.Tensor4D): tf.Tensor4D {
  const hard = tf.cast(tf.oneHot(argmaxMaps(p), p.shape[3]), 'float32');
  return tf.add(p, stopGradient(tf.sub(hard, p))) as tf.Tensor4D;
}

/** A Gumbel-softmax sample softmax(log p + g), g ~ Gumbel(0, 1), of class probabilities p (temperature 1). */
export function gumbelSoftmax(p: tf.Tensor4D, seed: number): tf.Tensor4D {
  return tf.tidy(() => {
    const u = tf.randomUniform(p.shape, 1e-6, 1 - 1e-6, 'float32', seed);
    const g = tf.neg(tf.log(tf.neg(tf.log(u))));
    return tf.softmax(tf.add(tf.log(tf.add(p, 1e-8)), g)) as tf.Tensor4D;
  });
}

/** Class indices [n, h, w] drawn in the palette's colours as images [n, h, w, 3] in [-1, 1]. */
export function paletteImages(indices: tf.Tensor3D, k: number): tf.Tensor4D {
  return tf.tidy(() => {
    const table = tf.sub(tf.div(tf.tensor2d(Float32Array.from(paletteTable(k)), [k, 3]), 127.5), 1);
    const [n, h, w] = indices.shape;
    return tf.reshape(tf.gather(table, tf.reshape(indices, [-1])), [n, h, w, 3]) as tf.Tensor4D;
  });
}
