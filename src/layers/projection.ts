// The projection discriminator's head (Miyato & Koyama 2018): logit = dense(h) + <embed(y), h>, the
// class entering as an inner product with D's features rather than as extra input channels. With
// numClasses 0 it is the dense part alone. Spectral normalisation of both matrices is optional
// (on for SNGAN, off for a gradient-penalty critic).
import * as tf from '@tensorflow/tfjs';
import { spectralNormalize } from './spectral_norm.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export interface ProjectionHeadArgs extends LayerArgs {
  /** Classes of the one-hot second input; 0 = unconditional (a single input). */
  numClasses: number;
  spectral?: boolean;
  seed?: number;
}

export class ProjectionHead extends tf.layers.Layer {
  static className = 'ProjectionHead';
  readonly numClasses: number;
  readonly spectral: boolean;
  readonly seed: number;
  private kernel!: tf.LayerVariable;
  private bias!: tf.LayerVariable;
  private embed: tf.LayerVariable | null = null;
  private uKernel: tf.LayerVariable | null = null;
  private uEmbed: tf.LayerVariable | null = null;

  constructor(args: ProjectionHeadArgs) {
    super(args);
    if (!(Number.isInteger(args.numClasses) && args.numClasses >= 0)) {
      throw new Error(`ProjectionHead: numClasses must be a whole number >= 0, got ${args.numClasses}.`);
    }
    this.numClasses = args.numClasses;
    this.spectral = args.spectral ?? true;
    this.seed = args.seed ?? 0;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tf.Shape[];
    const features = shapes[0][1];
    if (shapes[0].length !== 2 || features == null) throw new Error(`ProjectionHead: expects [n, features] features, got ${JSON.stringify(shapes[0])}.`);
    if (this.numClasses > 0 && (shapes.length !== 2 || shapes[1][1] !== this.numClasses)) {
      throw new Error(`ProjectionHead: expects [features, one-hot labels of ${this.numClasses} classes], got ${JSON.stringify(shapes)}.`);
    }
    const unitU = (name: string, n: number, seed: number) =>
      this.addWeight(name, [n], 'float32', tf.initializers.randomNormal({ mean: 0, stddev: 1, seed }), undefined, false);
    this.kernel = this.addWeight('kernel', [features, 1], 'float32', tf.initializers.glorotUniform({ seed: this.seed }));
    this.bias = this.addWeight('bias', [1], 'float32', tf.initializers.zeros());
    if (this.spectral) this.uKernel = unitU('sn_u', 1, this.seed + 1);
    if (this.numClasses > 0) {
      this.embed = this.addWeight('embed', [this.numClasses, features], 'float32', tf.initializers.glorotUniform({ seed: this.seed + 2 }));
      if (this.spectral) this.uEmbed = unitU('embed_sn_u', features, this.seed + 3);
    }
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const [h, oneHot] = (Array.isArray(inputs) ? inputs : [inputs]) as tf.Tensor2D[];
      const training = !!kwargs['training'];
      const sn = (w: tf.LayerVariable, u: tf.LayerVariable | null) => (u ? spectralNormalize(w.read(), u, training) : w.read());
      let out: tf.Tensor = tf.fused.matMul({ a: h, b: sn(this.kernel, this.uKernel) as tf.Tensor2D, bias: this.bias.read() });
      if (this.embed) {
        if (!oneHot) throw new Error('ProjectionHead: conditional head called without labels.');
        const e = tf.matMul(oneHot, sn(this.embed, this.uEmbed) as tf.Tensor2D);
        out = tf.add(out, tf.sum(tf.mul(e, h), 1, true));
      }
      return out;
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tf.Shape[];
    return [shapes[0][0], 1];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), numClasses: this.numClasses, spectral: this.spectral, seed: this.seed };
  }
}

/** Sum over the spatial axes, [n, h, w, c] -> [n, c] (SNGAN's D pools by sum, not mean). */
export class GlobalSumPooling2D extends tf.layers.Layer {
  static className = 'GlobalSumPooling2D';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.sum(Array.isArray(inputs) ? inputs[0] : inputs, [1, 2]));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [s[0], s[3]];
  }
}

tf.serialization.registerClass(ProjectionHead);
tf.serialization.registerClass(GlobalSumPooling2D);
