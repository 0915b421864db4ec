// Where a report's images come from. Synthetic: a run dir (its exported generator, exported on the
// spot if missing), a generator folder, or an ImageFolder of images. Real: an ImageFolder or a
// builtin, whole; or, by default for a run, the run's own train split and holdout, which is what a
// privacy report must compare against.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openCache } from '../data/cache.js';
import { isBuiltin } from '../data/kinds/builtin.js';
import { openDataset } from '../data/kinds/index.js';
import { exportRun } from '../io/export.js';
import { generateSet } from '../io/generator.js';
import { loadGenerator, type GeneratorMeta } from '../run/generator.js';
import { openTrainData } from '../run/data.js';
import { resumeConfig } from '../run/config.js';
import { cacheSet, concatSets, subset, type ImageSet } from '../data/image_set.js';

export interface Opened<T> { value: T; close(): void }

const isRun = (dir: string) => existsSync(join(dir, 'config.json')) && existsSync(join(dir, 'latest.json'));

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
