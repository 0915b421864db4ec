// Least-squares GAN (Mao et al., a=0, b=c=1): D = ½E[(D(x) - t)²] + ½E[D(G(z))²], G = ½E[(D(G(z)) - 1)²],
// with t = 1 - smoothing.
import * as tf from '@tensorflow/tfjs';
import { registerLoss, smoothingOf } from './registry.js';

registerLoss({
  name: 'lsgan',
  d(real, fake, opts) {
    const t = 1 - smoothingOf('lsgan', opts, true);
    return tf.tidy(() => tf.mul(0.5, tf.add(tf.mean(tf.square(tf.sub(real, t))), tf.mean(tf.square(fake)))) as tf.Scalar);
  },
  g: (fake) => tf.tidy(() => tf.mul(0.5, tf.mean(tf.square(tf.sub(fake, 1)))) as tf.Scalar),
});
