// The bundle's manifest.json: what a user (or a program) needs to drive the generator without
// synthset's source: what it takes, what it returns, and a hash of every file it ships.
// Browser-safe (types only).

import type { BundleInput } from '../run/generator_meta.js';

export type { BundleInput, BundleOutput } from '../run/generator_meta.js';

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
