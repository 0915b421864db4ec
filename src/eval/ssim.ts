// SSIM (Wang, Bovik, Sheikh & Simoncelli 2004, the authors' ssim_index.m): 11x11 Gaussian window
// with sigma 1.5, K1 0.01, K2 0.03, dynamic range L 255, 'valid' filtering (no padding, so an
// S-pixel image has (S-10)^2 local windows), one map per channel, averaged over pixels and channels.
// It matches ssim.js with { ssim: 'original', downsample: false } fed one channel at a time as grey
// (see ssim.test.ts). Images are float32 in [-1, 1] (the project's convention, `imagesOf`), i.e.
// 8-bit p as p / 127.5 - 1: SSIM is unchanged by the rescaling once C1 and C2 are rescaled with it,
// and centred values keep E[xy] - mu_x mu_y accurate in float32.
//
// Scoring n synthetic images against m real ones means n*m SSIM maps. Local means and variances
// depend on one image each and are filtered once per image (channels folded into the batch; the
// separable Gaussian as two matmuls with banded matrices, which oneDNN runs 3-25x faster than
// single-channel conv2d at these sizes). Only the cross term E[xy] is per pair: since the window is
// fixed, E[xy] at window position p is the Gaussian-weighted dot product of x's 121 window pixels
// with y's, so all pairs at p are one [n,121] x [121,m] matmul, batched over positions. That beats
// conv2d-filtering the n*m product images ~5x. The SSIM formula over the n*m*windows results runs
// as one fused loop: a dozen broadcast tensor passes over them measured ~7x slower.
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { writeAtomic } from '../util/atomic.js';
import { OneDnnBackend } from '../engine/backend.js';
import { rng } from '../util/random.js';
import { csvField } from '../util/text.js';
import { assertComparable, type ImageSet } from '../data/image_set.js';
import type { ImageScorer } from '../io/generate.js';
import { registerMetric } from './registry.js';

export const SSIM_PARAMS = { window: 11, sigma: 1.5, k1: 0.01, k2: 0.03, L: 255 } as const;

const K = SSIM_PARAMS.window;
const KK = K * K;
// The constants in [-1, 1] units: the range L = 255 spans 2.
const C1 = (SSIM_PARAMS.k1 * 2) ** 2;
const C2 = (SSIM_PARAMS.k2 * 2) ** 2;

/** The normalised 1-D Gaussian; its outer product is Matlab's fspecial('gaussian', 11, 1.5). */
function gaussian(): Float32Array {
  const g = Float32Array.from({ length: K }, (_, i) => Math.exp(-((i - (K - 1) / 2) ** 2) / (2 * SSIM_PARAMS.sigma ** 2)));
  const sum = g.reduce((a, b) => a + b, 0);
  return g.map((v) => v / sum);
}
const G1 = gaussian();
const G2 = Float32Array.from({ length: KK }, (_, k) => G1[Math.floor(k / K)] * G1[k % K]);

function assertLargeEnough(h: number, w: number, what: string): void {
  if (h < K || w < K) throw new Error(`${what} are ${h}x${w} pixels, smaller than SSIM's ${K}x${K} window: SSIM needs images of at least ${K}x${K} (prepare the data at a larger --size).`);
}

/** The 'valid' 1-D Gaussian filter of a length-`len` line as a banded [len - 10, len] matrix. */
function band(len: number): tf.Tensor2D {
  const out = len - K + 1;
  const m = new Float32Array(out * len);
  for (let o = 0; o < out; o++) for (let k = 0; k < K; k++) m[o * len + o + k] = G1[k];
  return tf.tensor2d(m, [out, len]);
}

/**
 * Gaussian-weighted local means over the valid windows of [N, H, W] planes, as [N, H-10, W-10]:
 * separable, each pass one matmul with a banded matrix. oneDNN runs these ~10x faster than
 * single-channel conv2d, whose primitives also cost ~50 ms to build for every new batch shape.
 */
function filter(x: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const [n, h, w] = x.shape;
    const rows = tf.matMul(x.reshape([n * h, w]), band(w), false, true).reshape([n, h, w - K + 1]);
    return tf.matMul(band(h), rows as tf.Tensor3D) as tf.Tensor3D;
  });
}

