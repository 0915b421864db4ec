// The released artefact: the (EMA) generator alone, in the tfjs layers format (model.json +
// weights.bin) that tf.loadLayersModel reads in Node or a browser once synthset's layers are
// registered, with what a user needs to sample from it in model.json's user-defined metadata.
// Generation is per image: image i's z comes from (seed, i) and its class from i, and batch-norm
// runs in inference mode, so any shard of indices reproduces the same images as a full run.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '../layers/index.js';
import type { BundleInput, BundleOutput } from './manifest.js';
import { writeAtomic } from '../util/atomic.js';
import { memorySet, type ImageSet } from '../data/image_set.js';
import { forward, latentInputs, toUint8 } from './sampling.js';

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

const MODEL = 'model.json';
const WEIGHTS = 'weights.bin';

/** Writes `model` with `meta` into `dir` (files replaced atomically). */
export async function saveGenerator(dir: string, model: tf.LayersModel, meta: GeneratorMeta): Promise<string> {
  const out = resolve(dir);
  mkdirSync(out, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (a) => {
    const data = a.weightData instanceof ArrayBuffer ? new Uint8Array(a.weightData) : new Uint8Array(await new Blob((a.weightData ?? []) as ArrayBuffer[]).arrayBuffer());
    writeAtomic(join(out, WEIGHTS), data);
    const json = {
      format: 'layers-model', generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`, convertedBy: null,
      modelTopology: a.modelTopology, weightsManifest: [{ paths: [WEIGHTS], weights: a.weightSpecs }],
      userDefinedMetadata: { synthset: meta },
    };
    writeAtomic(join(out, MODEL), JSON.stringify(json));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return out;
}

export interface LoadedGenerator { model: tf.LayersModel; meta: GeneratorMeta; dir: string }

export async function loadGenerator(dir: string): Promise<LoadedGenerator> {
  const root = resolve(dir);
  let json: { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]; userDefinedMetadata?: { synthset?: GeneratorMeta } };
  try {
    json = JSON.parse(readFileSync(join(root, MODEL), 'utf8'));
  } catch (err) {
    throw new Error(`${join(root, MODEL)}: cannot read a generator (${(err as Error).message.split('\n')[0]}). Point at a run's generator/ folder, or export one with \`synthset export <run>\`.`);
  }
  const meta = json.userDefinedMetadata?.synthset;
  if (meta?.format !== 'synthset-generator') throw new Error(`${join(root, MODEL)}: a tfjs model but not a synthset generator (no synthset metadata).`);
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const bytes = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(root, p)))));
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
  return { model, meta, dir: root };
}

export interface GenerateOptions {
  /** Images to make (indices first..first+count-1). */
  count: number;
  first?: number;
  seed?: number;
  /** Class ids to cycle through (default: every class the generator was trained on). */
  classes?: number[];
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export { classOf } from './sampling.js';

/** Images at the given indices as 8-bit pixels, row-major, one after the other. */
export function generateBytes(g: LoadedGenerator, seed: number, indices: ArrayLike<number>, classes: number[]): { bytes: Uint8Array; labels: Int32Array } {
  const x = latentInputs(g.meta, seed, indices, classes);
  const out = forward(tf, g.model, g.meta, x);
  try {
    return { bytes: toUint8(out.dataSync()), labels: x.labels };
  } finally {
    out.dispose();
  }
}

/** Checks class ids against what the generator was trained on. */
export function checkClasses(meta: GeneratorMeta, classes: number[]): void {
  const bad = classes.filter((c) => !meta.present.includes(c));
  if (bad.length) throw new Error(`Class id(s) ${bad.join(', ')} were not trained; this generator makes ${meta.present.map((c) => `${c} (${meta.classes[c]})`).join(', ')}.`);
}

/** Generates images first..first+count-1 as an 8-bit labelled set (labels null when unconditional). */
export function generateSet(g: LoadedGenerator, o: GenerateOptions): ImageSet {
  const { meta } = g;
  if (meta.output) throw new Error(`${g.dir} draws label maps (${meta.family}), not images: pair it with a pix2pix run, \`synthset generate --labelmaps ${g.dir} --translate <pix2pix run> --count N --out <dir>\`.`);
  if (meta.input?.kind === 'image' || meta.input?.kind === 'labelmap') throw new Error(`${g.dir} is an image-to-image generator (${meta.family}): it translates images rather than sampling them; use \`synthset translate --run ${g.dir} --input <dir> --out <dir>\`.`);
  const first = o.first ?? 0, seed = o.seed ?? 0, batch = o.batchSize ?? 256;
  if (!(Number.isInteger(o.count) && o.count >= 1)) throw new Error(`count must be a positive integer, got ${o.count}.`);
  const classes = o.classes ?? meta.present;
  checkClasses(meta, classes);
  const px = meta.size * meta.size * meta.channels;
  const bytes = new Uint8Array(o.count * px);
  const labels = meta.conditional ? new Int32Array(o.count) : null;
  for (let s = 0; s < o.count; s += batch) {
    const n = Math.min(batch, o.count - s);
    const r = generateBytes(g, seed, Array.from({ length: n }, (_, j) => first + s + j), classes);
    bytes.set(r.bytes, s * px);
    labels?.set(r.labels, s);
    o.onProgress?.(s + n, o.count);
  }
  return memorySet({ name: `generated by ${g.dir}`, size: meta.size, channels: meta.channels, classes: meta.classes, labels, bytes });
}
