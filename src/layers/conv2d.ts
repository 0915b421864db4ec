// A plain 2-D convolution layer: conv2d, then a separate bias add. tf.layers.conv2d goes through
// tf.fused.conv2d, whose custom gradient always computes every input's gradient: the image's on
// D's first layer and the kernels' during G's update, both thrown away. Composed from plain ops,
// the tape computes only the gradients somebody asked for (~25% of a DCGAN step).
import * as tf from '@tensorflow/tfjs';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export interface SynthsetConv2DArgs extends LayerArgs {
  filters: number;
  kernelSize: number;
  strides?: number;
  padding?: 'same' | 'valid';
  useBias?: boolean;
  /** Kernels start ~ N(0, stddev) (DCGAN's 0.02), from this seed. */
  stddev?: number;
  seed?: number;
}

export class SynthsetConv2D extends tf.layers.Layer {
  static className = 'SynthsetConv2D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: 'same' | 'valid';
  readonly useBias: boolean;
  readonly stddev: number;
  readonly seed: number | undefined;
  private kernel!: tf.LayerVariable;
  private bias: tf.LayerVariable | null = null;

  constructor(args: SynthsetConv2DArgs) {
    super(args);
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.strides = args.strides ?? 1;
    this.padding = args.padding ?? 'same';
    this.useBias = args.useBias ?? true;
    this.stddev = args.stddev ?? 0.02;
    this.seed = args.seed;
    for (const [k, v] of [['filters', this.filters], ['kernelSize', this.kernelSize], ['strides', this.strides]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`SynthsetConv2D: ${k} must be a positive integer, got ${v}.`);
    }
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const ch = shape[shape.length - 1];
    if (shape.length !== 4 || ch == null) throw new Error(`SynthsetConv2D: needs NHWC input with known channels, got ${JSON.stringify(shape)}.`);
    const k = this.kernelSize;
    this.kernel = this.addWeight('kernel', [k, k, ch, this.filters], 'float32',
      tf.initializers.randomNormal({ mean: 0, stddev: this.stddev, seed: this.seed }), undefined, true);
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', tf.initializers.zeros(), undefined, true);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const y = tf.conv2d(x, this.kernel.read() as tf.Tensor4D, this.strides, this.padding);
      return this.bias ? tf.add(y, this.bias.read()) : y;
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const out = (d: number | null) => (d == null ? null
      : this.padding === 'same' ? Math.ceil(d / this.strides) : Math.ceil((d - this.kernelSize + 1) / this.strides));
    return [n, out(h), out(w), this.filters];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, padding: this.padding,
      useBias: this.useBias, stddev: this.stddev, ...(this.seed === undefined ? {} : { seed: this.seed }),
    };
  }
}

tf.serialization.registerClass(SynthsetConv2D);