/** Channels folded into the batch: [N, H, W, C] -> [N*C, H, W]. */
function fold(x: tf.Tensor4D): tf.Tensor3D {
  const [n, h, w, c] = x.shape;
  return (c === 1 ? x : x.transpose([0, 3, 1, 2])).reshape([n * c, h, w]);
}

/**
 * SSIM of a[i] against b[i], one value per pair (the mean of its SSIM map over pixels and channels).
 * Both are [N, H, W, C] float32 in [-1, 1] (8-bit p as p / 127.5 - 1, as `imagesOf` gives).
 */
export function ssimPairs(a: tf.Tensor4D, b: tf.Tensor4D): Float32Array {
  if (a.rank !== 4 || b.rank !== 4 || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`ssimPairs compares images pair by pair: got shapes [${a.shape}] and [${b.shape}]; give two [N, H, W, C] batches of one shape.`);
  }
  const [n, h, w] = a.shape;
  assertLargeEnough(h, w, 'The images');
  if (n === 0) return new Float32Array(0);
  const t = tf.tidy(() => {
    const x = fold(a), y = fold(b);
    const mx = filter(x), my = filter(y);
    const mxy = tf.mul(mx, my);
    const vx = tf.sub(filter(tf.square(x)), tf.square(mx));
    const vy = tf.sub(filter(tf.square(y)), tf.square(my));
    const cov = tf.sub(filter(tf.mul(x, y)), mxy);
    // Luminance needs the uncentred mean: 0..255 maps to 0..2, i.e. mu + 1.
    const ux = tf.add(mx, 1), uy = tf.add(my, 1);
    const lum = tf.div(tf.add(tf.mul(tf.mul(ux, uy), 2), C1), tf.add(tf.add(tf.square(ux), tf.square(uy)), C1));
    const cs = tf.div(tf.add(tf.mul(cov, 2), C2), tf.add(tf.add(vx, vy), C2));
    return tf.mean(tf.mul(lum, cs).reshape([n, -1]), 1);
  });
  const out = t.dataSync() as Float32Array;
  t.dispose();
  return out;
}

/** 8-bit HWC rows -> planes [n, c, s, s] in [-1, 1]. */
function planes(bytes: Uint8Array, n: number, s: number, c: number): Float32Array {
  const out = new Float32Array(n * c * s * s);
  const px = s * s;
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < px; p++) {
      for (let ch = 0; ch < c; ch++) out[(i * c + ch) * px + p] = bytes[(i * px + p) * c + ch] / 127.5 - 1;
    }
  }
  return out;
}

/**
 * Local statistics per (channel, window) q = ch * P + p, laid out [q, image] so the scoring loop
 * reads them in order: centred mean, mean + 1 and its square (luminance), and variance + C2 / 2 (two add to
 * the denominator of the structure term).
 */
interface Stats { mu: Float32Array; u: Float32Array; l: Float32Array; v: Float32Array }

function localStats(pl: Float32Array, n: number, s: number, c: number): Stats {
  const V = s - K + 1, Q = c * V * V;
  // tidy walks whatever it returns element by element: hand it tensors, never typed arrays.
  const t = tf.tidy(() => {
    const x = tf.tensor3d(pl, [n * c, s, s]);
    return [filter(x), filter(tf.square(x))];
  });
  const [mu, e2] = t.map((x) => x.dataSync());
  tf.dispose(t);
  const out = { mu: new Float32Array(Q * n), u: new Float32Array(Q * n), l: new Float32Array(Q * n), v: new Float32Array(Q * n) };
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < Q; q++) {
      const m = mu[i * Q + q], o = q * n + i;
      out.mu[o] = m;
      out.u[o] = m + 1;
      out.l[o] = (m + 1) * (m + 1);
      out.v[o] = e2[i * Q + q] - m * m + C2 / 2;
    }
  }
  return out;
}

/** Window pixels of positions q0..q1 of each image as rows [q - q0, image, 121], optionally Gaussian-weighted. */
function patches(pl: Float32Array, n: number, s: number, c: number, q0: number, q1: number, weighted: boolean, out: Float32Array): Float32Array {
  const V = s - K + 1, P = V * V;
  let o = 0;
  for (let q = q0; q < q1; q++) {
    const ch = Math.floor(q / P), p = q % P;
    const off = Math.floor(p / V) * s + (p % V);
    for (let i = 0; i < n; i++) {
      const base = (i * c + ch) * s * s + off;
      for (let ky = 0; ky < K; ky++) {
        const row = base + ky * s;
        if (weighted) for (let kx = 0; kx < K; kx++) out[o++] = pl[row + kx] * G2[ky * K + kx];
        else for (let kx = 0; kx < K; kx++) out[o++] = pl[row + kx];
      }
    }
  }
  return out.subarray(0, o);
}

