// Train / holdout split: stratified by class, seeded, and saved beside the cache so every later run
// (training, evaluation, a rerun months later with a newer version) sees exactly the same holdout.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ImageCache } from './cache.js';
import { writeAtomic } from '../util/atomic.js';
import { rng, shuffle } from '../util/random.js';

export interface SplitOptions { holdout?: number; seed?: number }
export interface Split { train: number[]; holdout: number[] }

export const DEFAULT_HOLDOUT = 0.1;

/**
 * Splits indices 0..count-1 per class: about `holdout` of each class goes to the holdout, but a
 * class with at least 2 images always keeps at least one in train (and a single image stays in
 * train). Unlabelled data (labels null) is one class. Both lists come back sorted.
 */
export function splitIndices(labels: ArrayLike<number> | null, count: number, opts: SplitOptions = {}): Split {
  const holdout = opts.holdout ?? DEFAULT_HOLDOUT;
  const seed = opts.seed ?? 0;
  if (!(holdout >= 0 && holdout < 1)) throw new Error(`Holdout fraction ${holdout} is outside [0, 1).`);
  if (labels && labels.length < count) throw new Error(`Got ${labels.length} labels for ${count} items.`);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const c = labels ? labels[i] : 0;
    let xs = byClass.get(c);
    if (!xs) byClass.set(c, (xs = []));
    xs.push(i);
  }
  const train: number[] = [];
  const held: number[] = [];
  for (const c of [...byClass.keys()].sort((x, y) => x - y)) {
    const xs = byClass.get(c)!;
    // One stream per class, so adding images to one class does not reshuffle the others.
    shuffle(xs, rng((seed ^ Math.imul(c + 1, 0x9e3779b1)) >>> 0));
    const n = xs.length < 2 ? 0 : Math.min(xs.length - 1, Math.round(xs.length * holdout));
    held.push(...xs.slice(0, n));
    train.push(...xs.slice(n));
  }
  const asc = (x: number, y: number) => x - y;
  return { train: train.sort(asc), holdout: held.sort(asc) };
}

interface SplitFile extends Split { cacheKey: string; holdoutFraction: number; seed: number; count: number }

/**
 * The split of a cache's rows, read from `split-<hash>.json` beside the cache or made and saved
 * there on first use. The hash covers the cache key, fraction and seed.
 */
export function loadSplit(cache: ImageCache, opts: SplitOptions = {}): Split & { file: string; created: boolean } {
  const holdout = opts.holdout ?? DEFAULT_HOLDOUT;
  const seed = opts.seed ?? 0;
  const hash = createHash('sha256').update(JSON.stringify([cache.key, holdout, seed])).digest('hex').slice(0, 20);
  const file = join(cache.dir, `split-${hash}.json`);
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as SplitFile;
    if (s.cacheKey === cache.key && s.count === cache.count) return { train: s.train, holdout: s.holdout, file, created: false };
  } catch {
    // missing or unreadable: make it again below
  }
  const split = splitIndices(cache.labels, cache.count, { holdout, seed });
  const data: SplitFile = { cacheKey: cache.key, holdoutFraction: holdout, seed, count: cache.count, ...split };
  writeAtomic(file, JSON.stringify(data));
  return { ...split, file, created: true };
}
