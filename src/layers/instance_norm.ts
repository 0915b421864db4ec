// Instance normalisation (Ulyanov et al.): each sample's each channel normalised over H x W, with
// an optional per-channel scale and shift (CycleGAN's reference uses none: affine false, no
// running statistics, so training and inference compute the same thing). Plain ops only, so the
// tape differentiates it and a saved generator reloads anywhere.
import * as tf from '@tensorflow/tfjs';
import { normalise } from './normalise.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export interface InstanceNormArgs extends LayerArgs {
  epsilon?: number;
  /** Learn gamma (ones) and beta (zeros) per channel. Default false, as in the CycleGAN reference. */
  affine?: boolean;
}

export class InstanceNorm extends tf.layers.Layer {
  static className = 'InstanceNorm';
  readonly epsilon: number;
  readonly affine: boolean;
  private gamma: tf.LayerVariable | null = null;
  private beta: tf.LayerVariable | null = null;

  constructor(args: InstanceNormArgs = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-5;
    this.affine = args.affine ?? false;
    if (!(this.epsilon > 0)) throw new Error(`InstanceNorm: epsilon must be > 0, got ${this.epsilon}.`);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const ch = shape[3];
    if (shape.length !== 4 || ch == null) throw new Error(`InstanceNorm: expects NHWC input with known channels, got ${JSON.stringify(shape)}.`);
    if (this.affine) {
      this.gamma = this.addWeight('gamma', [ch], 'float32', tf.initializers.ones());
      this.beta = this.addWeight('beta', [ch], 'float32', tf.initializers.zeros());
    }
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const xhat = normalise(x, [1, 2], this.epsilon);
      return this.gamma && this.beta ? tf.add(tf.mul(xhat, this.gamma.read()), this.beta.read()) : xhat;
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon, affine: this.affine };
  }
}

tf.serialization.registerClass(InstanceNorm);
