// Exact nearest-neighbour search between two sets of vectors (images as pixels, or classifier
// features), for the privacy report. Squared distances come from ‖q‖² + ‖r‖² − 2·q·rᵀ with the
// product on the compute backend (one native matmul per block), and only the running minimum and
// its index are kept per row (and per column when asked), so memory is a few blocks whatever the
// set sizes. The float32 product loses digits to cancellation (‖q‖² is up to 1024 for a 32×32
// image against squared distances near 0 for a copy), so each block's winner is re-measured in
// float64 from the vectors themselves: distances are exact, and an index can differ from a
// brute-force search only where two candidates lie within float32 rounding of each other.
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../data/image_set.js';

/** Row vectors read on demand, a block at a time. */
export interface Rows {
  name: string;
  count: number;
  dims: number;
  /** The given rows (0..count-1), row after row. */
  read(indices: ArrayLike<number>): Float32Array;
}

const SCALE = 1 / 127.5;

/** Images as flat pixel vectors in [-1, 1] (the scale of `imagesOf`), decoded block by block. */
export function pixelRows(set: ImageSet): Rows {
  return {
    name: set.name, count: set.count, dims: set.size * set.size * set.channels,
    read(idx) {
      const bytes = set.read(idx);
      const out = new Float32Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] * SCALE - 1;
      return out;
    },
  };
}

/** Rows of a row-major matrix held in memory (e.g. `embed` features). */
export function matrixRows(name: string, data: Float32Array, dims: number): Rows {
  if (!(Number.isInteger(dims) && dims >= 1) || data.length % dims) {
    throw new Error(`${name}: ${data.length} values are not a whole number of ${dims}-dimensional rows.`);
  }
  return {
    name, count: data.length / dims, dims,
    read(idx) {
      const out = new Float32Array(idx.length * dims);
      for (let i = 0; i < idx.length; i++) out.set(data.subarray(idx[i] * dims, (idx[i] + 1) * dims), i * dims);
      return out;
    },
  };
}

/** The rows of `rows` at `indices`, renumbered 0..indices.length-1. */
export function pickRows(rows: Rows, indices: ArrayLike<number>, name = rows.name): Rows {
  const list = Int32Array.from(indices);
  return { name, count: list.length, dims: rows.dims, read: (idx) => rows.read(Array.from(idx, (i) => list[i])) };
}

export interface NearestOptions {
  /** Per query row, a reference row it must not be matched with (itself), or -1. */
  exclude?: Int32Array;
  /** Also find, per query row, the nearest among the reference rows with mask[j] = 1. */
  mask?: Uint8Array;
  /** Also find, per reference row, the nearest query row. */
  columns?: boolean;
  /** Rows per block on each side (default 2048: the fastest matmul shape measured here). */
  block?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface Neighbours {
  /** Euclidean distance to the nearest reference row, per query row. */
  dist: Float64Array;
  index: Int32Array;
  masked?: { dist: Float64Array; index: Int32Array };
  columns?: { dist: Float64Array; index: Int32Array };
}

function range(start: number, end: number): Int32Array {
  return Int32Array.from({ length: end - start }, (_, i) => start + i);
}

function norms(x: Float32Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = i * d; k < (i + 1) * d; k++) s += x[k] * x[k];
    out[i] = s;
  }
  return out;
}

function exact(a: Float32Array, i: number, b: Float32Array, j: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) {
    const t = a[i * d + k] - b[j * d + k];
    s += t * t;
  }
  return s;
}

/** One block of the distance matrix: rows q0..q0+nq of the query against r0..r0+nr of the reference. */
export interface DistanceBlock {
  q0: number; nq: number; r0: number; nr: number;
  qx: Float32Array; rx: Float32Array;
  /** Squared norms of the block's rows (float64). */
  qn: Float64Array; rn: Float64Array;
  /** q·rᵀ, [nq x nr] row-major, float32 from the backend's matmul. */
  dot: Float32Array;
}

/** Walks the query × reference distance matrix block by block, one backend matmul per block, so
 * memory stays a few blocks whatever the set sizes. ‖q − r‖² = qn[i] + rn[j] − 2·dot[i·nr + j]. */
