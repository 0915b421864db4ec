// Layer normalisation of image features over each sample's whole map (H, W, C), with a per-channel
// scale and shift, as in the WGAN-GP critic. tf.layers.layerNormalization over axes [1, 2, 3] works
// but its second-order gradient (what a gradient penalty takes) runs thousands of Slice/Pad kernels
// per step; this form is a handful of elementwise ops and reductions, all twice differentiable.
import * as tf from '@tensorflow/tfjs';
import { normalise } from './normalise.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export interface LayerNorm2DArgs extends LayerArgs {
  epsilon?: number;
}

export class LayerNorm2D extends tf.layers.Layer {
  static className = 'LayerNorm2D';
  readonly epsilon: number;
  private gamma!: tf.LayerVariable;
  private beta!: tf.LayerVariable;

  constructor(args: LayerNorm2DArgs = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-5;
    if (!(this.epsilon > 0)) throw new Error(`LayerNorm2D: epsilon must be > 0, got ${this.epsilon}.`);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const ch = shape[3];
    if (shape.length !== 4 || ch == null) throw new Error(`LayerNorm2D: expects NHWC input with known channels, got ${JSON.stringify(shape)}.`);
    this.gamma = this.addWeight('gamma', [ch], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [ch], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const xhat = normalise(x, [1, 2, 3], this.epsilon);
      return tf.add(tf.mul(xhat, this.gamma.read()), this.beta.read());
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}

tf.serialization.registerClass(LayerNorm2D);
