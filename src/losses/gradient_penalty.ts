// WGAN-GP's gradient penalty (Gulrajani et al.): lambda * E[(||grad_x critic(x_hat)||_2 - 1)^2] at
// x_hat = real + eps * (fake - real), eps ~ U(0, 1) per sample. Call it inside the critic's
// variableGrads: the penalty's own gradient reaches the critic's weights through tf.grad (second
// order), so every op in the critic must be twice differentiable (no batchNormTrain, no batch
// statistics at all: they would also couple the samples whose gradients are meant to be separate).
import * as tf from '@tensorflow/tfjs';

export function gradientPenalty(critic: (x: tf.Tensor4D) => tf.Tensor, real: tf.Tensor4D, fake: tf.Tensor4D,
  seed: number, lambda = 10): tf.Scalar {
  if (real.shape.join() !== fake.shape.join()) {
    throw new Error(`gradientPenalty: real ${JSON.stringify(real.shape)} and fake ${JSON.stringify(fake.shape)} differ in shape.`);
  }
  return tf.tidy(() => {
    const n = real.shape[0];
    const eps = tf.randomUniform([n, 1, 1, 1], 0, 1, 'float32', seed);
    const xHat = tf.add(real, tf.mul(eps, tf.sub(fake, real))) as tf.Tensor4D;
    // Samples are independent, so the gradient of the summed scores is each sample's own gradient.
    const grad = tf.grad((x: tf.Tensor) => tf.sum(critic(x as tf.Tensor4D)))(xHat);
    // The tiny constant keeps sqrt's gradient finite where a sample's gradient vanishes.
    const norm = tf.sqrt(tf.add(tf.sum(tf.square(grad), [1, 2, 3]), 1e-12));
    return tf.mul(lambda, tf.mean(tf.square(tf.sub(norm, 1)))) as tf.Scalar;
  });
}
