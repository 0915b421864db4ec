// The run's data as its config names it: the dataset opened and decoded (cached), its train split and
// holdout, domain B beside A for image-to-image data, and the counts saved as <run>/data.json.
// Part of the run-dir format: training batches from it (train/data.ts), export and evaluation read
// the same split from it.
import { createHash } from 'node:crypto';
import { openCache, pairRows, type ImageCache } from '../data/cache.js';
import { openDataset } from '../data/kinds/index.js';
import { isBuiltin } from '../data/kinds/builtin.js';
import { isLabelMapSource } from '../data/kinds/labelmap.js';
import { loadSplit } from '../data/split.js';
import { dataKindOf, getFamily, type DataKind } from '../models/index.js';
import type { TrainConfig } from './config.js';
import type { DataSummary } from './data_summary.js';

export interface TrainData {
  cache: ImageCache;
  /** Cache rows of the train split (the holdout is never seen in training). */
  rows: number[];
  /** Cache rows of the holdout split (for evaluation only). */
  holdout: number[];
  classes: string[];
  /** Class ids that have train images, ascending (sample rows). */
  present: number[];
  channels: 1 | 3;
  /** Identifies the decoded pixels; a resume on other data is refused. */
  hash: string;
  problems: { file: string; reason: string }[];
  kind: DataKind;
  /**
   * Domain B of paired and unpaired data. Paired: `rows[i]` (train) and `holdout[i]` are the B rows
   * of the pairs whose A rows are the top-level `rows[i]` / `holdout[i]`. Unpaired: B's own split.
   */
  b: { cache: ImageCache; rows: number[]; holdout: number[] } | null;
  /** Label-map data: K, the one-hot width of domain A's maps (one channel of class indices). */
  labelClasses?: number;
  close(): void;
}

/** A paired/unpaired source: `--data <dir with A/ and B/>`, or `--data <A dir> --data-b <B dir>` (unpaired). */
function sourceOf(cfg: TrainConfig, kind: DataKind): string | string[] {
  if (kind === 'images') {
    if (cfg.dataB !== undefined) throw new Error(`--data-b gives a second domain, which family ${cfg.family} does not train on (it takes one image folder, --data).`);
    return cfg.data;
  }
  if (cfg.dataB !== undefined) {
    if (kind === 'paired') throw new Error(`Family ${cfg.family} trains on paired images: give one folder holding A/ and B/ with matching names (--data), not --data-b.`);
    return [cfg.data, cfg.dataB];
  }
  return cfg.data;
}

export async function openTrainData(cfg: TrainConfig, onProgress?: (done: number, total: number) => void): Promise<TrainData> {
  const builtin = isBuiltin(cfg.data);
  const channels = cfg.channels ?? (builtin ? 1 : 3);
  const extra: Record<string, unknown> = {};
  if (cfg.limit !== undefined) extra.limit = cfg.limit;
  if (cfg.classes !== undefined) extra.classes = cfg.classes;
  if (!builtin && (cfg.limit !== undefined || cfg.classes !== undefined)) {
    throw new Error('The "limit" and "classes" settings apply to builtin datasets only; for a folder, train on a folder holding just the images you want.');
  }
  const kind = dataKindOf(getFamily(cfg.family));
  if (kind !== 'images' && builtin) throw new Error(`Family ${cfg.family} trains on ${kind === 'labelmaps' ? 'label-map folders' : `${kind} image folders (A and B)`}, not on ${cfg.data}.`);
  // A paired family on a label-map dataset learns map -> photo; a labelmaps family reads its maps alone.
  const datasetKind = kind === 'labelmaps' || (kind === 'paired' && cfg.dataB === undefined && isLabelMapSource(cfg.data)) ? 'labelmap' : kind;
  if (kind === 'labelmaps' && !isLabelMapSource(cfg.data)) {
    throw new Error(`Family ${cfg.family} trains on label maps: ${cfg.data} should hold label/ (class-index PNG maps) and label_names.txt (or palette.txt).`);
  }
  const ds = await openDataset(sourceOf(cfg, kind === 'labelmaps' ? 'paired' : kind), { size: cfg.size, channels }, kind === 'images' ? extra : { ...extra, kind: datasetKind });
  const progress = onProgress && ((p: { done: number; total: number }) => onProgress(p.done, p.total));
  const cache = await openCache(ds, { cacheDir: cfg.cacheDir, onProgress: progress });
  if (kind === 'paired' && !ds.b) throw new Error(`Family ${cfg.family} translates label maps into photos: ${cfg.data} has maps but no photo/ folder.`);
  const cacheB = kind === 'images' || kind === 'labelmaps' ? null : await openCache(ds, { cacheDir: cfg.cacheDir, domain: 'B', onProgress: progress });
  const split = loadSplit(cache, { holdout: cfg.holdout, seed: cfg.splitSeed });
  let rows = split.train, holdout = split.holdout;
  let b: TrainData['b'] = null;
  if (cacheB && kind === 'paired') {
    // Rows whose partner was skipped (undecodable) drop out of both sides.
    const pairs = pairRows(cache, cacheB);
    const partner = new Map(pairs.a.map((ra, i) => [ra, pairs.b[i]]));
    rows = rows.filter((r) => partner.has(r));
    holdout = holdout.filter((r) => partner.has(r));
    b = { cache: cacheB, rows: rows.map((r) => partner.get(r)!), holdout: holdout.map((r) => partner.get(r)!) };
  } else if (cacheB) {
    const sb = loadSplit(cacheB, { holdout: cfg.holdout, seed: cfg.splitSeed });
    b = { cache: cacheB, rows: sb.train, holdout: sb.holdout };
  }
  const present = cache.labels ? [...new Set(rows.map((r) => cache.labels![r]))].sort((x, y) => x - y) : [];
  const hash = cacheB ? createHash('sha256').update(`${cache.key}\n${cacheB.key}`).digest('hex') : cache.key;
  return {
    cache, rows, holdout, classes: cache.classes, present, channels, hash, problems: ds.problems, kind, b,
    ...(ds.labelMap ? { labelClasses: ds.labelMap.width } : {}),
    close: () => {
      cache.close();
      cacheB?.close();
    },
  };
}
/** The counts-only description of the data saved as <run>/data.json. */
export function summarizeData(cfg: TrainConfig, data: TrainData): DataSummary {
  const labels = data.cache.labels;
  const counts: Record<string, number> = {};
  if (labels) {
    for (const c of data.present) counts[data.classes[c]] = 0;
    for (const r of data.rows) counts[data.classes[labels[r]]] = (counts[data.classes[labels[r]]] ?? 0) + 1;
  }
  return {
    format: 'synthset-data-summary', version: 1, source: cfg.data, classes: data.classes, present: data.present, counts,
    trainImages: data.rows.length, holdoutImages: data.holdout.length, channels: data.channels, size: cfg.size,
    labelled: !!labels, hash: data.hash, ...(data.labelClasses ? { labelClasses: data.labelClasses } : {}),
  };
}
