// Conditional batch normalisation (de Vries et al.; as in SNGAN's and BigGAN's generators): batch
// statistics are shared, but the scale and shift come from the class, through an embedding of the
// one-hot label (gamma = 1 + onehot·Wg would be the same; the table starts at ones instead).
// With numClasses 0 it is plain batch normalisation with one gamma/beta. Training calls use the
// engine's fused batchNormTrain (one kernel each way; not twice differentiable, fine in G).
import * as tf from '@tensorflow/tfjs';
import { batchNormTrain } from '../engine/ops/batch_norm_op.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export interface ConditionalBatchNormArgs extends LayerArgs {
  /** Classes of the one-hot second input; 0 = unconditional (a single input). */
  numClasses: number;
  /** Moving statistics keep this fraction of their old value per training call. */
  momentum?: number;
  epsilon?: number;
}

export class ConditionalBatchNorm extends tf.layers.Layer {
  static className = 'ConditionalBatchNorm';
  readonly numClasses: number;
  readonly momentum: number;
  readonly epsilon: number;
  private gamma!: tf.LayerVariable;
  private beta!: tf.LayerVariable;
  private movingMean!: tf.LayerVariable;
  private movingVariance!: tf.LayerVariable;

  constructor(args: ConditionalBatchNormArgs) {
    super(args);
    if (!(Number.isInteger(args.numClasses) && args.numClasses >= 0)) {
      throw new Error(`ConditionalBatchNorm: numClasses must be a whole number >= 0, got ${args.numClasses}.`);
    }
    this.numClasses = args.numClasses;
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-5;
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new Error(`ConditionalBatchNorm: momentum must be in [0, 1), got ${this.momentum}.`);
    if (!(this.epsilon > 0)) throw new Error(`ConditionalBatchNorm: epsilon must be > 0, got ${this.epsilon}.`);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const multi = Array.isArray(inputShape[0]);
    const shapes = (multi ? inputShape : [inputShape]) as tf.Shape[];
    const x = shapes[0];
    const ch = x[x.length - 1];
    if (ch == null) throw new Error(`ConditionalBatchNorm: the channel (last) axis must be known, got ${JSON.stringify(x)}.`);
    if (this.numClasses > 0 && (shapes.length !== 2 || shapes[1][1] !== this.numClasses)) {
      throw new Error(`ConditionalBatchNorm: expects [x, one-hot labels of ${this.numClasses} classes], got ${JSON.stringify(shapes)}.`);
    }
    if (this.numClasses === 0 && shapes.length !== 1) throw new Error('ConditionalBatchNorm: unconditional (numClasses 0) takes one input.');
    const table = this.numClasses > 0 ? [this.numClasses, ch] : [ch];
    this.gamma = this.addWeight('gamma', table, 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', table, 'float32', tf.initializers.zeros());
    this.movingMean = this.addWeight('moving_mean', [ch], 'float32', tf.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [ch], 'float32', tf.initializers.ones(), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const [x, oneHot] = Array.isArray(inputs) ? inputs : [inputs];
      const ch = x.shape[x.shape.length - 1];
      const training = !!kwargs['training'];
      const conditional = this.numClasses > 0;
      let y: tf.Tensor;
      if (training) {
        const scale = conditional ? tf.ones([ch]) : this.gamma.read();
        const shift = conditional ? tf.zeros([ch]) : this.beta.read();
        const r = batchNormTrain(x, scale, shift, this.epsilon);
        // Batch statistics carry no gradient, so updating here, inside a gradient tape, is safe.
        const decay = 1 - this.momentum;
        for (const [v, batch] of [[this.movingMean, r.mean], [this.movingVariance, r.variance]] as const) {
          const old = v.read();
          v.write(tf.sub(old, tf.mul(tf.sub(old, batch), decay)));
        }
        y = r.y;
      } else if (conditional) {
        y = tf.batchNorm(x, this.movingMean.read(), this.movingVariance.read(), undefined, undefined, this.epsilon);
      } else {
        return tf.batchNorm(x, this.movingMean.read(), this.movingVariance.read(), this.beta.read(), this.gamma.read(), this.epsilon);
      }
      if (!conditional) return y;
      if (!oneHot) throw new Error('ConditionalBatchNorm: conditional layer called without labels.');
      // Per-sample [n, 1, ..., 1, ch] so it broadcasts over the spatial axes.
      const bcast = [x.shape[0], ...x.shape.slice(1, -1).map(() => 1), ch];
      const gamma = tf.reshape(tf.matMul(oneHot as tf.Tensor2D, this.gamma.read() as tf.Tensor2D), bcast);
      const beta = tf.reshape(tf.matMul(oneHot as tf.Tensor2D, this.beta.read() as tf.Tensor2D), bcast);
      return tf.add(tf.mul(y, gamma), beta);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), numClasses: this.numClasses, momentum: this.momentum, epsilon: this.epsilon };
  }
}

tf.serialization.registerClass(ConditionalBatchNorm);
