// Wasserstein loss on raw critic scores: D = E[D(G(z))] - E[D(x)], G = -E[D(G(z))]. Needs a
// Lipschitz constraint on the critic (gradient penalty or spectral norm) to mean anything.
import * as tf from '@tensorflow/tfjs';
import { registerLoss, smoothingOf } from './registry.js';

registerLoss({
  name: 'wasserstein',
  d(real, fake, opts) {
    smoothingOf('wasserstein', opts, false);
    return tf.tidy(() => tf.sub(tf.mean(fake), tf.mean(real)) as tf.Scalar);
  },
  g: (fake) => tf.tidy(() => tf.neg(tf.mean(fake)) as tf.Scalar),
});
