// The zero-mean unit-variance step shared by the per-sample normalisation layers (layer norm over
// H, W, C; instance norm over H, W): plain tf ops, so twice differentiable and browser-safe.
import * as tf from '@tensorflow/tfjs';

export function normalise(x: tf.Tensor, axes: number[], epsilon: number): tf.Tensor {
  const centred = tf.sub(x, tf.mean(x, axes, true));
  const variance = tf.mean(tf.square(centred), axes, true);
  return tf.mul(centred, tf.rsqrt(tf.add(variance, epsilon)));
}
