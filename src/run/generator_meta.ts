// What a saved generator says of itself (model.json's user-defined metadata) and what it takes and
// returns. Types only, so the browser page and the bundle manifest share them without Node.

/** What G takes: noise (+ a class) for the GAN families, an image for image-to-image ones. */
export type BundleInput =
  | { kind: 'latent'; zDim: number; conditional: boolean; /** Number of one-hot slots (classes.length) when conditional, else 0. */ classes: number }
  | { kind: 'image'; channels: 1 | 3; size: number; /** Directions the generator translates (CycleGAN has both). */ directions: ('AtoB' | 'BtoA')[] }
  /** A label map as `classes` one-hot channels [n, size, size, classes] (channel c = class index c), translated to a `channels` image. */
  | { kind: 'labelmap'; size: number; classes: number; channels: 1 | 3; directions: ('AtoB' | 'BtoA')[] };

/** What G returns when it is not an image: per-pixel probabilities of `classes` classes [n, size, size, classes]. */
export interface BundleOutput { kind: 'labelmap'; classes: number }

export interface GeneratorMeta {
  format: 'synthset-generator';
  version: 1;
  family: string;
  size: number;
  channels: 1 | 3;
  zDim: number;
  /** Every class name of the training data, in label order (the one-hot layout when conditional). */
  classes: string[];
  conditional: boolean;
  /** Class ids the generator was trained on (the ones it can produce). */
  present: number[];
  step: number;
  /**
   * What G takes: z (+ one-hot class when conditional), or an image of `size` x `size` x `channels`
   * in [-1, 1] with one output per direction (translate). Missing in generators saved before it: z.
   */
  input?: BundleInput;
  /** Set when G draws label maps (class probabilities) rather than images; `classes` names them by index. */
  output?: BundleOutput;
}
