// What is in a folder of images before anything trains on it: classes and counts, image sizes (from
// headers only), exact and near duplicates, near duplicates that straddle the train/holdout split
// (they inflate every held-out metric), and the files that cannot be used, each with its reason.
// Never prints: progress goes through a callback and everything else into the report.
import { createHash } from 'node:crypto';
import { constants, statSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError, ProblemLog, type Problem } from './errors.js';
import { DEFAULT_SPEC, probeImage } from './image.js';
import { dhash, forEachNearPair, type PHash } from './phash.js';
import { listImages, listSubfolders } from './scan.js';
import { splitIndices } from './split.js';

export interface InspectOptions {
  /** Refuse images above this many pixels, from the header, before decoding. */
  maxPixels?: number;
  /** Throw the first bad file instead of skipping it and listing it in the report. */
  strict?: boolean;
  /** Near-duplicate threshold in differing bits of the 64-bit dHash (0..64). */
  threshold?: number;
  /** Passed to `splitIndices` so the cross-split check sees the split training will use. */
  holdout?: number;
  seed?: number;
  /** Files read at once; sharp decodes on libuv's pool, so a few in flight keep it busy. */
  concurrency?: number;
  onProgress?: (e: { done: number; total: number }) => void;
}

export interface NearGroup { files: string[]; maxDistance: number }
export interface SplitLeak { train: string; holdout: string; distance: number }

export interface InspectReport {
  dir: string;
  /** imagefolder: `dir/<class>/*`; flat: images directly in `dir` (or below it), no labels. */
  layout: 'imagefolder' | 'flat';
  /** Image-named files found, and how many of them could be read. */
  files: number;
  images: number;
  /** Readable images per class name (empty for a flat folder). */
  classes: Record<string, number>;
  /** "WxH" -> count and format -> count, most common first. */
  sizes: Record<string, number>;
  formats: Record<string, number>;
  /** Byte-identical files, one group per content. */
  exactDuplicates: string[][];
  /** Groups linked by dHash distance <= threshold, byte-identical pairs excluded. */
  nearDuplicates: NearGroup[];
  threshold: number;
  crossSplit: { train: number; holdout: number; leaks: number; pairs: SplitLeak[] };
  problems: Problem[];
  warnings: string[];
}

/** Pairs listed in the report; the total is always counted. */
const MAX_LEAK_PAIRS = 1000;

export const DEFAULT_NEAR_THRESHOLD = 5;

interface Item { file: string; label: number }
interface Seen { size: string; format: string; sha: string; hash: PHash }

export async function inspectFolder(dir: string, opts: InspectOptions = {}): Promise<InspectReport> {
  const maxPixels = opts.maxPixels ?? DEFAULT_SPEC.maxPixels;
  const threshold = opts.threshold ?? DEFAULT_NEAR_THRESHOLD;
  if (!Number.isInteger(threshold) || threshold < 0 || threshold > 64) throw new Error(`near-duplicate threshold must be 0..64 bits, got ${threshold}`);
  checkFolder(dir);
  const log = new ProblemLog(opts.strict);
  const warnings: string[] = [];

  const classNames = listSubfolders(dir, log);
  const layout = classNames.length > 0 ? 'imagefolder' : 'flat';
  const items: Item[] = [];
  // Labels count only class folders with image files, as the labelled dataset kind numbers them, so
  // that splitIndices below draws the same holdout as training will.
  const labelNames: string[] = [];
  if (layout === 'imagefolder') {
    const loose = listImages(dir, new ProblemLog(), false);
    if (loose.length > 0) {
      log.add(new DataError(loose[0], `${loose.length} image(s) directly in the dataset folder are outside any class folder and are not used`,
        'put each image in a folder named after its class'), loose[0]);
    }
    for (const name of classNames) {
      const files = listImages(join(dir, name), log);
      if (files.length === 0) {
        log.add(new DataError(join(dir, name), 'empty class folder (no images)', 'add images to it or remove the folder'), join(dir, name));
        continue;
      }
      for (const file of files) items.push({ file, label: labelNames.length });
      labelNames.push(name);
    }
  } else {
    for (const file of listImages(dir, log)) items.push({ file, label: -1 });
    if (items.length === 0) log.add(new DataError(dir, 'no images found', `expected ${join(dir, '<class>', '*.png')} or images directly in the folder`), dir);
  }

  const seen = await readAll(items, maxPixels, log, opts);
  const ok = items.map((_, i) => i).filter((i) => seen[i] !== undefined);
  const files = (k: number) => items[ok[k]].file;
  const info = (k: number) => seen[ok[k]] as Seen;

  const classes: Record<string, number> = {};
  if (layout === 'imagefolder') for (const name of classNames) classes[name] = 0;
  for (const i of ok) if (items[i].label >= 0) classes[labelNames[items[i].label]]++;
  if (layout === 'imagefolder' && Object.values(classes).filter((n) => n > 0).length === 1) {
    warnings.push('only one class has images: a conditional model needs at least 2');
  }

  const bySha = new Map<string, number[]>();
  ok.forEach((_, k) => {
    const list = bySha.get(info(k).sha);
    if (list) list.push(k);
    else bySha.set(info(k).sha, [k]);
  });
  const exactDuplicates = [...bySha.values()].filter((g) => g.length > 1).map((g) => g.map(files));

  const labels = layout === 'imagefolder' ? Int32Array.from(ok, (i) => items[i].label) : null;
  const split = splitIndices(labels, ok.length, { holdout: opts.holdout, seed: opts.seed });
  const inHoldout = new Uint8Array(ok.length);
  for (const k of split.holdout) inHoldout[k] = 1;

  const uf = new UnionFind(ok.length);
  const groupMax = new Map<number, number>();
  const pairs: SplitLeak[] = [];
  let leaks = 0;
  forEachNearPair(ok.map((_, k) => info(k).hash), threshold, (a, b, d) => {
    if (inHoldout[a] !== inHoldout[b]) {
      leaks++;
      const [t, h] = inHoldout[a] ? [b, a] : [a, b];
      if (pairs.length < MAX_LEAK_PAIRS) pairs.push({ train: files(t), holdout: files(h), distance: d });
    }
    if (info(a).sha === info(b).sha) return;
    const ra = uf.find(a);
    const rb = uf.find(b);
    const max = Math.max(d, groupMax.get(ra) ?? 0, groupMax.get(rb) ?? 0);
    uf.union(a, b);
    groupMax.set(uf.find(a), max);
  });
  const nearDuplicates = uf.groups().map((g) => ({ files: g.map(files), maxDistance: groupMax.get(uf.find(g[0])) ?? 0 }));
  if (leaks > 0) warnings.push(`${leaks} near-duplicate pair(s) straddle the train/holdout split: held-out scores will look better than they are`);

  return {
    dir, layout, files: items.length, images: ok.length, classes,
    sizes: histogram(ok.map((_, k) => info(k).size)),
    formats: histogram(ok.map((_, k) => info(k).format)),
    exactDuplicates, nearDuplicates, threshold,
    crossSplit: { train: split.train.length, holdout: split.holdout.length, leaks, pairs },
    problems: log.problems, warnings,
  };
}

