// `sort`: file a folder of unlabelled images into class folders, from a few labelled examples per
// class. A small CNN is trained from scratch (seeded, with augmentation because the labelled set is
// tiny), every raw image is classified, and images whose top probability is below the threshold go
// to `unknown/` for a human to look at, rather than polluting a class.
import * as tf from '@tensorflow/tfjs';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { FusedAdamOptimizer } from '../engine/index.js';
import { writeAtomic } from '../util/atomic.js';
import { csvField } from '../util/text.js';
import { ProblemLog, type Problem } from './errors.js';
import { rng } from '../util/random.js';
import { checkSpec, decodeImage, DEFAULT_SPEC, type ImageSpec } from './image.js';
import { IMAGE_EXTENSIONS, listImages, listSubfolders } from './scan.js';

export interface SortOptions {
  raw: string;
  labelled: string;
  out: string;
  threshold: number;
  size?: number;
  epochs?: number;
  seed?: number;
  /** Stop at the first bad file instead of skipping and reporting it. */
  strict?: boolean;
  /** Refuse images with more pixels than this (checked from the header). */
  maxPixels?: number;
  onProgress?: (e: { stage: string; done: number; total: number }) => void;
}

export interface SortResult { counts: Record<string, number>; unknown: number; csv: string; problems: Problem[] }

export const UNKNOWN = 'unknown';
const BATCH = 16;
const CHUNK = 256;

/**
 * Random flips, shifts/crops (scale 0.8–1, up to ±10 % offset) and brightness jitter (±0.2 on the
 * [-1, 1] scale) for a batch in NHWC. One cropAndResize does flip + shift + crop: a box with x1 > x2
 * samples the image mirrored.
 */
export function augment(x: tf.Tensor4D, rand: () => number): tf.Tensor4D {
  const n = x.shape[0];
  const [h, w] = [x.shape[1], x.shape[2]];
  const boxes: number[][] = [], bright: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = 0.8 + 0.2 * rand();
    const y1 = (1 - s) * rand() + (rand() - 0.5) * 0.2, x1 = (1 - s) * rand() + (rand() - 0.5) * 0.2;
    const flip = rand() < 0.5;
    boxes.push(flip ? [y1, x1 + s, y1 + s, x1] : [y1, x1, y1 + s, x1 + s]);
    bright.push((rand() - 0.5) * 0.4);
  }
  return tf.tidy(() => {
    const moved = tf.image.cropAndResize(x, boxes, Array.from({ length: n }, (_, i) => i), [h, w], 'bilinear', -1);
    return tf.clipByValue(tf.add(moved, tf.tensor4d(bright, [n, 1, 1, 1])), -1, 1) as tf.Tensor4D;
  });
}

/**
 * Convolutions with a 2x2 kernel and stride 2, written as space-to-depth (reshape + permute) followed
 * by a dense layer on the channel axis, halving the side down to 4 px; then global average pooling,
 * so the weights are the same for any image size. Not tf.layers.conv2d: its filter gradient is a
 * pure-JS kernel that makes training ~100x slower on the cpu fallback, and MaxPoolGrad likewise;
 * this form trains through matmuls only, which every backend runs fast.
 */
export function buildClassifier(size: number, classes: number, seed: number): tf.LayersModel {
  const model = tf.sequential();
  let side = size, channels = 3, filters = 16, k = 0;
  model.add(tf.layers.inputLayer({ inputShape: [size, size, 3] }));
  while (side > 4) {
    const half = side / 2;
    model.add(tf.layers.reshape({ targetShape: [half, 2, half, 2, channels] }));
    model.add(tf.layers.permute({ dims: [1, 3, 2, 4, 5] }));
    model.add(tf.layers.reshape({ targetShape: [half, half, 4 * channels] }));
    model.add(tf.layers.dense({ units: filters, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: seed * 101 + k++ }) }));
    side = half;
    channels = filters;
    filters = Math.min(64, filters * 2);
  }
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(tf.layers.dropout({ rate: 0.25, seed: seed * 101 + k++ }));
  model.add(tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 101 + k++ }) }));
  return model;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Decodes files to one [n, size, size, 3] tensor in [-1, 1]; undecodable files go to the log. */
