// The released artefact: the (EMA) generator alone, in the tfjs layers format (model.json +
// weights.bin) that tf.loadLayersModel reads in Node or a browser once synthset's layers are
// registered, with what a user needs to sample from it in model.json's user-defined metadata.
// Generation is per image: image i's z comes from (seed, i) and its class from i, and batch-norm
// runs in inference mode, so any shard of indices reproduces the same images as a full run.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '../layers/index.js';
import { writeAtomic } from '../util/atomic.js';
import { generatorInputs } from '../models/family.js';
import { mixSeed, normals } from '../util/random.js';
import { memorySet, toBytes, type ImageSet } from '../eval/image_set.js';

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
  input?: { kind: 'z'; zDim: number; classes: number } | { kind: 'image'; size: number; channels: number; directions: ('AtoB' | 'BtoA')[] };
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

/** The class of image i: the classes in turn, so every prefix of the set is balanced. */
export const classOf = (i: number, classes: number[]): number => classes[i % classes.length];

/** Generates images first..first+count-1 as an 8-bit labelled set (labels null when unconditional). */
export function generateSet(g: LoadedGenerator, o: GenerateOptions): ImageSet {
  const { meta, model } = g;
  if (meta.input?.kind === 'image') throw new Error(`${g.dir} is an image-to-image generator (${meta.family}): it translates images rather than sampling them; use \`synthset translate --run ${g.dir} --input <dir> --out <dir>\`.`);
  const first = o.first ?? 0, seed = o.seed ?? 0, batch = o.batchSize ?? 256;
  if (!(Number.isInteger(o.count) && o.count >= 1)) throw new Error(`count must be a positive integer, got ${o.count}.`);
  const classes = o.classes ?? meta.present;
  const bad = classes.filter((c) => !meta.present.includes(c));
  if (bad.length) throw new Error(`Class id(s) ${bad.join(', ')} were not trained; this generator makes ${meta.present.map((c) => `${c} (${meta.classes[c]})`).join(', ')}.`);
  const k = meta.classes.length;
  const px = meta.size * meta.size * meta.channels;
  const bytes = new Uint8Array(o.count * px);
  const labels = meta.conditional ? new Int32Array(o.count) : null;
  for (let s = 0; s < o.count; s += batch) {
    const n = Math.min(batch, o.count - s);
    const z = new Float32Array(n * meta.zDim);
    const hot = meta.conditional ? new Float32Array(n * k) : null;
    for (let j = 0; j < n; j++) {
      const i = first + s + j;
      z.set(normals(mixSeed(seed, i), meta.zDim), j * meta.zDim);
      if (hot && labels) {
        labels[s + j] = classOf(i, classes);
        hot[j * k + labels[s + j]] = 1;
      }
    }
    const out = tf.tidy(() => model.predict(generatorInputs(tf.tensor2d(z, [n, meta.zDim]), hot && tf.tensor2d(hot, [n, k]))) as tf.Tensor4D);
    bytes.set(toBytes(out), s * px);
    out.dispose();
    o.onProgress?.(s + n, o.count);
  }
  return memorySet({ name: `generated by ${g.dir}`, size: meta.size, channels: meta.channels, classes: meta.classes, labels, bytes });
}
