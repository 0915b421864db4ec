// Spectral normalisation (Miyato et al. 2018): a weight is divided by an estimate of its largest
// singular value, so every layer of D is (about) 1-Lipschitz. The estimate comes from one power
// iteration per training call with a persistent vector `u`, a non-trainable weight: it converges
// over training steps, is saved with the model and travels with getWeights/setWeights. Inference
// calls reuse `u` without updating it, so evaluating D never changes it.
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from '../engine/ops/stop_gradient.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

const NORM_EPS = 1e-12;


const l2normalize = (x: tf.Tensor): tf.Tensor => tf.div(x, tf.add(tf.norm(x), NORM_EPS));

/** The weight viewed as a matrix [rows, outputs]: the last axis is the output axis (conv and dense). */
export function weightMatrix(w: tf.Tensor): tf.Tensor2D {
  const out = w.shape[w.shape.length - 1];
  return tf.reshape(w, [-1, out]);
}

/**
 * w / sigma(w), sigma from one power-iteration step on `u` ([outputs]). With `update`, the new `u`
 * is written back (training); otherwise the stored one is used as is.
 */
export function spectralNormalize(w: tf.Tensor, u: tf.LayerVariable, update: boolean): tf.Tensor {
  return tf.tidy(() => {
    const out = w.shape[w.shape.length - 1];
    const wm = weightMatrix(w);
    // Power iteration is not differentiated (u and v are constants of the step, as in the reference
    // implementation), so it runs on a detached view of W.
    const fixed = stopGradient(wm);
    let uCol = tf.reshape(u.read(), [out, 1]);
    const v = l2normalize(tf.matMul(fixed, uCol));
    if (update) {
      uCol = l2normalize(tf.matMul(fixed, v, true, false));
      u.write(tf.reshape(uCol, [out]));
    }
    // sigma = v^T W u, differentiated through W only.
    const sigma = tf.sum(tf.mul(v, tf.matMul(wm, uCol)));
    return tf.div(w, sigma);
  });
}

/** Largest singular value as currently estimated from the stored `u` (for tests and monitoring). */
export function estimatedSigma(w: tf.Tensor, u: tf.Tensor): number {
  return tf.tidy(() => {
    const wm = weightMatrix(w);
    const uCol = tf.reshape(u, [-1, 1]);
    const v = l2normalize(tf.matMul(wm, uCol));
    return tf.sum(tf.mul(v, tf.matMul(wm, uCol))).dataSync()[0];
  });
}

// A random start for `u`; it is normalised on first use, so its scale does not matter.
const uInit = (seed: number) => tf.initializers.randomNormal({ mean: 0, stddev: 1, seed });

export interface SNConv2DArgs extends LayerArgs {
  filters: number;
  kernelSize: number;
  strides?: number;
  padding?: 'same' | 'valid';
  useBias?: boolean;
  /** Seed of the Glorot-uniform kernel and of the initial `u`. */
  seed?: number;
}

/** A 2D convolution (NHWC, square kernel) with a spectrally normalised kernel. */
export class SNConv2D extends tf.layers.Layer {
  static className = 'SNConv2D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: 'same' | 'valid';
  readonly useBias: boolean;
  readonly seed: number;
  kernel!: tf.LayerVariable;
  bias: tf.LayerVariable | null = null;
  u!: tf.LayerVariable;

  constructor(args: SNConv2DArgs) {
    super(args);
    if (!(Number.isInteger(args.filters) && args.filters > 0)) throw new Error(`SNConv2D: filters must be a positive integer, got ${args.filters}.`);
    if (!(Number.isInteger(args.kernelSize) && args.kernelSize > 0)) throw new Error(`SNConv2D: kernelSize must be a positive integer, got ${args.kernelSize}.`);
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.strides = args.strides ?? 1;
    this.padding = args.padding ?? 'same';
    this.useBias = args.useBias ?? true;
    this.seed = args.seed ?? 0;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const cin = shape[3];
    if (shape.length !== 4 || cin == null) throw new Error(`SNConv2D: expects NHWC input with known channels, got ${JSON.stringify(shape)}.`);
    const k = this.kernelSize;
    this.kernel = this.addWeight('kernel', [k, k, cin, this.filters], 'float32', tf.initializers.glorotUniform({ seed: this.seed }));
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', tf.initializers.zeros());
    this.u = this.addWeight('sn_u', [this.filters], 'float32', uInit(this.seed + 1), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const w = spectralNormalize(this.kernel.read(), this.u, !!kwargs['training']) as tf.Tensor4D;
      return tf.fused.conv2d({ x, filter: w, strides: this.strides, pad: this.padding, bias: this.bias?.read() });
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const size = (d: number | null) => (d == null ? null
      : this.padding === 'same' ? Math.ceil(d / this.strides) : Math.ceil((d - this.kernelSize + 1) / this.strides));
    return [n, size(h), size(w), this.filters];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, strides: this.strides,
      padding: this.padding, useBias: this.useBias, seed: this.seed,
    };
  }
}

export interface SNDenseArgs extends LayerArgs {
  units: number;
  useBias?: boolean;
  seed?: number;
}

/** A dense layer on [n, features] with a spectrally normalised kernel. */
export class SNDense extends tf.layers.Layer {
  static className = 'SNDense';
  readonly units: number;
  readonly useBias: boolean;
  readonly seed: number;
  kernel!: tf.LayerVariable;
  bias: tf.LayerVariable | null = null;
  u!: tf.LayerVariable;

  constructor(args: SNDenseArgs) {
    super(args);
    if (!(Number.isInteger(args.units) && args.units > 0)) throw new Error(`SNDense: units must be a positive integer, got ${args.units}.`);
    this.units = args.units;
    this.useBias = args.useBias ?? true;
    this.seed = args.seed ?? 0;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const features = shape[shape.length - 1];
    if (shape.length !== 2 || features == null) throw new Error(`SNDense: expects [n, features] input, got ${JSON.stringify(shape)}.`);
    this.kernel = this.addWeight('kernel', [features, this.units], 'float32', tf.initializers.glorotUniform({ seed: this.seed }));
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], 'float32', tf.initializers.zeros());
    this.u = this.addWeight('sn_u', [this.units], 'float32', uInit(this.seed + 1), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
      const w = spectralNormalize(this.kernel.read(), this.u, !!kwargs['training']) as tf.Tensor2D;
      return tf.fused.matMul({ a: x, b: w, bias: this.bias?.read() });
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0], this.units];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units, useBias: this.useBias, seed: this.seed };
  }
}

tf.serialization.registerClass(SNConv2D);
tf.serialization.registerClass(SNDense);
