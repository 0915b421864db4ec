// `generate --labelmaps <run> --translate <run>`: labelled synthetic images from noise. The label-map
// generator draws map i from (seed, i) (its most likely class per pixel), the pix2pix generator turns
// that map into photo i, and the map is photo i's annotation: <out>/images/<id>.png, <out>/masks/<id>.png
// (class indices, 8-bit grey) and a COCO instances file built from the masks as written. As in
// `generate`, each image depends only on (seed, i) and forward passes run on one fixed batch shape, so
// shards (contiguous index ranges) merge by copying and a re-run over merged shards only annotates.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { readLabelMap } from '../data/label_map.js';
import { paletteTable } from '../util/palette.js';
import { syncDir, writeAtomic } from '../util/atomic.js';
import { annotateMask, categoriesOf, packageVersion, planClasses, type CocoJson } from './coco/index.js';
import { loadGenerator, type LoadedGenerator } from '../run/generator.js';
import { writePng } from './png.js';
import { forward, latentInputs, toUint8 } from './sampling.js';
import { shardRange, type Shard } from './shard.js';
import { loadTranslator, translateMaps } from './translate.js';

export interface LabelledOptions {
  /** A labelmap run dir (or its generator/ folder). */
  labelmaps: string;
  /** A pix2pix run trained on label maps (or its generator/ folder). */
  translate: string;
  count: number;
  seed?: number;
  out: string;
  shard?: Shard;
  /** Class without annotations; default: the class named background. */
  background?: number;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface LabelledResult {
  out: string; total: number; written: number; kept: number; shard: Shard; annotations: string | null;
  /** preview.png: the shard's first (map | photo) pairs, maps in palette colours. */
  preview?: string;
  stopped: boolean;
}

const PREVIEW_PAIRS = 16, PREVIEW_COLS = 4;

/** `<out>/preview.png` (preview.shard-… for a shard): (map | photo) pairs read back from the files, 4 pairs a row. */
async function writePreview(out: string, file: string, files: string[], k: number): Promise<string> {
  const table = paletteTable(k);
  const tiles: { map: Uint8Array; photo: Buffer }[] = [];
  for (const f of files) {
    const mask = await readLabelMap(join(out, 'masks', f));
    const photo = await sharp(join(out, 'images', f)).removeAlpha().toColourspace('srgb').raw().toBuffer();
    tiles.push({ map: Uint8Array.from(mask.data), photo });
  }
  const s = Math.round(Math.sqrt(tiles[0].map.length));
  const cols = Math.min(PREVIEW_COLS, files.length), rows = Math.ceil(files.length / PREVIEW_COLS);
  const width = cols * (2 * s + 4) - 4, height = rows * (s + 2) - 2;
  const px = new Uint8Array(width * height * 3).fill(255);
  tiles.forEach(({ map, photo }, j) => {
    const left = (j % PREVIEW_COLS) * (2 * s + 4), top = Math.floor(j / PREVIEW_COLS) * (s + 2);
    for (let y = 0; y < s; y++) {
      const row = ((top + y) * width + left) * 3;
      for (let x = 0; x < s; x++) px.set(table.subarray(map[y * s + x] * 3, map[y * s + x] * 3 + 3), row + x * 3);
      px.set(photo.subarray(y * s * 3, (y + 1) * s * 3), row + s * 3);
    }
  });
  writeAtomic(file, await sharp(Buffer.from(px), { raw: { width, height, channels: 3 } }).png().toBuffer());
  return file;
}

/** Maps and photos per forward pass; keep it the same for every shard and resume of one set. */
export const LABELLED_BATCH = 16;

/** The id of image i: its index, zero-padded to the width of the largest index (at least 6). */
export const labelledId = (i: number, total: number): string => String(i).padStart(Math.max(6, String(total - 1).length), '0');

async function loadMapGenerator(path: string): Promise<LoadedGenerator> {
  const dir = existsSync(join(path, 'generator', 'model.json')) ? join(path, 'generator') : path;
  const g = await loadGenerator(dir);
  if (g.meta.output?.kind !== 'labelmap' || g.meta.input?.kind === 'image' || g.meta.input?.kind === 'labelmap') {
    g.model.dispose();
    throw new Error(`--labelmaps ${path}: ${g.dir} is a ${g.meta.family} generator that does not draw label maps; give a run of the labelmap family (synthset train --family labelmap --data <label-map dataset>).`);
  }
  return g;
}

/** The two generators must agree on size and classes: the maps one draws are the inputs the other read. */
function checkCompatible(maps: LoadedGenerator, p2p: LoadedGenerator): void {
  const input = p2p.meta.input;
  if (input?.kind !== 'labelmap') throw new Error(`--translate ${p2p.dir}: a ${p2p.meta.family} generator on ${input?.kind ?? 'latent'} inputs; give a pix2pix run trained on a label-map dataset.`);
  const k = maps.meta.output!.classes;
  if (input.classes !== k || maps.meta.classes.join('\n') !== p2p.meta.classes.join('\n')) {
    throw new Error(`--labelmaps draws ${k} classes (${maps.meta.classes.filter(Boolean).join(', ')}) but --translate reads ${input.classes} (${p2p.meta.classes.filter(Boolean).join(', ')}): train both on the same label-map dataset.`);
  }
  if (input.size !== maps.meta.size) throw new Error(`--labelmaps draws ${maps.meta.size} px maps but --translate takes ${input.size} px: train both at the same --size.`);
}

const weightsHash = (g: LoadedGenerator) => createHash('sha256').update(readFileSync(join(g.dir, 'weights.bin'))).digest('hex');

/** generate.json pins the folder to the two generators, the seed and the count (the ids' width). */
function checkOrWriteStamp(out: string, stamp: Record<string, unknown>): void {
  const file = join(out, 'generate.json');
  if (existsSync(file)) {
    const old = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    for (const [k, v] of Object.entries(stamp)) {
      if (JSON.stringify(old[k]) !== JSON.stringify(v)) {
        throw new Error(`${out} holds a labelled set made with another ${k} (${JSON.stringify(old[k])}, not ${JSON.stringify(v)}; generate.json): use the same settings to continue it, or another --out.`);
      }
    }
    return;
  }
  mkdirSync(out, { recursive: true });
  writeAtomic(file, `${JSON.stringify(stamp, null, 2)}\n`);
}

/** Maps (uint8 class indices) and photos (uint8 RGB) of the given indices, from one padded batch. */
function draw(maps: LoadedGenerator, p2p: LoadedGenerator, seed: number, indices: number[], batch: number): { masks: Uint8Array; photos: Uint8Array } {
  const padded = indices.concat(Array(batch - indices.length).fill(indices[0]));
  const x = latentInputs(maps.meta, seed, padded, []);
  const probs = forward(tf, maps.model, maps.meta, x);
  const idx = tf.tidy(() => tf.argMax(probs, 3).dataSync());
  probs.dispose();
  const masks = Uint8Array.from(idx);
  const y = translateMaps(p2p, masks);
  const photos = toUint8(y.dataSync());
  y.dispose();
  return { masks, photos };
}

export async function generateLabelled(o: LabelledOptions): Promise<LabelledResult> {
  if (!(Number.isInteger(o.count) && o.count >= 1)) throw new Error(`--count must be a positive integer, got ${o.count}.`);
  const seed = o.seed ?? 0;
  if (!(Number.isInteger(seed) && seed >= 0)) throw new Error(`--seed must be a non-negative integer, got ${seed}.`);
  const maps = await loadMapGenerator(o.labelmaps);
  let p2p: LoadedGenerator | null = null;
  try {
    p2p = await loadTranslator(o.translate).catch((e: Error) => {
      throw new Error(`--translate ${o.translate}: ${e.message}`);
    });
    checkCompatible(maps, p2p);
    const names = maps.meta.classes;
    const plan = planClasses(names.flatMap((name, index) => (name ? [{ index, name }] : [])), { background: o.background }, `${maps.dir} (its classes)`);
    const total = o.count, shard = o.shard ?? { index: 0, count: 1 };
    const { first, end } = shardRange(total, shard);
    const out = resolve(o.out), images = join(out, 'images'), masks = join(out, 'masks');
    checkOrWriteStamp(out, { format: 'synthset-labelled', labelmaps: weightsHash(maps), translate: weightsHash(p2p), seed, count: total });
    mkdirSync(images, { recursive: true });
    mkdirSync(masks, { recursive: true });
    const name = (i: number) => `${labelledId(i, total)}.png`;
    const todo: number[] = [];
    for (let i = first; i < end; i++) if (!existsSync(join(images, name(i))) || !existsSync(join(masks, name(i)))) todo.push(i);
    const kept = end - first - todo.length;
    const batch = o.batchSize ?? LABELLED_BATCH, s = maps.meta.size, ch = p2p.meta.channels;
    let done = kept, stopped = false;
    o.onProgress?.(done, end - first);
    for (let b = 0; b < todo.length; b += batch) {
      // The loop is synchronous: yield once per batch so a SIGINT/SIGTERM handler can abort it.
      await setImmediate();
      if (o.signal?.aborted) { stopped = true; break; }
      const idx = todo.slice(b, b + batch);
      const r = draw(maps, p2p, seed, idx, batch);
      idx.forEach((i, j) => {
        writePng(join(masks, name(i)), r.masks.subarray(j * s * s, (j + 1) * s * s), s, s, 1);
        writePng(join(images, name(i)), r.photos.subarray(j * s * s * ch, (j + 1) * s * s * ch), s, s, ch);
      });
      syncDir(masks);
      syncDir(images);
      done += idx.length;
      o.onProgress?.(done, end - first);
    }
    if (stopped) return { out, total, written: done - kept, kept, shard, annotations: null, stopped };
    // Annotated from the masks as written, so the COCO file and masks/ cannot disagree.
    const json: CocoJson = {
      // No clock in it: a re-run or a merge of shards writes the same bytes (pycocotools needs `info`, not its values).
      info: {
        description: `synthetic labelled images, seed ${seed}, ${total} images: label maps ${maps.dir} (step ${maps.meta.step}) translated by ${p2p.dir} (step ${p2p.meta.step}); synthset generate`,
        version: packageVersion(), year: 0, date_created: '', contributor: '', url: '',
      },
      licenses: [], images: [], categories: categoriesOf(plan), annotations: [],
    };
    for (let i = first; i < end; i++) {
      const mask = await readLabelMap(join(masks, name(i)));
      json.images.push({ id: i + 1, file_name: name(i), width: mask.width, height: mask.height });
      for (const a of annotateMask(mask, plan)) json.annotations.push({ id: json.annotations.length + 1, image_id: i + 1, ...a });
    }
    const base = shard.count === 1 ? 'annotations' : `annotations.shard-${pad(shard.index, shard.count)}-of-${pad(shard.count, shard.count)}`;
    const file = join(out, `${base}.json`);
    writeAtomic(file, JSON.stringify(json));
    const preview = await writePreview(out, join(out, `${base.replace('annotations', 'preview')}.png`), Array.from({ length: Math.min(PREVIEW_PAIRS, end - first) }, (_, j) => name(first + j)), names.length);
    return { out, total, written: done - kept, kept, shard, annotations: file, preview, stopped };
  } finally {
    maps.model.dispose();
    p2p?.model.dispose();
  }
}

const pad = (n: number, count: number) => String(n).padStart(Math.max(4, String(count).length), '0');
