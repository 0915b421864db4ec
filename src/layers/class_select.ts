// The output of a per-class generator ensemble: [one-hot [n,K], out_0 .. out_{m-1}] -> Σ_j
// hot[:, classes[j]] * out_j, so sample i comes from the generator of its own class. It is what lets
// a per-class run (models/per_class.ts) be saved, bundled and reloaded as one conditional generator.
// A class without a generator of its own gives zeros (a run only generates the classes it trained).
import * as tf from '@tensorflow/tfjs';

export interface ClassSelectArgs {
  /** Class index (into the one-hot) of each generator output, in input order after the one-hot. */
  classes: number[];
  name?: string;
}

export class ClassSelect extends tf.layers.Layer {
  static className = 'SynthsetClassSelect';
  readonly classes: number[];

  constructor(args: ClassSelectArgs) {
    super({ name: args.name });
    this.classes = [...args.classes];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    if (!Array.isArray(inputs) || inputs.length !== this.classes.length + 1) {
      throw new Error(`SynthsetClassSelect takes [oneHot, ${this.classes.length} generator outputs].`);
    }
    return tf.tidy(() => {
      const [hot, ...outs] = inputs as [tf.Tensor2D, ...tf.Tensor4D[]];
      const n = hot.shape[0];
      // [m, n, 1, 1, 1] weights picked from the one-hot's columns, against the [m, n, h, w, c] stack.
      const w = tf.reshape(tf.transpose(tf.gather(hot, this.classes, 1)), [this.classes.length, n, 1, 1, 1]);
      return tf.sum(tf.mul(tf.stack(outs), w), 0);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (inputShape as tf.Shape[])[1];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), classes: this.classes };
  }
}

tf.serialization.registerClass(ClassSelect);