export interface MeanSsimOptions {
  /** Real images sampled per class (all real images when unlabelled); default 100. */
  perClass?: number;
  seed?: number;
  /** Synthetic images scored per matmul; default 128. */
  batch?: number;
  onProgress?: (done: number, total: number) => void;
  /** Floats per patch or cross-term tensor (default 2^23, 32 MB); small values exercise the chunked paths in tests. */
  budget?: number;
}

/** The real images each synthetic image is compared with: one pool per class, or one of all. */
export interface RealPools { byClass: boolean; pools: Map<number, Int32Array>; of: Int32Array }

/** Seeded choice of up to `perClass` real images per class the synthetic set uses. */
export function realPools(synthetic: ImageSet, real: ImageSet, perClass = 100, seed = 0): RealPools {
  if (!Number.isInteger(perClass) || perClass < 1) throw new Error(`perClass is ${perClass}: sample at least 1 real image per class (default 100).`);
  const byClass = !!(synthetic.labels && real.labels);
  const of = new Int32Array(synthetic.count);
  const members = new Map<number, number[]>();
  if (byClass) {
    const realId = new Map(real.classes.map((name, i) => [name, i]));
    for (let i = 0; i < synthetic.count; i++) {
      const name = synthetic.classes[synthetic.labels![i]];
      const id = realId.get(name);
      if (id === undefined) throw new Error(`${synthetic.name} has images of class "${name}", which ${real.name} does not have (its classes: ${real.classes.join(', ')}): compare against real images of the same classes.`);
      of[i] = id;
    }
    for (let j = 0; j < real.count; j++) {
      const l = real.labels![j];
      if (!members.has(l)) members.set(l, []);
      members.get(l)!.push(j);
    }
  } else {
    members.set(0, Array.from({ length: real.count }, (_, j) => j));
  }
  const pools = new Map<number, Int32Array>();
  for (const id of new Set(of)) {
    const list = members.get(id) ?? [];
    if (!list.length) {
      const what = byClass ? `images of class "${real.classes[id]}", which ${synthetic.name} holds ${of.filter((v) => v === id).length} images of` : 'images';
      throw new Error(`${real.name} has no ${what}: give real images of every class the synthetic set uses.`);
    }
    // A partial Fisher-Yates per class with its own stream, so one class's sample does not depend on the others.
    const rand = rng((seed * 1_000_003 + id * 7919 + 1) >>> 0);
    const take = Math.min(perClass, list.length);
    for (let k = 0; k < take; k++) {
      const r = k + Math.floor(rand() * (list.length - k));
      [list[k], list[r]] = [list[r], list[k]];
    }
    pools.set(id, Int32Array.from(list.slice(0, take)).sort());
  }
  return { byClass, pools, of };
}

/**
 * Per synthetic image, its mean SSIM to a seeded sample of real images of its class (to a sample of
 * all real images when either set is unlabelled).
 */
