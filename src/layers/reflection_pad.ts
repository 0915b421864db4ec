// Reflection padding of H and W (PyTorch's ReflectionPad2d: the border row itself is not repeated).
// Not tf.mirrorPad: its registered gradient (MirrorPad_grad) only slices dy back to the input's
// shape, dropping what the mirrored border pixels send back to the pixels they copy. Built from
// slice, reverse and concat, every piece of which has a correct gradient, so autodiff is right.
import * as tf from '@tensorflow/tfjs';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export interface ReflectionPad2DArgs extends LayerArgs {
  /** Pixels added on every side of H and W. */
  padding: number;
}

/** x padded by reflection by `p` on both sides of `axis` (1 = H, 2 = W of NHWC). */
export function reflect(x: tf.Tensor4D, p: number, axis: 1 | 2): tf.Tensor4D {
  if (p === 0) return x;
  const n = x.shape[axis];
  if (p >= n) throw new Error(`ReflectionPad2D: padding ${p} needs more than ${p} pixels along axis ${axis}, got ${n}.`);
  const part = (start: number) => {
    const begin = [0, 0, 0, 0], size = [-1, -1, -1, -1];
    begin[axis] = start;
    size[axis] = p;
    return tf.reverse(tf.slice(x, begin, size), axis);
  };
  return tf.concat([part(1), x, part(n - 1 - p)], axis) as tf.Tensor4D;
}

export class ReflectionPad2D extends tf.layers.Layer {
  static className = 'ReflectionPad2D';
  readonly padding: number;

  constructor(args: ReflectionPad2DArgs) {
    super(args);
    this.padding = args.padding;
    if (!Number.isInteger(this.padding) || this.padding < 0) throw new Error(`ReflectionPad2D: padding must be a whole number >= 0, got ${this.padding}.`);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      if (x.rank !== 4) throw new Error(`ReflectionPad2D: expects NHWC input, got shape ${JSON.stringify(x.shape)}.`);
      return reflect(reflect(x, this.padding, 1), this.padding, 2);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w, c] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const grow = (d: number | null) => (d == null ? null : d + 2 * this.padding);
    return [n, grow(h), grow(w), c];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), padding: this.padding };
  }
}

tf.serialization.registerClass(ReflectionPad2D);
