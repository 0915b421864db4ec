// Where a report's images come from. Synthetic: a run dir (its exported generator, exported on the
// spot if missing), a generator folder, or an ImageFolder of images. Real: an ImageFolder or a
// builtin, whole; or, by default for a run, the run's own train split and holdout, which is what a
// privacy report must compare against.
import { existsSync, readdirSync } from 'node:fs';
import sharp from 'sharp';
import { join, resolve } from 'node:path';
import { openCache } from '../data/cache.js';
import { readLabelMap } from '../data/label_map.js';
import { isBuiltin } from '../data/kinds/builtin.js';
import { openDataset } from '../data/kinds/index.js';
import { exportRun } from '../io/export.js';
import { generateSet } from '../io/generator.js';
import { loadGenerator, type GeneratorMeta } from '../run/generator.js';
import { openTrainData } from '../run/data.js';
import { resumeConfig } from '../run/config.js';
import { cacheSet, concatSets, memorySet, subset, type ImageSet } from '../data/image_set.js';
import type { SegSet } from './seg_tstr.js';

export interface Opened<T> { value: T; close(): void }

export const isRun = (dir: string) => existsSync(join(dir, 'config.json')) && existsSync(join(dir, 'latest.json'));

export interface SyntheticOptions {
  /** Images to generate from a generator (ignored for a folder of images). */
  count: number;
  seed: number;
  /** Image size and channels a folder of images is decoded at (default 32 px RGB; the real sets are
   * then opened at the same shape). */
  size?: number;
  channels?: 1 | 3;
  onProgress?: (done: number, total: number) => void;
}

export interface SyntheticSource {
  set: ImageSet;
  runDir: string | null;
  meta: GeneratorMeta | null;
  /** From a generator: `n` images whose first `set.count` are `set`'s (image i comes from (seed, i)). */
  sample: ((n: number, onProgress?: (done: number, total: number) => void) => ImageSet) | null;
}

export async function openSynthetic(spec: string, o: SyntheticOptions): Promise<Opened<SyntheticSource>> {
  const dir = resolve(spec);
  if (!existsSync(dir)) throw new Error(`${spec}: no such folder (give a run dir, a generator folder or a folder of synthetic images).`);
  let genDir: string | null = null, runDir: string | null = null;
  if (isRun(dir)) {
    runDir = dir;
    genDir = join(dir, 'generator');
    if (!existsSync(join(genDir, 'model.json'))) await exportRun(dir);
  } else if (existsSync(join(dir, 'model.json'))) {
    genDir = dir;
  }
  if (genDir) {
    const g = await loadGenerator(genDir);
    try {
      const set = generateSet(g, { count: o.count, seed: o.seed, onProgress: o.onProgress });
      // Image i depends only on (seed, i): a larger sample generates only the images it lacks.
      let have = set;
      const sample = (n: number, onProgress?: (done: number, total: number) => void) => {
        if (n > have.count) have = concatSets(have, generateSet(g, { count: n - have.count, first: have.count, seed: o.seed, onProgress }));
        return n === have.count ? have : subset(have, Array.from({ length: n }, (_, i) => i));
      };
      return { value: { set, runDir, meta: g.meta, sample }, close: () => g.model.dispose() };
    } catch (e) {
      g.model.dispose();
      throw e;
    }
  }
  const set = await openReal(spec, { size: o.size ?? 32, channels: o.channels ?? 3 }, 'synthetic');
  return { value: { set: set.value, runDir: null, meta: null, sample: null }, close: set.close };
}

/** Every image of a folder or builtin, decoded (and cached) at the given size. */
export async function openReal(spec: string, shape: { size: number; channels: 1 | 3 }, name: string): Promise<Opened<ImageSet>> {
  if (!isBuiltin(spec) && !existsSync(resolve(spec))) throw new Error(`${spec}: no such folder (${name} images: an ImageFolder <class>/<image> or builtin:fashion-mnist).`);
  const ds = await openDataset(spec, shape, {});
  const cache = await openCache(ds);
  const rows = Array.from({ length: cache.count }, (_, i) => i);
  return { value: cacheSet(cache, rows, `${name} (${spec})`), close: () => cache.close() };
}