export function meanSsimToReal(synthetic: ImageSet, real: ImageSet, opts: MeanSsimOptions = {}): Float32Array {
  assertComparable(synthetic, real);
  assertLargeEnough(synthetic.size, synthetic.size, `The images of ${synthetic.name}`);
  const batch = opts.batch ?? 128;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`batch is ${batch}: give a whole number of images of at least 1.`);
  const budget = opts.budget ?? 1 << 23;
  const { pools, of } = realPools(synthetic, real, opts.perClass ?? 100, opts.seed ?? 0);
  const s = synthetic.size, c = synthetic.channels, V = s - K + 1, Q = c * V * V;
  const scores = new Float32Array(synthetic.count);
  let done = 0;
  for (const [id, sample] of pools) {
    const m = sample.length;
    const rp = planes(real.read(sample), m, s, c);
    const rs = localStats(rp, m, s, c);
    const mine = Int32Array.from(of.keys()).filter((i) => of[i] === id);
    const nb = Math.min(batch, mine.length);
    const span = Math.max(1, Math.min(Q, Math.floor(budget / (nb * Math.max(m, KK))), Math.floor(budget / (m * KK))));
    const aBuf = new Float32Array(span * nb * KK);
    const spans = Array.from({ length: Math.ceil(Q / span) }, (_, k) => [k * span, Math.min(Q, (k + 1) * span)]);
    // The real side's patches are built once per class while they fit 4 budgets (a 32 px RGB class
    // of 100 takes 2), else again for every batch, which costs m / batch of the synthetic side's.
    const keep = Q * m * KK <= 4 * budget;
    const realPatches = ([q0, q1]: number[]) => tf.tensor3d(patches(rp, m, s, c, q0, q1, true, new Float32Array((q1 - q0) * m * KK)), [q1 - q0, m, KK]);
    const kept = keep ? spans.map(realPatches) : null;
    try {
      for (let start = 0; start < mine.length; start += nb) {
        const idx = mine.subarray(start, start + nb), n = idx.length;
        const sp = planes(synthetic.read(idx), n, s, c);
        const ss = localStats(sp, n, s, c);
        const acc = new Float64Array(n);
        spans.forEach(([q0, q1], k) => {
          const A = tf.tensor3d(patches(sp, n, s, c, q0, q1, false, aBuf), [q1 - q0, n, KK]);
          const B = kept ? kept[k] : realPatches([q0, q1]);
          const cross = tf.matMul(A, B, false, true);
          accumulate(crossValues(cross), ss, rs, n, m, q0, q1, acc);
          tf.dispose(kept ? [A, cross] : [A, B, cross]);
        });
        for (let k = 0; k < n; k++) scores[idx[k]] = acc[k] / (m * Q);
        done += n;
        opts.onProgress?.(done, synthetic.count);
      }
    } finally {
      if (kept) tf.dispose(kept);
    }
  }
  return scores;
}

/**
 * The matmul's output, read in place on onednn: dataSync would mark the pooled buffer as escaped,
 * and a fresh 30 MB buffer per batch costs more in page faults than the matmul itself.
 * Valid until `t` is disposed.
 */
function crossValues(t: tf.Tensor): Float32Array {
  const b = tf.backend();
  return b instanceof OneDnnBackend ? b.values(t) : (t.dataSync() as Float32Array);
}

/** Adds each synthetic image's SSIM map values over windows q0..q1 and every real image to acc. */
function accumulate(e: Float32Array, x: Stats, y: Stats, n: number, m: number, q0: number, q1: number, acc: Float64Array): void {
  const yu = y.u, ymu = y.mu, yl = y.l, yv = y.v;
  for (let q = q0; q < q1; q++) {
    const yo = q * m;
    for (let i = 0; i < n; i++) {
      const xo = q * n + i, ux2 = 2 * x.u[xo], mx2 = 2 * x.mu[xo], lx = x.l[xo] + C1, vx = x.v[xo];
      let eo = ((q - q0) * n + i) * m;
      let sum = 0;
      for (let j = yo, end = yo + m; j < end; j++, eo++) {
        sum += ((ux2 * yu[j] + C1) * (2 * e[eo] - mx2 * ymu[j] + C2)) / ((lx + yl[j]) * (vx + yv[j]));
      }
      acc[i] += sum;
    }
  }
}

/** Indices per class id (one group when unlabelled), highest score first; ties by index. */
export function rankBySsim(scores: ArrayLike<number>, labels: ArrayLike<number> | null, classCount = 0): number[][] {
  if (labels && labels.length !== scores.length) throw new Error(`${scores.length} scores but ${labels.length} labels: give one label per scored image.`);
  let k = labels ? classCount : 1;
  if (labels) for (let i = 0; i < labels.length; i++) k = Math.max(k, labels[i] + 1);
  const groups: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < scores.length; i++) groups[labels ? labels[i] : 0].push(i);
  for (const g of groups) g.sort((a, b) => scores[b] - scores[a] || a - b);
  return groups;
}

/** The `k` best-scoring images of each class (fewer where a class has fewer), best first. */
export function selectTop(scores: ArrayLike<number>, labels: ArrayLike<number> | null, k: number, classCount = 0): number[][] {
  if (!Number.isInteger(k) || k < 1) throw new Error(`--top is ${k}: keep at least 1 image per class.`);
  return rankBySsim(scores, labels, classCount).map((g) => g.slice(0, k));
}