async function loadImages(files: string[], spec: ImageSpec, log: ProblemLog, progress?: (done: number) => void): Promise<{ x: tf.Tensor4D | null; ok: number[] }> {
  const px = spec.size * spec.size * 3;
  const bufs: Uint8Array[] = [], ok: number[] = [];
  for (let i = 0; i < files.length; i++) {
    try {
      bufs.push(await decodeImage(files[i], spec));
      ok.push(i);
    } catch (err) {
      log.add(err, files[i]);
    }
    progress?.(i + 1);
  }
  if (!bufs.length) return { x: null, ok };
  const all = new Float32Array(bufs.length * px);
  bufs.forEach((b, j) => {
    for (let i = 0; i < px; i++) all[j * px + i] = b[i] / 127.5 - 1;
  });
  return { x: tf.tensor4d(all, [bufs.length, spec.size, spec.size, 3]), ok };
}

/** File names for the sorted copies: base names, with the sub-folder path added where two collide. */
export function flatNames(files: string[], root: string): string[] {
  const count = new Map<string, number>();
  for (const f of files) count.set(basename(f), (count.get(basename(f)) ?? 0) + 1);
  return files.map((f) => ((count.get(basename(f)) ?? 0) > 1 ? relative(root, f).split(sep).join('_') : basename(f)));
}

/** Softmax rows → destination folder: the top class, or `unknown` below the threshold. */
export function decide(probs: ArrayLike<number>, classes: string[], threshold: number): { cls: string; top: number; confidence: number } {
  let top = 0;
  for (let c = 1; c < classes.length; c++) if (probs[c] > probs[top]) top = c;
  const confidence = probs[top];
  return { cls: confidence >= threshold ? classes[top] : UNKNOWN, top, confidence };
}

/**
 * Trains on the ImageFolder `o.labelled`, then copies every image under `o.raw` to `out/<class>/`
 * or `out/unknown/`, and writes `out/scores.csv`.
 */
