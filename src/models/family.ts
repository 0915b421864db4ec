// The contract between GAN families and the one training loop. A family builds its networks and
// optimizers and knows its own update; the loop owns data, schedules, checkpoints, samples, EMA,
// the image pool and DiffAugment, and hands the last two to the family as hooks, so a family never
// knows how it is trained or displayed. Adding a family = one file calling `registerFamily`.
import type * as tf from '@tensorflow/tfjs';

export type ImageSize = 32 | 64 | 128 | 256;

/**
 * What a family trains on: `images` (one list, labelled or not: z + class families), `paired`
 * (A/ and B/ with matching names: batch.real[i] with batch.b[i]; or a label-map dataset's (map,
 * photo) pairs), `unpaired` (two independent domains: batch.real from A, batch.b from B) or
 * `labelmaps` (the maps of a label-map dataset alone).
 */
export type DataKind = 'images' | 'paired' | 'unpaired' | 'labelmaps';

/** Directions an image-to-image generator translates; output k of the generator is direction k. */
export type Direction = 'AtoB' | 'BtoA';

export interface FamilyContext {
  size: ImageSize;
  channels: 1 | 3;
  /** 0 for unconditional data. Conditional families require >= 2. */
  numClasses: number;
  /**
   * Label-map data: K, the one-hot width of its maps (largest class index + 1). Domain A's batches
   * then hold one channel of class indices in the byte mapping (models/label_maps.ts), not images.
   */
  labelClasses?: number;
  zDim: number;
  /** The family's own validated options (its `defaults` merged with the user's config). */
  options: Record<string, unknown>;
  /** Seed for weight initialisation. */
  seed: number;
  /** Differentially-private training: the family must refuse what would break it (batch norm in D). */
  private?: boolean;
}

export interface TrainBatch {
  /** float32 [n, size, size, channels] in [-1, 1]. */
  real: tf.Tensor4D;
  /** int32 [n] class ids, or null for unlabelled data. */
  labels: tf.Tensor1D | null;
  /** Domain B for `paired` (the partner of each image of `real`) and `unpaired` (an independent batch); absent otherwise. */
  b?: tf.Tensor4D | null;
}

export interface StepContext {
  step: number;
  /** Every random draw of this step derives from this seed, so a resumed run repeats exactly. */
  seed: number;
  /** Differentiable augmentation applied to every image D sees (real and fake), or identity. */
  augment: (x: tf.Tensor4D, seed: number) => tf.Tensor4D;
  /**
   * Mixes stored fakes into D's fake batch (experience replay), or identity. Call with detached
   * fakes. `name` picks one of the model's `poolNames` (one pool per direction); default the main pool.
   */
  pool: (fake: tf.Tensor4D, seed: number, name?: string) => tf.Tensor4D;
  /**
   * A private run's step (families with `private: true`): the real batch is a Poisson sample of
   * any size (0 included), D's update from it is DP-SGD with these settings, and fakes number
   * `fakes` with labels drawn uniformly, never copied from the private batch.
   */
  dp?: PrivateStep;
  /**
   * The small-data regularisers' view of every D update (train/small_data.ts: LeCam, ADA): D's raw
   * outputs on the real and on the fake batch, a `stat` to record what they follow; a returned
   * term is added to D's loss. Absent when none is on; a family that supports them calls it.
   */
  dOutputs?: (real: tf.Tensor, fake: tf.Tensor, stat: (name: string, x: tf.Scalar) => void) => tf.Scalar | null;
}

