// Hinge loss (as used by SNGAN / BigGAN): D = E[relu(1 - D(x))] + E[relu(1 + D(G(z)))], G = -E[D(G(z))].
import * as tf from '@tensorflow/tfjs';
import { registerLoss, smoothingOf } from './registry.js';

registerLoss({
  name: 'hinge',
  d(real, fake, opts) {
    smoothingOf('hinge', opts, false);
    return tf.tidy(() => tf.add(tf.mean(tf.relu(tf.sub(1, real))), tf.mean(tf.relu(tf.add(1, fake)))) as tf.Scalar);
  },
  g: (fake) => tf.tidy(() => tf.neg(tf.mean(fake)) as tf.Scalar),
});