export async function sortFolder(o: SortOptions): Promise<SortResult> {
  const spec: ImageSpec = { size: o.size ?? 32, channels: 3, fit: 'crop', background: '#000000', maxPixels: o.maxPixels ?? DEFAULT_SPEC.maxPixels };
  checkSpec(spec);
  if (!(o.threshold >= 0 && o.threshold <= 1)) throw new Error(`Invalid threshold ${o.threshold}: use a probability from 0 to 1 (e.g. 0.6).`);
  const epochs = o.epochs ?? 40;
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new Error(`Invalid epochs ${o.epochs}: use a whole number ≥ 1.`);
  const seed = o.seed ?? 1;
  for (const [what, p] of [['labelled', o.labelled], ['raw', o.raw]] as const) {
    if (!isDir(p)) throw new Error(`${p}: not a folder (the ${what} images); check the path.`);
  }
  const log = new ProblemLog(o.strict);

  const labelledRoot = resolve(o.labelled);
  const classes = listSubfolders(labelledRoot, log);
  if (classes.length < 2) {
    throw new Error(`${o.labelled}: found ${classes.length} class folder(s); sort needs at least 2 (an ImageFolder: <class>/<image>).`);
  }
  if (classes.includes(UNKNOWN)) throw new Error(`${join(o.labelled, UNKNOWN)}: "${UNKNOWN}" is reserved for low-confidence images; rename that class folder.`);
  const trainFiles: string[] = [], trainLabels: number[] = [];
  classes.forEach((c, ci) => {
    const files = listImages(join(labelledRoot, c), log);
    if (!files.length) throw new Error(`${join(o.labelled, c)}: class folder has no images (${[...IMAGE_EXTENSIONS].join(' ')}); add a few examples or remove it.`);
    for (const f of files) {
      trainFiles.push(f);
      trainLabels.push(ci);
    }
  });

  const outDir = resolve(o.out);
  if (outDir === resolve(o.raw)) throw new Error(`${o.out}: the output folder must differ from the raw folder (class folders are created inside it).`);
  // Copies from an earlier run into an out folder inside raw must not be sorted again.
  const rawFiles = listImages(resolve(o.raw), log).filter((f) => !f.startsWith(outDir + sep));
  if (!rawFiles.length) throw new Error(`${o.raw}: no images to sort (searched recursively for ${[...IMAGE_EXTENSIONS].join(' ')}).`);

  const report = (stage: string, total: number) => (done: number) => o.onProgress?.({ stage, done, total });
  const train = await loadImages(trainFiles, spec, log, report('load', trainFiles.length));
  const y = train.ok.map((i) => trainLabels[i]);
  const missing = classes.filter((_, ci) => !y.includes(ci));
  if (!train.x || missing.length) {
    train.x?.dispose();
    throw new Error(`${o.labelled}: no readable images for class ${missing.map((c) => `"${c}"`).join(', ')}; see the problems: ${log.problems.map((p) => `${p.file}: ${p.reason}`).join('; ')}`);
  }

  const model = buildClassifier(spec.size, classes.length, seed);
  const optimizer = new FusedAdamOptimizer(0.003, 0.9, 0.999, 1e-7);
  const counts: Record<string, number> = Object.fromEntries(classes.map((c) => [c, 0]));
  let unknown = 0;
  const csv = join(outDir, 'scores.csv');
  const yAll = tf.tidy(() => tf.oneHot(tf.tensor1d(y, 'int32'), classes.length));
  try {
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    const rand = rng(seed);
    const n = y.length;
    const tick = report('train', epochs);
    for (let e = 0; e < epochs; e++) {
      const order = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      for (let b = 0; b < n; b += BATCH) {
        const idx = tf.tensor1d(order.slice(b, b + BATCH), 'int32');
        const xb = tf.gather(train.x, idx);
        const xa = augment(xb as tf.Tensor4D, rand);
        const yb = tf.gather(yAll, idx);
        await model.trainOnBatch(xa, yb);
        tf.dispose([idx, xb, xa, yb]);
      }
      tick(e + 1);
    }
    tf.dispose([yAll, train.x]);

    mkdirSync(outDir, { recursive: true });
    const rawRoot = resolve(o.raw);
    const names = flatNames(rawFiles, rawRoot);
    const lines = [['file', 'predicted', 'confidence', ...classes].map(csvField).join(',')];
    const tickSort = report('classify', rawFiles.length);
    // In chunks, so a large raw folder never sits in memory as one tensor.
    for (let c0 = 0; c0 < rawFiles.length; c0 += CHUNK) {
      const chunk = rawFiles.slice(c0, c0 + CHUNK);
      const raw = await loadImages(chunk, spec, log);
      const probs = raw.x ? (model.predict(raw.x, { batchSize: 64 }) as tf.Tensor) : null;
      const p = probs ? await probs.data() : new Float32Array(0);
      tf.dispose([raw.x, probs].filter((t): t is tf.Tensor => t !== null));
      for (let j = 0; j < raw.ok.length; j++) {
        const file = chunk[raw.ok[j]], name = names[c0 + raw.ok[j]];
        const row = p.subarray(j * classes.length, (j + 1) * classes.length);
        const d = decide(row, classes, o.threshold);
        try {
          mkdirSync(join(outDir, d.cls), { recursive: true });
          copyFileSync(file, join(outDir, d.cls, name));
        } catch (err) {
          log.add(err, file);
          continue;
        }
        if (d.cls === UNKNOWN) unknown++;
        else counts[d.cls]++;
        lines.push([relative(rawRoot, file), d.cls, d.confidence.toFixed(4), ...Array.from(row, (v) => v.toFixed(4))].map(csvField).join(','));
      }
      tickSort(c0 + chunk.length);
    }
    writeAtomic(csv, lines.join('\n') + '\n');
  } finally {
    model.dispose();
    optimizer.dispose(); // passed in, so the model does not own it
    tf.dispose([train.x, yAll]);
  }
  return { counts, unknown, csv, problems: log.problems };
}