/** What the loop hands a private family each step (the mechanism itself lives in privacy/). */
export interface PrivateStep {
  /** Fakes per D update (the expected batch size). */
  fakes: number;
  /** The per-example clipping norm C (the fake side's gradient is held to it too, for balance). */
  clip: number;
  /**
   * DP-SGD's noisy mean of the per-example gradients of `exampleLoss(i)`, i < n, each clipped;
   * the caller owns the result.
   */
  gradients(vars: tf.Variable[], n: number, exampleLoss: (i: number) => tf.Scalar): { grads: tf.NamedTensorMap; loss: tf.Scalar; clippedShare: tf.Scalar };
  /**
   * The same from one batched pass of `model` on `inputs` (n ≥ 1 rows), `totalLoss` being the sum of
   * the examples' losses; also returns the model's outputs. Null when the model has a layer that
   * pass cannot handle (then use `gradients`).
   */
  batchGradients?(model: tf.LayersModel, vars: tf.Variable[], inputs: tf.Tensor[], totalLoss: (outputs: tf.Tensor[]) => tf.Scalar):
    { grads: tf.NamedTensorMap; loss: tf.Scalar; clippedShare: tf.Scalar; outputs: tf.Tensor[] } | null;
  /**
   * Σ of the per-example gradients of `totalLoss`, each clipped to C, without noise (for examples
   * that hold no private data, so that they weigh as much as the private ones); null as above.
   */
  clippedSum?(model: tf.LayersModel, inputs: tf.Tensor[], totalLoss: (outputs: tf.Tensor[]) => tf.Scalar): { sums: tf.NamedTensorMap; outputs: tf.Tensor[] } | null;
}

export interface GanModel {
  /** The generator alone: input z [n, zDim] (plus one-hot labels [n, numClasses] when conditional). */
  readonly generator: tf.LayersModel;
  /** Every network, by name (at least `g` and `d`), for checkpoints. */
  readonly nets: Record<string, tf.LayersModel>;
  readonly optimizers: Record<string, tf.Optimizer>;
  /**
   * One training step (n_dis D updates then one G update). `batches` has `ndis` entries: D update i
   * uses batches[i]; the G update reuses the last. Returns named scalars for the log (losses,
   * D(x), D(G(z)), ...). Must leave no tensors behind.
   */
  trainStep(batches: TrainBatch[], ctx: StepContext): Record<string, number>;
  /** A fresh generator with the same architecture (the loop's EMA copy). */
  buildGenerator(): tf.LayersModel;
  /** D updates per step (the loop fetches this many batches). */
  readonly ndis: number;
  /** Extra image pools the step asks for by name (besides the main one), e.g. one per direction. */
  readonly poolNames?: string[];
  dispose(): void;
}

export interface GanFamily {
  name: string;
  description: string;
  /**
   * Whether the model is conditioned on labels: fixed, or decided from the options and the number of
   * classes the data has (0 when unlabelled), e.g. "conditional whenever there are >= 2 classes".
   */
  conditional: boolean | ((options: Record<string, unknown>, dataClasses: number) => boolean);
  /** Default options; the loop rejects unknown keys. */
  defaults: Record<string, unknown>;
  /** The data the family trains on; default `images`. */
  data?: DataKind;
  /**
   * For image-to-image families: the directions the generator translates (one output each, in this
   * order) and the sample grid's columns for a few fixed inputs (`a` and, paired or unpaired, `b`).
   * Absent for z (+ class) families.
   */
  translate?: {
    directions: Direction[];
    sampleColumns(generator: tf.LayersModel, a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D[];
  };
  /** Can train differentially privately (its trainStep honours StepContext.dp). */
  private?: boolean;
  build(ctx: FamilyContext): GanModel;
}

const families = new Map<string, GanFamily>();

export function registerFamily(f: GanFamily): void {
  if (families.has(f.name)) throw new Error(`GAN family "${f.name}" is registered twice.`);
  families.set(f.name, f);
}

export function getFamily(name: string): GanFamily {
  const f = families.get(name);
  if (!f) throw new Error(`Unknown GAN family "${name}": use one of ${[...families.keys()].join(', ') || '(none registered)'}.`);
  return f;
}

export const familyNames = (): string[] => [...families.keys()];

export const dataKindOf = (f: GanFamily): DataKind => f.data ?? 'images';

/** The generator's input for n samples: z, plus one-hot labels when conditional. */
export function generatorInputs(z: tf.Tensor2D, oneHot: tf.Tensor2D | null): tf.Tensor | tf.Tensor[] {
  return oneHot ? [z, oneHot] : z;
}
