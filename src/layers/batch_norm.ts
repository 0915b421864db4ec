// Batch normalisation over the last axis as a tfjs-layers layer whose training path is the
// engine's fused batchNormTrain (one kernel forward, one backward) instead of tfjs's composite
// moments + batchNorm, which costs a dozen kernels each way. Same arithmetic, weights, defaults and
// moving-average rule as tf.layers.batchNormalization, so results match it; registered for
// serialisation so a saved generator reloads with only src/layers imported.
import * as tf from '@tensorflow/tfjs';
import { batchNormTrain } from '../engine/ops/batch_norm_op.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export interface SynthsetBatchNormArgs extends LayerArgs {
  /** Moving statistics keep this fraction of their old value per training call (tfjs default 0.99). */
  momentum?: number;
  epsilon?: number;
}

export class SynthsetBatchNorm extends tf.layers.Layer {
  static className = 'SynthsetBatchNorm';
  readonly momentum: number;
  readonly epsilon: number;
  private gamma!: tf.LayerVariable;
  private beta!: tf.LayerVariable;
  private movingMean!: tf.LayerVariable;
  private movingVariance!: tf.LayerVariable;

  constructor(args: SynthsetBatchNormArgs = {}) {
    super(args);
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new Error(`SynthsetBatchNorm: momentum must be in [0, 1), got ${this.momentum}.`);
    if (!(this.epsilon > 0)) throw new Error(`SynthsetBatchNorm: epsilon must be > 0, got ${this.epsilon}.`);
    this.supportsMasking = true;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const ch = shape[shape.length - 1];
    if (ch == null) throw new Error(`SynthsetBatchNorm: the channel (last) axis must be known, got input shape ${JSON.stringify(shape)}.`);
    // Weight names and order as in tf.layers.batchNormalization, so weights transfer between the two.
    this.gamma = this.addWeight('gamma', [ch], 'float32', tf.initializers.ones(), undefined, true);
    this.beta = this.addWeight('beta', [ch], 'float32', tf.initializers.zeros(), undefined, true);
    this.movingMean = this.addWeight('moving_mean', [ch], 'float32', tf.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [ch], 'float32', tf.initializers.ones(), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (!kwargs['training']) {
        return tf.batchNorm(x, this.movingMean.read(), this.movingVariance.read(), this.beta.read(), this.gamma.read(), this.epsilon);
      }
      const { y, mean, variance } = batchNormTrain(x, this.gamma.read(), this.beta.read(), this.epsilon);
      // The batch statistics carry no gradient, so updating here, inside a gradient tape, is safe.
      const decay = 1 - this.momentum;
      const update = (v: tf.LayerVariable, batch: tf.Tensor) =>
        tf.tidy(() => { const old = v.read(); v.write(tf.sub(old, tf.mul(tf.sub(old, batch), decay))); });
      update(this.movingMean, mean);
      update(this.movingVariance, variance);
      return y;
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon };
  }
}

tf.serialization.registerClass(SynthsetBatchNorm);

/** Functional form, like tf.layers.batchNormalization. */
export const synthsetBatchNorm = (args?: SynthsetBatchNormArgs): SynthsetBatchNorm => new SynthsetBatchNorm(args);
