// Image-to-image translation with a released generator (pix2pix, cyclegan): every image of a
// folder decoded as in training (the generator's size and channels, centre-cropped), translated in
// batches, and written as `<out>/<same relative path>.png`, atomically. A run dir stands for its
// generator/ folder. A generator conditioned on label maps (pix2pix on a label-map dataset) takes a
// folder of class-index PNG maps instead, read exactly and resized by nearest neighbour.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { imagesFromBytes } from '../engine/index.js';
import { decodeImage, DEFAULT_SPEC } from '../data/image.js';
import { DataError, ProblemLog, type Problem } from '../data/errors.js';
import { listImages } from '../data/scan.js';
import { fitLabelMap, readLabelMap, valuesPresent } from '../data/label_map.js';
import type { Direction } from '../models/index.js';
import { writeAtomic } from '../util/atomic.js';
import { toBytes } from '../data/image_set.js';
import { loadGenerator, type LoadedGenerator } from '../run/generator.js';

/** A run dir (its generator/) or a generator folder, loaded; an error unless it translates images. */
export async function loadTranslator(path: string): Promise<LoadedGenerator> {
  const dir = existsSync(join(path, 'generator', 'model.json')) ? join(path, 'generator') : path;
  const g = await loadGenerator(dir);
  if (g.meta.input?.kind !== 'image' && g.meta.input?.kind !== 'labelmap') {
    g.model.dispose();
    throw new Error(`${g.dir} is a ${g.meta.family} generator that samples from noise; translate needs an image-to-image generator (a pix2pix or cyclegan run).`);
  }
  return g;
}

/** The output index of `direction` in the generator, or an error naming the ones it has. */
export function directionIndex(g: LoadedGenerator, direction: Direction): number {
  const input = g.meta.input;
  const dirs = input?.kind === 'image' || input?.kind === 'labelmap' ? input.directions : [];
  const k = dirs.indexOf(direction);
  if (k < 0) throw new Error(`The ${g.meta.family} generator in ${g.dir} translates ${dirs.join(' and ')} only, not ${direction}.`);
  return k;
}

/** Images [n, s, s, c] in [-1, 1] translated in `direction` (inference mode). */
export function translateTensor(g: LoadedGenerator, x: tf.Tensor4D, direction: Direction = 'AtoB'): tf.Tensor4D {
  const k = directionIndex(g, direction);
  return tf.tidy(() => {
    const y = g.model.predict(x);
    return (Array.isArray(y) ? y[k] : y) as tf.Tensor4D;
  });
}

/**
 * Class-index maps [n * size * size] (the generator's size) translated to images [n, s, s, c] in
 * [-1, 1]: each map becomes `classes` one-hot channels first. The caller disposes the result.
 */
export function translateMaps(g: LoadedGenerator, indices: Uint8Array, direction: Direction = 'AtoB'): tf.Tensor4D {
  const input = g.meta.input;
  if (input?.kind !== 'labelmap') throw new Error(`${g.dir} translates ${input?.kind ?? 'latent'} inputs, not label maps.`);
  const s = input.size, n = indices.length / (s * s);
  if (!Number.isInteger(n)) throw new Error(`${indices.length} class indices are not whole ${s}x${s} maps.`);
  const x = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor3d(Int32Array.from(indices), [n, s, s], 'int32'), input.classes), 'float32') as tf.Tensor4D);
  try {
    return translateTensor(g, x, direction);
  } finally {
    x.dispose();
  }
}

/**
 * `n` inputs as stored bytes (class indices for a label-map generator, 8-bit pixels otherwise, at the
 * generator's input size) translated to images [n, s, s, c] in [-1, 1]. The caller disposes the result.
 */
export function translateBytes(g: LoadedGenerator, bytes: Uint8Array, n: number, direction: Direction = 'AtoB'): tf.Tensor4D {
  const meta = g.meta.input;
  if (meta?.kind === 'labelmap') return translateMaps(g, bytes, direction);
  if (meta?.kind !== 'image') throw new Error(`${g.dir} does not translate images.`);
  const x = imagesFromBytes<tf.Tensor4D>(bytes, [n, meta.size, meta.size, meta.channels]);
  try {
    return translateTensor(g, x, direction);
  } finally {
    x.dispose();
  }
}

/** A map file read for `g`: exact indices, each one a class of the generator, nearest-neighbour to its size. */
async function readMapFor(g: LoadedGenerator, file: string, size: number, classes: number): Promise<Uint8Array> {
  const map = await readLabelMap(file);
  const stray = valuesPresent(map.data).filter((v) => v >= classes || !g.meta.classes[v]);
  if (stray.length) {
    throw new DataError(file, `label values ${stray.slice(0, 10).join(', ')} are not classes of the generator in ${g.dir} (it knows ${g.meta.classes.flatMap((c, i) => (c ? [i] : [])).join(', ')})`,
      'translate maps with the classes it was trained on');
  }
  return fitLabelMap(map, size);
}

export interface TranslateOptions {
  direction?: Direction;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface TranslateResult { written: number; out: string; problems: Problem[] }

/** Translates every image under `inputDir` into `outDir` (same relative name, .png). */
export async function translateFolder(g: LoadedGenerator, inputDir: string, outDir: string, o: TranslateOptions = {}): Promise<TranslateResult> {
  const input = resolve(inputDir), out = resolve(outDir);
  if (!existsSync(input)) throw new Error(`${input}: input folder not found.`);
  const meta = g.meta.input;
  if (meta?.kind !== 'image' && meta?.kind !== 'labelmap') throw new Error(`${g.dir} does not translate images.`);
  const maps = meta.kind === 'labelmap';
  const direction = o.direction ?? 'AtoB';
  directionIndex(g, direction);
  const log = new ProblemLog(false);
  const files = listImages(input, log);
  if (!files.length) throw new Error(`${input}: no images found (${[...log.problems].length} unreadable).`);
  const spec = { ...DEFAULT_SPEC, size: meta.size, channels: meta.channels as 1 | 3 };
  const batch = o.batchSize ?? 8, px = meta.size * meta.size * meta.channels, inPx = maps ? meta.size * meta.size : px;
  let written = 0, done = 0;
  for (let s = 0; s < files.length; s += batch) {
    const chunk = files.slice(s, s + batch);
    const ok: string[] = [], bytes: Uint8Array[] = [];
    for (const f of chunk) {
      try {
        bytes.push(maps ? await readMapFor(g, f, meta.size, meta.classes) : await decodeImage(f, spec));
        ok.push(f);
      } catch (err) {
        log.add(err, f);
      }
    }
    if (ok.length) {
      const flat = new Uint8Array(ok.length * inPx);
      bytes.forEach((b, i) => flat.set(b, i * inPx));
      const y = translateBytes(g, flat, ok.length, direction);
      const outBytes = toBytes(y);
      y.dispose();
      for (let i = 0; i < ok.length; i++) {
        const rel = relative(input, ok[i]);
        const file = join(out, `${rel.slice(0, rel.length - extname(rel).length)}.png`);
        let img = sharp(Buffer.from(outBytes.subarray(i * px, (i + 1) * px)), { raw: { width: meta.size, height: meta.size, channels: meta.channels as 1 | 3 } });
        if (meta.channels === 1) img = img.toColourspace('b-w');
        mkdirSync(dirname(file), { recursive: true });
        writeAtomic(file, await img.png().toBuffer());
        written++;
      }
    }
    done += chunk.length;
    o.onProgress?.(done, files.length);
  }
  return { written, out, problems: log.problems };
}