/** A run's own train split and holdout. */
export async function runSplits(runDir: string): Promise<Opened<{ train: ImageSet; test: ImageSet }>> {
  const cfg = resumeConfig(runDir);
  const data = await openTrainData(cfg);
  return {
    value: { train: cacheSet(data.cache, data.rows, `train split of ${cfg.data}`), test: cacheSet(data.cache, data.holdout, `holdout of ${cfg.data}`) },
    close: () => data.close(),
  };
}

/** A folder `synthset generate --labelmaps … --translate …` wrote: images/ and masks/ of the same ids. */
export const isLabelledFolder = (dir: string): boolean => existsSync(join(dir, 'images')) && existsSync(join(dir, 'masks'));

/** Every (photo, mask) of a labelled folder, decoded; a photo without its mask (or one of another size) is an error naming it. */
export async function openLabelledFolder(spec: string): Promise<SegSet> {
  const dir = resolve(spec);
  const ids = readdirSync(join(dir, 'images')).filter((f) => f.endsWith('.png')).sort();
  if (!ids.length) throw new Error(`${join(dir, 'images')}: no PNG images (a labelled folder from \`synthset generate --labelmaps … --translate …\`).`);
  const photos: Uint8Array[] = [], masks: Uint8Array[] = [];
  let size = 0, channels: 1 | 3 = 3;
  for (const id of ids) {
    const maskFile = join(dir, 'masks', id);
    if (!existsSync(maskFile)) throw new Error(`${maskFile}: missing, but images/${id} is there; generate the folder again (a re-run writes only what is missing).`);
    const p = await sharp(join(dir, 'images', id)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const m = await readLabelMap(maskFile);
    if (!size) [size, channels] = [p.info.width, p.info.channels === 1 ? 1 : 3];
    if (p.info.width !== size || p.info.height !== size || p.info.channels !== channels) throw new Error(`images/${id} is ${p.info.width}x${p.info.height}x${p.info.channels}, the folder's first image ${size}x${size}x${channels}.`);
    if (m.width !== size || m.height !== size) throw new Error(`masks/${id} is ${m.width}x${m.height}: a mask is the class indices of its photo, ${size}x${size}.`);
    const big = m.data.find((v) => v > 255);
    if (big !== undefined) throw new Error(`masks/${id}: class index ${big}; masks for evaluation hold indices 0..255.`);
    photos.push(p.data);
    masks.push(Uint8Array.from(m.data));
  }
  const join8 = (parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));
  return {
    images: memorySet({ name: `labelled synthetic photos (${spec})`, size, channels, classes: [], labels: null, bytes: join8(photos) }),
    masks: memorySet({ name: `labelled synthetic masks (${spec})`, size, channels: 1, classes: [], labels: null, bytes: join8(masks) }),
  };
}

/** A label-map run's (photo, mask) pairs of its train split and holdout, and its class names. */
export async function runSegSplits(runDir: string): Promise<Opened<{ train: SegSet; test: SegSet; classes: string[] }>> {
  const cfg = resumeConfig(runDir);
  const data = await openTrainData(cfg);
  if (!data.labelClasses || !data.b) {
    data.close();
    throw new Error(`${runDir} did not train on label maps with photos (family ${cfg.family} on ${cfg.data}): give the pix2pix run that translates the labelled folder's maps as --real.`);
  }
  const b = data.b;
  const pair = (rows: number[], brows: number[], what: string): SegSet => ({
    images: cacheSet(b.cache, brows, `${what} photos of ${cfg.data}`), masks: cacheSet(data.cache, rows, `${what} maps of ${cfg.data}`),
  });
  return {
    value: { train: pair(data.rows, b.rows, 'train'), test: pair(data.holdout, b.holdout, 'held-out'), classes: data.classes.slice(0, data.labelClasses) },
    close: () => data.close(),
  };
}
