// Non-saturating GAN loss: binary cross-entropy on logits. softplus(x) - t*x is the stable form of
// -t*log(sigmoid(x)) - (1-t)*log(1-sigmoid(x)); its gradient is just sigmoid(x) - t, so it costs
// far fewer kernels than tf.losses.sigmoidCrossEntropy's weighted-reduction path.
import * as tf from '@tensorflow/tfjs';
import { registerLoss, smoothingOf } from './registry.js';

registerLoss({
  name: 'bce',
  d(real, fake, opts) {
    const s = smoothingOf('bce', opts, true);
    return tf.tidy(() => {
      const realTerm = tf.sub(tf.mean(tf.softplus(real)), tf.mul(1 - s, tf.mean(real)));
      return tf.add(realTerm, tf.mean(tf.softplus(fake))) as tf.Scalar;
    });
  },
  // -log(sigmoid(f)): G maximises log D(G(z)) instead of minimising log(1 - D(G(z))).
  g: (fake) => tf.tidy(() => tf.mean(tf.softplus(tf.neg(fake))) as tf.Scalar),
});
