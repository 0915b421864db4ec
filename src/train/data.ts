// The loop's view of the data (run/data.ts opens it: the decoded cache and its persistent split): a
// stream of fixed-size batches that continues across epochs. The position (epoch, next batch) is
// all the stream's state, so a checkpoint can store it and a resume continue mid-epoch.
import * as tf from '@tensorflow/tfjs';
import { mixSeed } from '../util/random.js';
import { batches, epochOrder, type Batch } from '../data/batches.js';
import type { ImageCache } from '../data/cache.js';
import type { TrainBatch } from '../models/index.js';
import type { TrainData } from '../run/data.js';
import { markLabelMaps } from './jitter.js';

export interface StreamBatch extends TrainBatch { dispose(): void }

/** Fixed-size batches of some rows of one cache, epoch after epoch; order depends on (seed, epoch) only. */
class RowStream {
  private gen: AsyncGenerator<Batch> | null = null;
  readonly perEpoch: number;

  /** `ids` are shuffled per epoch; `rowOf` maps an id to its cache row (paired data shuffles pair ids). */
  constructor(private cache: ImageCache, private ids: number[], private rowOf: ((id: number) => number) | null,
    private batchSize: number, private seed: number, public epoch: number, public position: number) {
    this.perEpoch = Math.floor(ids.length / batchSize);
    if (this.perEpoch < 1) {
      throw new Error(`The train split has ${ids.length} images, fewer than one batch of ${batchSize}: use a smaller batch size (--set batchSize=${Math.max(1, ids.length)}) or more images.`);
    }
  }

  private open(): AsyncGenerator<Batch> {
    let order = epochOrder(this.ids, this.seed, this.epoch).slice(this.position * this.batchSize);
    if (this.rowOf) order = order.map(this.rowOf);
    return batches(this.cache, { batchSize: this.batchSize, rows: order, shuffle: false, dropLast: true });
  }

  async next(): Promise<Batch> {
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
      return r.value;
    }
  }

  async close(): Promise<void> {
    if (this.gen) await this.gen.return(undefined);
    this.gen = null;
  }
}

/**
 * The loop's batches, with domain B beside A for paired (the same pairs, in one shuffled order)
 * and unpaired data (B's own order, at the position A's batch count implies, so the loop's
 * (epoch, position) is still the whole state).
 */
export class BatchStream {
  private a: RowStream;
  private b: RowStream | null = null;

  private readonly maps: boolean;

  constructor(data: TrainData, batchSize: number, seed: number, private labelled: boolean, epoch = 0, position = 0) {
    this.maps = data.labelClasses !== undefined;
    if (data.kind === 'paired' && data.b) {
      const rowsB = data.b.rows;
      const ids = data.rows.map((_, i) => i);
      this.a = new RowStream(data.cache, ids, (i) => data.rows[i], batchSize, seed, epoch, position);
      this.b = new RowStream(data.b.cache, ids, (i) => rowsB[i], batchSize, seed, epoch, position);
    } else {
      this.a = new RowStream(data.cache, data.rows, null, batchSize, seed, epoch, position);
      if (data.b) {
        const perB = Math.floor(data.b.rows.length / batchSize);
        if (perB < 1) throw new Error(`Domain B's train split has ${data.b.rows.length} images, fewer than one batch of ${batchSize}: use a smaller batch size or more images.`);
        const done = epoch * this.a.perEpoch + position;
        this.b = new RowStream(data.b.cache, data.b.rows, null, batchSize, (seed ^ 0x5bd1e995) >>> 0, Math.floor(done / perB), done % perB);
      }
    }
  }

  get epoch(): number { return this.a.epoch; }
  get position(): number { return this.a.position; }
  get perEpoch(): number { return this.a.perEpoch; }

  async next(): Promise<StreamBatch> {
    const x = await this.a.next();
    const y = this.b ? await this.b.next() : null;
    if (!this.labelled && x.labels) x.labels.dispose();
    // Label maps must not be interpolated by the loop's jitter.
    if (this.maps) markLabelMaps(x.images);
    return {
      real: x.images, labels: this.labelled ? (x.labels as tf.Tensor1D) : null, b: y?.images ?? null,
      dispose: () => {
        x.dispose();
        y?.dispose();
      },
    };
  }

  async close(): Promise<void> {
    await this.a.close();
    await this.b?.close();
  }
}

/**
 * Per-class training's batches (models/per_class.ts): one batch of `batchSize` images of every
 * present class, concatenated class after class. Each class has its own shuffled order; they all
 * advance one batch per call, so the count of calls is the whole state, stored as (epoch, position)
 * of the smallest class.
 */
export class ClassBatchStream {
  private streams: RowStream[];
  private done: number;
  private readonly unit: number;

  constructor(data: TrainData, batchSize: number, seed: number, epoch = 0, position = 0) {
    const labels = data.cache.labels;
    if (!labels) throw new Error('Per-class training needs labelled data (an ImageFolder).');
    const byClass = data.present.map((c) => data.rows.filter((r) => labels[r] === c));
    byClass.forEach((rows, j) => {
      if (rows.length < batchSize) {
        throw new Error(`Class "${data.classes[data.present[j]]}" has ${rows.length} training images, fewer than one batch of ${batchSize}: per-class training needs a batch of each class, so use a smaller batch size (--batch-size ${Math.max(1, rows.length)}) or more images of it.`);
      }
    });
    this.unit = Math.min(...byClass.map((rows) => Math.floor(rows.length / batchSize)));
    this.done = epoch * this.unit + position;
    this.streams = byClass.map((rows, j) => {
      const per = Math.floor(rows.length / batchSize);
      return new RowStream(data.cache, rows, null, batchSize, mixSeed(seed, 0xc1a55, data.present[j]), Math.floor(this.done / per), this.done % per);
    });
  }

  get epoch(): number { return Math.floor(this.done / this.unit); }
  get position(): number { return this.done % this.unit; }

  async next(): Promise<StreamBatch> {
    const parts: Batch[] = [];
    try {
      for (const s of this.streams) parts.push(await s.next());
    } catch (err) {
      for (const p of parts) p.dispose();
      throw err;
    }
    this.done++;
    const real = tf.concat(parts.map((p) => p.images)) as tf.Tensor4D;
    const labels = tf.concat(parts.map((p) => p.labels as tf.Tensor1D)) as tf.Tensor1D;
    for (const p of parts) p.dispose();
    return { real, labels, b: null, dispose: () => tf.dispose([real, labels]) };
  }

  async close(): Promise<void> {
    for (const s of this.streams) await s.close();
  }
}
