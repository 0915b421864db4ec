// Conditioning by extra input planes: [image [n,h,w,c], one-hot [n,K]] -> [n,h,w,c+K], the one-hot
// repeated at every pixel. Written as two products with constant 0/1 matrices and a broadcast add
// rather than tile + concat: tfjs differentiates concat with a split that, on the CPU kernels, costs
// more than the whole rest of a DCGAN step; matMul's gradient runs natively. Exact in float32.
import * as tf from '@tensorflow/tfjs';

export class SynthsetLabelPlanes extends tf.layers.Layer {
  static className = 'SynthsetLabelPlanes';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    if (!Array.isArray(inputs) || inputs.length !== 2) throw new Error('SynthsetLabelPlanes takes [image, oneHot].');
    return tf.tidy(() => {
      const [x, hot] = inputs as [tf.Tensor4D, tf.Tensor2D];
      const [n, h, w, c] = x.shape;
      const k = hot.shape[1];
      const eye = tf.eye(c + k);
      const toImage = tf.slice(eye, [0, 0], [c, c + k]), toLabel = tf.slice(eye, [c, 0], [k, c + k]);
      const image = tf.reshape(tf.matMul(tf.reshape(x, [n * h * w, c]), toImage), [n, h, w, c + k]);
      return tf.add(image, tf.reshape(tf.matMul(hot, toLabel), [n, 1, 1, c + k]));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [img, hot] = inputShape as tf.Shape[];
    const c = img[3], k = hot[1];
    return [img[0], img[1], img[2], c == null || k == null ? null : c + k];
  }
}

tf.serialization.registerClass(SynthsetLabelPlanes);
