// The output layer of a label-map generator: per-pixel class probabilities [n, h, w, K] (softmax
// over the channels). A layer of its own rather than an activation so that anything holding a
// generator (sample grids, generation, a reloaded model.json) can tell it draws K-class maps, not
// images, and read K from its config.
import * as tf from '@tensorflow/tfjs';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export interface LabelSoftmaxArgs extends LayerArgs {
  /** K: the classes, one channel each. */
  classes: number;
}

export class LabelSoftmax extends tf.layers.Layer {
  static className = 'SynthsetLabelSoftmax';
  readonly classes: number;

  constructor(args: LabelSoftmaxArgs) {
    super(args);
    this.classes = args.classes;
    if (!(Number.isInteger(this.classes) && this.classes >= 2)) throw new Error(`LabelSoftmax: classes must be an integer >= 2, got ${this.classes}.`);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (x.shape[x.rank - 1] !== this.classes) throw new Error(`LabelSoftmax: expected ${this.classes} channels, got ${x.shape[x.rank - 1]}.`);
    return tf.softmax(x);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), classes: this.classes };
  }
}

tf.serialization.registerClass(LabelSoftmax);

/** K when `model`'s output layer is a LabelSoftmax (it draws K-class maps), else null. */
export function labelMapClasses(model: tf.LayersModel): number | null {
  const last = model.outputLayers?.[0] ?? model.layers[model.layers.length - 1];
  return last instanceof LabelSoftmax ? last.classes : null;
}