export function forEachDistanceBlock(query: Rows, ref: Rows, block: { query: number; ref: number }, fn: (b: DistanceBlock) => void): void {
  if (query.dims !== ref.dims) {
    throw new Error(`Nearest neighbours: ${query.name} has ${query.dims}-dimensional rows but ${ref.name} ${ref.dims}: compare sets of one image size and channel count.`);
  }
  const d = query.dims;
  for (let q0 = 0; q0 < query.count; q0 += block.query) {
    const nq = Math.min(block.query, query.count - q0);
    const qx = query.read(range(q0, q0 + nq));
    const qn = norms(qx, nq, d);
    const qt = tf.tensor2d(qx, [nq, d]);
    try {
      for (let r0 = 0; r0 < ref.count; r0 += block.ref) {
        const nr = Math.min(block.ref, ref.count - r0);
        const rx = ref.read(range(r0, r0 + nr));
        const prod = tf.tidy(() => tf.matMul(qt, tf.tensor2d(rx, [nr, d]), false, true));
        const dot = prod.dataSync() as Float32Array;
        prod.dispose();
        fn({ q0, nq, r0, nr, qx, rx, qn, rn: norms(rx, nr, d), dot });
      }
    } finally {
      qt.dispose();
    }
  }
}

/** Exact nearest reference row for every query row (Euclidean), optionally also per column. */
export function nearest(query: Rows, ref: Rows, o: NearestOptions = {}): Neighbours {
  for (const r of [query, ref]) {
    if (r.count < 1) throw new Error(`Nearest neighbours: ${r.name} has no images; it needs at least one.`);
  }
  if (o.exclude && o.exclude.length !== query.count) throw new Error(`Nearest neighbours: exclude lists ${o.exclude.length} rows for ${query.count} query rows.`);
  if (o.mask && o.mask.length !== ref.count) throw new Error(`Nearest neighbours: mask lists ${o.mask.length} rows for ${ref.count} reference rows.`);
  if (o.mask && !o.mask.some((m) => m)) throw new Error('Nearest neighbours: the mask selects no reference row.');
  const block = o.block ?? 2048;
  if (!(Number.isInteger(block) && block >= 1)) throw new Error(`Nearest neighbours: block must be a positive integer, got ${block}.`);
  const d = query.dims, nQ = query.count, nR = ref.count;
  const mask = o.mask ?? null, cols = !!o.columns, exclude = o.exclude ?? null;
  const rowD2 = new Float64Array(nQ).fill(Infinity), rowIdx = new Int32Array(nQ).fill(-1);
  const maskD2 = new Float64Array(o.mask ? nQ : 0).fill(Infinity), maskIdx = new Int32Array(o.mask ? nQ : 0).fill(-1);
  const colD2 = new Float64Array(o.columns ? nR : 0).fill(Infinity), colIdx = new Int32Array(o.columns ? nR : 0).fill(-1);
  // Per-block column winners (approximate), re-measured exactly after each block.
  const bestCol = new Float64Array(o.columns ? block : 0), argCol = new Int32Array(o.columns ? block : 0);
  const total = Math.ceil(nQ / block) * Math.ceil(nR / block);
  let done = 0;
  const keep = (d2: Float64Array, idx: Int32Array, at: number, v: number, j: number) => {
    if (v < d2[at] || (v === d2[at] && j < idx[at])) {
      d2[at] = v;
      idx[at] = j;
    }
  };
  forEachDistanceBlock(query, ref, { query: block, ref: block }, ({ q0, nq, r0, nr, qx, rx, qn, rn, dot: g }) => {
    if (cols) bestCol.fill(Infinity, 0, nr);
    for (let i = 0; i < nq; i++) {
      const base = i * nr, skip = exclude ? exclude[q0 + i] - r0 : -1, qi = qn[i];
      let best = Infinity, bj = -1, mBest = Infinity, mj = -1;
      for (let j = 0; j < nr; j++) {
        if (j === skip) continue;
        const v = rn[j] - 2 * g[base + j]; // squared distance minus ‖q_i‖²
        if (v < best) { best = v; bj = j; }
        if (mask && mask[r0 + j] && v < mBest) { mBest = v; mj = j; }
        if (cols && v + qi < bestCol[j]) { bestCol[j] = v + qi; argCol[j] = i; }
      }
      if (bj >= 0) keep(rowD2, rowIdx, q0 + i, exact(qx, i, rx, bj, d), r0 + bj);
      if (mj >= 0) keep(maskD2, maskIdx, q0 + i, exact(qx, i, rx, mj, d), r0 + mj);
    }
    if (cols) {
      for (let j = 0; j < nr; j++) if (bestCol[j] < Infinity) keep(colD2, colIdx, r0 + j, exact(qx, argCol[j], rx, j, d), q0 + argCol[j]);
    }
    o.onProgress?.(++done, total);
  });
  if (rowIdx.some((j) => j < 0)) throw new Error(`Nearest neighbours: ${ref.name} has no row other than the excluded one to match.`);
  const root = (x: Float64Array) => x.map(Math.sqrt);
  return {
    dist: root(rowD2), index: rowIdx,
    ...(o.mask ? { masked: { dist: root(maskD2), index: maskIdx } } : {}),
    ...(o.columns ? { columns: { dist: root(colD2), index: colIdx } } : {}),
  };
}
