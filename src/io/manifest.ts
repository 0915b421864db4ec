// The bundle's manifest.json: what a user (or a program) needs to drive the generator without
// synthset's source: what it takes, what it returns, and a hash of every file it ships.
// Browser-safe (types only).

/** What G takes: noise (+ a class) for the GAN families, an image for image-to-image ones. */
export type BundleInput =
  | { kind: 'latent'; zDim: number; conditional: boolean; /** Number of one-hot slots (classes.length) when conditional, else 0. */ classes: number }
  | { kind: 'image'; channels: 1 | 3; size: number; /** Directions the generator translates (CycleGAN has both). */ directions: ('AtoB' | 'BtoA')[] }
  /** A label map as `classes` one-hot channels [n, size, size, classes] (channel c = class index c), translated to a `channels` image. */
  | { kind: 'labelmap'; size: number; classes: number; channels: 1 | 3; directions: ('AtoB' | 'BtoA')[] };

/** What G returns when it is not an image: per-pixel probabilities of `classes` classes [n, size, size, classes]. */
export interface BundleOutput { kind: 'labelmap'; classes: number }

export interface BundleFile { path: string; bytes: number; sha256: string }

export interface BundleManifest {
  format: 'synthset-bundle';
  version: 1;
  family: string;
  input: BundleInput;
  /** What G returns: NHWC float32 images. */
  image: { size: number; channels: 1 | 3 };
  /** G's output range and the 8-bit mapping every synthset writer applies. */
  valueRange: { from: [-1, 1]; to: 'uint8'; mapping: 'round((x + 1) * 127.5), clamped to 0..255' };
  /** Every class name in label order (the one-hot layout when conditional). */
  classes: string[];
  /** Class ids the generator was trained on. */
  present: number[];
  step: number;
  synthsetVersion: string;
  tfjsVersion: string;
  created: string;
  /** The generator's model files (model.json and its weights), with their hashes. */
  model: BundleFile[];
  /** The other files of the bundle (page, scripts, card). */
  files: BundleFile[];
}
