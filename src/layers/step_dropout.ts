// Dropout whose masks come from a seed the training step sets (pix2pix's U-Net dropout). Keras'
// dropout draws from Math.random unless given one fixed seed, which repeats one mask forever; here
// the family calls `reseed(stepSeed)` before each step, so masks differ per step and per call, and
// a resumed run draws the same ones. Identity at inference, like any dropout.
import * as tf from '@tensorflow/tfjs';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export interface StepDropoutArgs extends LayerArgs {
  rate: number;
}

export class StepDropout extends tf.layers.Layer {
  static className = 'StepDropout';
  readonly rate: number;
  private seed: number | null = null;
  private calls = 0;

  constructor(args: StepDropoutArgs) {
    super(args);
    this.rate = args.rate;
    if (!(this.rate >= 0 && this.rate < 1)) throw new Error(`StepDropout: rate must be in [0, 1), got ${this.rate}.`);
  }

  /** Seeds the masks of the calls that follow (until the next reseed). */
  reseed(seed: number): void {
    this.seed = seed >>> 0;
    this.calls = 0;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs?.training || this.rate === 0) return tf.clone(x);
    const seed = this.seed === null ? undefined : (this.seed + Math.imul(++this.calls, 0x9e3779b1)) >>> 0;
    return tf.tidy(() => tf.dropout(x, this.rate, undefined, seed));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}

tf.serialization.registerClass(StepDropout);
