// ProGAN's minibatch standard deviation (Karras et al. 2018, section 3): one extra feature map
// holding how much the images of a small group differ from each other, so D can see a collapsed
// batch (every z drawing the same picture) that no single image gives away. Mixes examples: never
// in a private D (the private families build their own nets without it).
import * as tf from '@tensorflow/tfjs';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export interface MinibatchStdArgs extends LayerArgs {
  /** Images per group (ProGAN: 4); a batch not divisible by it is one group. */
  groupSize?: number;
}

export class MinibatchStd extends tf.layers.Layer {
  static className = 'SynthsetMinibatchStd';
  readonly groupSize: number;

  constructor(args: MinibatchStdArgs = {}) {
    super(args);
    this.groupSize = args.groupSize ?? 4;
    if (!(Number.isInteger(this.groupSize) && this.groupSize >= 2)) throw new Error(`MinibatchStd: groupSize must be an integer >= 2, got ${this.groupSize}.`);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [n, h, w, c] = x.shape;
      const g = n % this.groupSize === 0 ? this.groupSize : n;
      // [g, n/g, h, w, c]: member j of group m is image j * n/g + m, as in the reference.
      const y = tf.reshape(x, [g, n / g, h, w, c]);
      const centred = tf.sub(y, tf.mean(y, 0, true));
      const std = tf.sqrt(tf.add(tf.mean(tf.square(centred), 0), 1e-8)); // [n/g, h, w, c]
      const perGroup = tf.mean(std, [1, 2, 3]); // [n/g]
      const perImage = tf.reshape(tf.tile(tf.reshape(perGroup, [1, n / g]), [g, 1]), [n, 1, 1, 1]);
      return tf.concat([x, tf.tile(perImage, [1, h, w, 1])], 3);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w, c] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [n, h, w, c == null ? null : c + 1];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groupSize: this.groupSize };
  }
}

tf.serialization.registerClass(MinibatchStd);
