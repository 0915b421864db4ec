// Sample grids: the (EMA) generator on a fixed z, one row per class for conditional families, saved
// as PNG every N steps; at the end, every grid of the run becomes one animated GIF. The fixed z
// comes from the run seed, so grids of a resumed run continue the same sequence.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import gifenc from 'gifenc';
import sharp from 'sharp';
import { writeAtomic } from '../util/atomic.js';
import { generatorInputs } from '../models/family.js';
import { argmaxMaps, paletteImages } from '../models/label_maps.js';
import { labelMapClasses } from '../layers/index.js';
import { mixSeed, normals } from '../util/random.js';
import { SEED } from '../run/seed.js';

export interface SampleLayout {
  rows: number;
  cols: number;
  /** Class id per row (conditional), or null. */
  rowClasses: number[] | null;
}

/** Fixed generator inputs for a grid: z [rows*cols, zDim] and, when conditional, one-hot labels. */
export function sampleInputs(runSeed: number, zDim: number, layout: SampleLayout, numClasses: number): { z: tf.Tensor2D; oneHot: tf.Tensor2D | null } {
  const n = layout.rows * layout.cols;
  const z = tf.tensor2d(normals(mixSeed(runSeed, SEED.samples), n * zDim), [n, zDim]);
  if (!layout.rowClasses) return { z, oneHot: null };
  const hot = new Float32Array(n * numClasses);
  for (let i = 0; i < n; i++) hot[i * numClasses + layout.rowClasses[Math.floor(i / layout.cols)]] = 1;
  return { z, oneHot: tf.tensor2d(hot, [n, numClasses]) };
}

/** Images [n, s, s, c] in [-1, 1] laid out as a rows x cols grid of uint8 pixels with 1 px gaps. */
export function gridPixels(images: tf.Tensor4D, rows: number, cols: number): { data: Uint8Array; width: number; height: number; channels: number } {
  const [n, s, , c] = images.shape;
  const px = tf.tidy(() => tf.clipByValue(tf.mul(tf.add(images, 1), 127.5), 0, 255).round().dataSync());
  const gap = 1;
  const width = cols * s + (cols - 1) * gap, height = rows * s + (rows - 1) * gap;
  const data = new Uint8Array(width * height * c);
  for (let i = 0; i < Math.min(n, rows * cols); i++) {
    const r = Math.floor(i / cols), k = i % cols;
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        for (let ch = 0; ch < c; ch++) {
          data[((r * (s + gap) + y) * width + k * (s + gap) + x) * c + ch] = px[((i * s + y) * s + x) * c + ch];
        }
      }
    }
  }
  return { data, width, height, channels: c };
}

const sampleName = (step: number) => `step-${String(step).padStart(7, '0')}.png`;
const stepOf = (file: string) => Number(/^step-(\d+)\.png$/.exec(file)?.[1] ?? NaN);

/**
 * Renders one grid with `generator` and writes `<dir>/step-<step>.png`; returns the path. A
 * generator of label maps (a LabelSoftmax output) is drawn as its most likely classes in palette colours.
 */
export async function writeSampleGrid(dir: string, step: number, generator: tf.LayersModel,
  inputs: { z: tf.Tensor2D; oneHot: tf.Tensor2D | null }, layout: SampleLayout): Promise<string> {
  const k = labelMapClasses(generator);
  const images = tf.tidy(() => {
    const y = generator.predict(generatorInputs(inputs.z, inputs.oneHot)) as tf.Tensor4D;
    return k ? paletteImages(argmaxMaps(y), k) : y;
  });
  return writeGrid(dir, step, images, layout);
}

/**
 * An image-to-image grid: one row per fixed input, the family's columns side by side (input |
 * output | target for pix2pix; A | G(A) | F(G(A)) | B | F(B) | G(F(B)) for CycleGAN).
 */
export async function writeColumnsGrid(dir: string, step: number, columns: () => tf.Tensor4D[]): Promise<string> {
  let cols = 0, rows = 0;
  const images = tf.tidy(() => {
    const cs = columns();
    cols = cs.length;
    rows = cs[0].shape[0];
    const [n, h, w, c] = cs[0].shape;
    // [cols, n, h, w, c] -> [n, cols, h, w, c]: row-major order for the grid.
    return tf.reshape(tf.transpose(tf.stack(cs), [1, 0, 2, 3, 4]), [n * cols, h, w, c]) as tf.Tensor4D;
  });
  return writeGrid(dir, step, images, { rows, cols, rowClasses: null });
}

/** Float images [n, s, s, c] in [-1, 1] from cache rows (the grid's fixed inputs). */
export function imagesOfRows(cache: { readRows(rows: ArrayLike<number>): Uint8Array; size: number; channels: number }, rows: number[]): tf.Tensor4D {
  const bytes = cache.readRows(rows);
  return tf.tidy(() => tf.sub(tf.div(tf.tensor4d(Float32Array.from(bytes), [rows.length, cache.size, cache.size, cache.channels]), 127.5), 1) as tf.Tensor4D);
}

async function writeGrid(dir: string, step: number, images: tf.Tensor4D, layout: SampleLayout): Promise<string> {
  mkdirSync(dir, { recursive: true });
  let grid;
  try {
    grid = gridPixels(images, layout.rows, layout.cols);
  } finally {
    images.dispose();
  }
  const file = join(dir, sampleName(step));
  let img = sharp(Buffer.from(grid.data), { raw: { width: grid.width, height: grid.height, channels: grid.channels as 1 | 3 } });
  if (grid.channels === 1) img = img.toColourspace('b-w');
  const png = await img.png().toBuffer();
  writeAtomic(file, png);
  return file;
}

/** Deletes grids after `step` (left by a run killed after its last checkpoint, before a resume). */
export function pruneSamples(dir: string, step: number): void {
  let files: string[] = [];
  try {
    files = readdirSync(dir);
  } catch {
    return;
  }
  for (const f of files) if (stepOf(f) > step || f.includes('.tmp-')) rmSync(join(dir, f), { force: true });
}

/** Every grid in `dir`, in step order, as one looping GIF (`delay` ms per frame). */
export async function writeSamplesGif(dir: string, out: string, delay = 400): Promise<string | null> {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => Number.isFinite(stepOf(f))).sort((a, b) => stepOf(a) - stepOf(b));
  } catch {
    return null;
  }
  if (!files.length) return null;
  const gif = gifenc.GIFEncoder();
  for (const f of files) {
    const { data, info } = await sharp(join(dir, f)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const rgba = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const palette = gifenc.quantize(rgba, 256);
    gif.writeFrame(gifenc.applyPalette(rgba, palette), info.width, info.height, { palette, delay });
  }
  gif.finish();
  writeAtomic(out, gif.bytes());
  return out;
}