function checkFolder(dir: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(dir, code === 'ENOENT' ? 'no such folder' : `cannot read folder (${code ?? err})`);
  }
  if (!st.isDirectory()) throw new DataError(dir, 'not a folder', 'pass the folder that holds the images');
}

/**
 * Reads every file once: header probe (size, pixel limit), content hash, dHash. Bad files go to the
 * log. In strict mode no new file is started after a failure and the first bad file in order is
 * thrown, so the error does not depend on which read finished first.
 */
async function readAll(items: Item[], maxPixels: number, log: ProblemLog, opts: InspectOptions): Promise<(Seen | undefined)[]> {
  const out: (Seen | undefined)[] = new Array(items.length);
  const failed: (DataError | undefined)[] = new Array(items.length);
  const total = items.length;
  let next = 0;
  let done = 0;
  let stop = false;
  opts.onProgress?.({ done, total });
  const worker = async () => {
    while (!stop && next < total) {
      const i = next++;
      try {
        out[i] = await readOne(items[i].file, maxPixels);
      } catch (err) {
        failed[i] = err instanceof DataError ? err : new DataError(items[i].file, String((err as Error)?.message ?? err));
        if (log.strict) stop = true;
      }
      opts.onProgress?.({ done: ++done, total });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  for (let i = 0; i < total; i++) if (failed[i]) log.add(failed[i], items[i].file);
  return out;
}

async function readOne(file: string, maxPixels: number): Promise<Seen> {
  try {
    // sharp reports a file it may not open as "missing"; asking first gives the real reason.
    await access(file, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(file, code === 'EACCES' ? 'permission denied' : `cannot read (${code ?? err})`,
      code === 'EACCES' ? 'check the file permissions' : '');
  }
  const { width, height, format } = await probeImage(file, maxPixels);
  const bytes = await readFile(file);
  const sha = createHash('sha1').update(bytes).digest('hex');
  return { size: `${width}x${height}`, format, sha, hash: await dhash(bytes, maxPixels, file) };
}

function histogram(keys: string[]): Record<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return Object.fromEntries([...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
}

class UnionFind {
  private readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    while (this.parent[i] !== i) {
      this.parent[i] = this.parent[this.parent[i]];
      i = this.parent[i];
    }
    return i;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
  /** Sets with more than one member, each in index order. */
  groups(): number[][] {
    const m = new Map<number, number[]>();
    for (let i = 0; i < this.parent.length; i++) {
      const r = this.find(i);
      const g = m.get(r);
      if (g) g.push(i);
      else m.set(r, [i]);
    }
    return [...m.values()].filter((g) => g.length > 1);
  }
}

/**
 * Throws a clear error when a dataset has fewer than `min` classes with images, e.g. before training
 * a conditional model on a single-class folder. Accepts class counts or just class names.
 */
export function requireClasses(min: number, classes: Record<string, number> | readonly string[],
  opts: { dir?: string; purpose?: string } = {}): void {
  const names = Array.isArray(classes) ? [...classes] : Object.entries(classes).filter(([, n]) => n > 0).map(([k]) => k);
  if (names.length >= min) return;
  const found = names.length === 0 ? 'none' : `${names.length} (${names.join(', ')})`;
  throw new DataError(opts.dir ?? 'dataset', `${opts.purpose ?? 'a conditional model'} needs at least ${min} classes with images, found ${found}`,
    `put each class in its own folder (${join(opts.dir ?? '<dir>', '<class>')}/*) or train an unconditional model`);
}
