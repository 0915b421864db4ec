// The released artefact: the (EMA) generator alone, in the tfjs layers format (model.json +
// weights.bin) that tf.loadLayersModel reads in Node or a browser once synthset's layers are
// registered, with what a user needs to sample from it in model.json's user-defined metadata.
// Part of the run-dir format (<run>/generator/), so training writes it and io, eval read it.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '../layers/index.js';
import { writeAtomic } from '../util/atomic.js';
import type { GeneratorMeta } from './generator_meta.js';


export type { GeneratorMeta } from './generator_meta.js';

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

type ModelJson = { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]; userDefinedMetadata?: { synthset?: GeneratorMeta } };

function readModelJson(root: string): { json: ModelJson; meta: GeneratorMeta } {
  let json: ModelJson;
  try {
    json = JSON.parse(readFileSync(join(root, MODEL), 'utf8'));
  } catch (err) {
    throw new Error(`${join(root, MODEL)}: cannot read a generator (${(err as Error).message.split('\n')[0]}). Point at a run's generator/ folder, or export one with \`synthset export <run>\`.`);
  }
  const meta = json.userDefinedMetadata?.synthset;
  if (meta?.format !== 'synthset-generator') throw new Error(`${join(root, MODEL)}: a tfjs model but not a synthset generator (no synthset metadata).`);
  return { json, meta };
}

/** A saved generator's metadata, without loading its weights. */
export const readGeneratorMeta = (dir: string): GeneratorMeta => readModelJson(resolve(dir)).meta;

export async function loadGenerator(dir: string): Promise<LoadedGenerator> {
  const root = resolve(dir);
  const { json, meta } = readModelJson(root);
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const bytes = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(root, p)))));
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
  return { model, meta, dir: root };
}
