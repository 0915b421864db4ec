// The loop's view of the data: the decoded cache of the source, its persistent train split, and a
// stream of fixed-size batches that continues across epochs. The position (epoch, next batch) is
// all the stream's state, so a checkpoint can store it and a resume continue mid-epoch.
import type * as tf from '@tensorflow/tfjs';
import { batches, epochOrder, type Batch } from '../data/batches.js';
import { openCache, type ImageCache } from '../data/cache.js';
import { openDataset } from '../data/kinds/index.js';
import { isBuiltin } from '../data/kinds/builtin.js';
import { loadSplit } from '../data/split.js';
import type { TrainBatch } from '../models/family.js';
import type { TrainConfig } from './config.js';
import type { DataSummary } from '../run/data_summary.js';

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
  close(): void;
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
  const ds = await openDataset(cfg.data, { size: cfg.size, channels }, extra);
  const cache = await openCache(ds, { cacheDir: cfg.cacheDir, onProgress: onProgress && ((p) => onProgress(p.done, p.total)) });
  const split = loadSplit(cache, { holdout: cfg.holdout, seed: cfg.splitSeed });
  const present = cache.labels ? [...new Set(split.train.map((r) => cache.labels![r]))].sort((a, b) => a - b) : [];
  return {
    cache, rows: split.train, holdout: split.holdout, classes: cache.classes, present, channels, hash: cache.key, problems: ds.problems,
    close: () => cache.close(),
  };
}

export interface StreamBatch extends TrainBatch { dispose(): void }

/** Fixed-size batches of the train rows, epoch after epoch; order depends on (seed, epoch) only. */
export class BatchStream {
  private gen: AsyncGenerator<Batch> | null = null;
  readonly perEpoch: number;

  constructor(private data: TrainData, private batchSize: number, private seed: number, private labelled: boolean,
    public epoch = 0, public position = 0) {
    this.perEpoch = Math.floor(data.rows.length / batchSize);
    if (this.perEpoch < 1) {
      throw new Error(`The train split has ${data.rows.length} images, fewer than one batch of ${batchSize}: use a smaller batch size (--set batchSize=${Math.max(1, data.rows.length)}) or more images.`);
    }
  }

  private open(): AsyncGenerator<Batch> {
    const order = epochOrder(this.data.rows, this.seed, this.epoch).slice(this.position * this.batchSize);
    return batches(this.data.cache, { batchSize: this.batchSize, rows: order, shuffle: false, dropLast: true });
  }

  async next(): Promise<StreamBatch> {
    for (;;) {
      if (this.position >= this.perEpoch) {
        await this.close();
        this.epoch++;
        this.position = 0;
      }
      this.gen ??= this.open();
      const r = await this.gen.next();
      if (r.done) {
        // Cannot happen with perEpoch computed the same way; guard against an endless loop anyway.
        this.gen = null;
        this.position = this.perEpoch;
        continue;
      }
      this.position++;
      const b = r.value;
      if (!this.labelled && b.labels) b.labels.dispose();
      return { real: b.images, labels: this.labelled ? (b.labels as tf.Tensor1D) : null, dispose: () => b.dispose() };
    }
  }

  async close(): Promise<void> {
    if (this.gen) await this.gen.return(undefined);
    this.gen = null;
  }
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
    labelled: !!labels, hash: data.hash,
  };
}