export interface Histogram { edges: number[]; counts: number[] }

/** Shared bin edges on a 0.05 grid around the data, so per-class histograms line up. */
export function histogramEdges(values: ArrayLike<number>, bins = 25): number[] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) { lo = Math.min(lo, values[i]); hi = Math.max(hi, values[i]); }
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  lo = Math.floor(lo * 20) / 20;
  hi = Math.max(lo + 0.05, Math.ceil(hi * 20) / 20);
  return Array.from({ length: bins + 1 }, (_, i) => +(lo + ((hi - lo) * i) / bins).toFixed(6));
}

export function histogram(values: ArrayLike<number>, edges: number[]): Histogram {
  const counts = new Array<number>(edges.length - 1).fill(0);
  const lo = edges[0], width = (edges[edges.length - 1] - lo) / counts.length;
  for (let i = 0; i < values.length; i++) counts[Math.min(counts.length - 1, Math.max(0, Math.floor((values[i] - lo) / width)))]++;
  return { edges, counts };
}

/** The name of each synthetic image's group: its class, or "all" when unlabelled. */
export const groupName = (set: ImageSet, i: number): string => (set.labels ? set.classes[set.labels[i]] : 'all');

/** index,class,score for every synthetic image, written atomically. */
export function writeScoresCsv(file: string, set: ImageSet, scores: Float32Array): void {
  const lines = ['index,class,score'];
  for (let i = 0; i < scores.length; i++) lines.push(`${i},${csvField(groupName(set, i))},${scores[i].toFixed(6)}`);
  writeAtomic(file, `${lines.join('\n')}\n`);
}

/** Mean, std and histogram per class, with shared edges. */
export function summarise(set: ImageSet, scores: Float32Array): { mean: number; perClass: Record<string, { count: number; mean: number; std: number; histogram: Histogram }> } {
  const edges = histogramEdges(scores);
  const groups = rankBySsim(scores, set.labels, set.labels ? set.classes.length : 1);
  const perClass: Record<string, { count: number; mean: number; std: number; histogram: Histogram }> = {};
  groups.forEach((g, id) => {
    if (!g.length) return;
    const v = g.map((i) => scores[i]);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    perClass[set.labels ? set.classes[id] : 'all'] = { count: g.length, mean, std, histogram: histogram(v, edges) };
  });
  const mean = scores.reduce((a, b) => a + b, 0) / Math.max(1, scores.length);
  return { mean, perClass };
}

registerMetric({
  name: 'ssim',
  description: 'mean SSIM (Wang et al. 2004) of each synthetic image to a seeded sample of up to 100 real training images of its class',
  applies: (ctx) => (ctx.synthetic.size < K ? `SSIM needs images of at least ${K}x${K} pixels; these are ${ctx.synthetic.size}x${ctx.synthetic.size}` : null),
  async run(ctx) {
    const perClass = 100;
    const { byClass, pools } = realPools(ctx.synthetic, ctx.train, perClass, ctx.seed);
    const scores = meanSsimToReal(ctx.synthetic, ctx.train, { perClass, seed: ctx.seed, onProgress: (d, t) => ctx.progress('ssim', d, t) });
    writeScoresCsv(join(ctx.outDir, 'ssim_scores.csv'), ctx.synthetic, scores);
    return {
      ...summarise(ctx.synthetic, scores),
      window: { size: K, sigma: SSIM_PARAMS.sigma, k1: SSIM_PARAMS.k1, k2: SSIM_PARAMS.k2, L: SSIM_PARAMS.L, filtering: 'valid' },
      sample: {
        perClass, seed: ctx.seed, byClass,
        real: Object.fromEntries([...pools].map(([id, p]) => [byClass ? ctx.train.classes[id] : 'all', p.length])),
      },
      scores: 'ssim_scores.csv',
    };
  },
});

/** For `generate --score <real>`: each image's mean SSIM to real images of its class (image i's score depends on it alone). */
export function ssimScorer(real: ImageSet, opts: Omit<MeanSsimOptions, 'onProgress'> = {}): ImageScorer {
  return { name: 'ssim', score: (set, onProgress) => meanSsimToReal(set, real, { ...opts, onProgress }) };
}
