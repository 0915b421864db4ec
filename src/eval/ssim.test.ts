import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { ssim as ssimJs } from 'ssim.js';
import { folderName, ssimRank, ssimSelect } from '../cli/ssim.js';
import { tempDir } from '../data/test_images.js';
import { rng } from '../util/random.js';
import { initEngine } from '../engine/index.js';
import { imagesOf, memorySet, subset, type ImageSet } from '../data/image_set.js';
import { getMetric, type EvalContext } from './registry.js';
import { histogram, histogramEdges, meanSsimToReal, rankBySsim, realPools, selectTop, ssimPairs } from './ssim.js';
import { shapesSet } from './test_sets.js';

await initEngine();

// ssim.js options for the original Wang et al. SSIM: the line-by-line port of ssim_index.m
// ('original'; its default 'weber' is a faster approximation) without the automatic downsampling
// of images over 256 px. Defaults kept: 11 px window, k1 0.01, k2 0.03, bit depth 8. It reads RGBA
// and converts to grey; a channel given as R = G = B passes unchanged (its integer grey conversion
// is (256 v + 128) >> 8 = v), so per-channel SSIM is one call per channel.
const REFERENCE = { ssim: 'original', downsample: false } as const;

/** ssim.js's SSIM of two 8-bit HWC images, averaged over channels. */
function reference(a: Uint8Array, b: Uint8Array, h: number, w: number, c: number): number {
  const rgba = (x: Uint8Array, ch: number) => {
    const data = new Uint8ClampedArray(h * w * 4);
    for (let p = 0; p < h * w; p++) {
      data[4 * p] = data[4 * p + 1] = data[4 * p + 2] = x[p * c + ch];
      data[4 * p + 3] = 255;
    }
    return { data, width: w, height: h };
  };
  let sum = 0;
  for (let ch = 0; ch < c; ch++) sum += ssimJs(rgba(a, ch), rgba(b, ch), REFERENCE).mssim;
  return sum / c;
}

/** n random images and n partners: the partner is the image plus uniform noise of +-amp (so SSIM spans a range). */
function randomPairs(n: number, h: number, w: number, c: number, seed: number, amp = 80): [Uint8Array, Uint8Array] {
  const rand = rng(seed);
  const a = Uint8Array.from({ length: n * h * w * c }, () => Math.floor(rand() * 256));
  const b = a.map((v, i) => Math.max(0, Math.min(255, v + Math.round((rand() - 0.5) * 2 * amp * ((i % 7) / 6)))));
  return [a, b];
}

const toTensor = (bytes: Uint8Array, shape: [number, number, number, number]) => tf.tidy(() => tf.tensor4d(bytes, shape, 'int32').toFloat().div(127.5).sub(1) as tf.Tensor4D);
const set = (bytes: Uint8Array, size: number, channels: 1 | 3, labels: Int32Array | null = null, classes: string[] = [], name = 'set') =>
  memorySet({ name, size, channels, classes, labels, bytes });

test('ssimPairs matches ssim.js (original SSIM) on random grey and RGB pairs of several sizes', () => {
  const before = tf.memory().numTensors;
  for (const [h, w, c, seed] of [[16, 16, 1, 1], [32, 32, 1, 2], [16, 16, 3, 3], [32, 32, 3, 4], [11, 11, 1, 5], [12, 20, 3, 6]] as const) {
    const n = 4, px = h * w * c;
    const [a, b] = randomPairs(n, h, w, c, seed);
    const x = toTensor(a, [n, h, w, c]), y = toTensor(b, [n, h, w, c]);
    const got = ssimPairs(x, y);
    tf.dispose([x, y]);
    for (let i = 0; i < n; i++) {
      const want = reference(a.subarray(i * px, (i + 1) * px), b.subarray(i * px, (i + 1) * px), h, w, c);
      assert.ok(Math.abs(got[i] - want) <= 1e-3, `${h}x${w}x${c} pair ${i}: ${got[i]} vs ssim.js ${want}`);
    }
  }
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
});

test('meanSsimToReal matches the mean of ssim.js over every real image (grey and RGB, 16 and 32 px)', () => {
  for (const [s, c, seed] of [[16, 1, 7], [32, 1, 8], [16, 3, 9], [32, 3, 10]] as const) {
    const n = 5, m = 4, px = s * s * c;
    const [a, b] = randomPairs(Math.max(n, m), s, s, c, seed, 60);
    const syn = set(a.subarray(0, n * px), s, c), real = set(b.subarray(0, m * px), s, c);
    const before = tf.memory().numTensors;
    const got = meanSsimToReal(syn, real, { batch: 2 });
    assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
    for (let i = 0; i < n; i++) {
      let want = 0;
      for (let j = 0; j < m; j++) want += reference(a.subarray(i * px, (i + 1) * px), b.subarray(j * px, (j + 1) * px), s, s, c) / m;
      assert.ok(Math.abs(got[i] - want) <= 1e-3, `${s}px x${c} image ${i}: ${got[i]} vs ssim.js ${want}`);
    }
  }
});

test('identical images score 1; SSIM falls as noise grows', () => {
  const real = shapesSet(8, { size: 16, channels: 3, seed: 11 });
  const x = imagesOf(real, [0, 1, 2, 3]);
  const same = ssimPairs(x, x);
  same.forEach((v) => assert.ok(Math.abs(v - 1) < 1e-5, `identical pair: ${v}`));
  const one = subset(real, [2]);
  assert.ok(Math.abs(meanSsimToReal(one, one)[0] - 1) < 1e-5);
  const rand = rng(12);
  const base = real.read([0, 1, 2, 3]);
  const noise = Float32Array.from(base, () => rand() - 0.5);
  const means = [4, 16, 48, 128].map((amp) => {
    const noisy = base.map((v, i) => Math.max(0, Math.min(255, Math.round(v + amp * 2 * noise[i]))));
    const y = toTensor(noisy, [4, 16, 16, 3]);
    const r = ssimPairs(x, y);
    y.dispose();
    return r.reduce((p, q) => p + q, 0) / r.length;
  });
  for (let k = 1; k < means.length; k++) assert.ok(means[k] < means[k - 1] - 0.01, `noise step ${k}: ${means.join(', ')}`);
  x.dispose();
});

test('a near-copy of a real image ranks above noise and above copies of other classes', () => {
  const real = shapesSet(40, { size: 16, seed: 13 });
  const rand = rng(14);
  const row = 16 * 16;
  const copy = real.read([5]).map((v) => Math.max(0, Math.min(255, v + Math.round((rand() - 0.5) * 10))));
  const noise = Uint8Array.from({ length: row }, () => Math.floor(rand() * 256));
  const other = real.read([6]); // a class-2 image presented as class 1
  const cls = real.labels![5];
  const syn = set(Uint8Array.from([...copy, ...noise, ...other]), 16, 1, Int32Array.from([cls, cls, cls]), real.classes);
  const s = meanSsimToReal(syn, real, { perClass: 100 });
  assert.ok(s[0] > s[1] && s[0] > s[2], `near-copy ${s[0]}, noise ${s[1]}, other class ${s[2]}`);
  assert.deepEqual(rankBySsim(s, syn.labels)[cls], [0, ...(s[1] > s[2] ? [1, 2] : [2, 1])]);
});

test('each synthetic image is scored against a seeded sample of real images of its own class', () => {
  const real = shapesSet(60, { size: 12, seed: 15 }), syn = shapesSet(9, { size: 12, seed: 16 });
  const p = realPools(syn, real, 6, 3);
  assert.deepEqual([...p.pools.keys()].sort(), [0, 1, 2, 3]);
  for (const [id, pool] of p.pools) {
    assert.equal(pool.length, 6);
    pool.forEach((j) => assert.equal(real.labels![j], id));
  }
  assert.deepEqual(realPools(syn, real, 6, 3).pools, p.pools, 'same seed, same sample');
  assert.notDeepEqual(realPools(syn, real, 6, 4).pools, p.pools, 'another seed, another sample');
  assert.equal(realPools(syn, real, 1000, 3).pools.get(0)!.length, 15, 'a class smaller than perClass is used whole');
  const scores = meanSsimToReal(syn, real, { perClass: 6, seed: 3 });
  for (let i = 0; i < syn.count; i++) {
    const pool = p.pools.get(syn.labels![i])!;
    const x = imagesOf(syn, Array(pool.length).fill(i)), y = imagesOf(real, pool);
    const pairs = ssimPairs(x, y);
    tf.dispose([x, y]);
    const want = pairs.reduce((a, b) => a + b, 0) / pairs.length;
    assert.ok(Math.abs(scores[i] - want) < 1e-4, `image ${i}: ${scores[i]} vs ${want}`);
  }
  // Unlabelled synthetic images are compared with a sample of all real images.
  const plain = { ...syn, labels: null };
  const all = realPools(plain, real, 1000, 3);
  assert.equal(all.byClass, false);
  assert.equal(all.pools.get(0)!.length, 60);
});

test('batch size and window chunking do not change the scores', () => {
  const real = shapesSet(12, { size: 16, channels: 3, seed: 17 }), syn = shapesSet(10, { size: 16, channels: 3, seed: 18 });
  const ref = meanSsimToReal(syn, real);
  // With 3 real images per class: budget 10000 splits the 108 windows into 4 spans and keeps the real
  // patches per class; 3000 and 200 rebuild them per batch, 200 one window at a time.
  for (const o of [{ batch: 1 }, { batch: 3 }, { batch: 3, budget: 10000 }, { batch: 3, budget: 3000 }, { batch: 2, budget: 200 }]) {
    const got = meanSsimToReal(syn, real, o);
    got.forEach((v, i) => assert.ok(Math.abs(v - ref[i]) < 1e-5, `${JSON.stringify(o)} image ${i}: ${v} vs ${ref[i]}`));
  }
  const seen: number[] = [];
  meanSsimToReal(syn, real, { batch: 4, onProgress: (d, t) => { seen.push(d); assert.equal(t, 10); } });
  assert.equal(seen[seen.length - 1], 10);
});

test('rankBySsim and selectTop: best first per class, ties by index, fewer where a class is short', () => {
  const scores = [0.1, 0.9, 0.5, 0.3, 0.7, 0.5];
  const labels = Int32Array.from([0, 1, 0, 1, 0, 0]);
  assert.deepEqual(rankBySsim(scores, labels), [[4, 2, 5, 0], [1, 3]]);
  assert.deepEqual(selectTop(scores, labels, 2), [[4, 2], [1, 3]]);
  assert.deepEqual(selectTop(scores, labels, 3, 3), [[4, 2, 5], [1, 3], []]);
  assert.deepEqual(selectTop(scores, null, 2), [[1, 4]]);
});

test('bad inputs are refused with what to do', () => {
  const a = shapesSet(4, { size: 16, seed: 19 }), b = shapesSet(4, { size: 12, seed: 20 });
  assert.throws(() => meanSsimToReal(a, b), /16x16x1 images but .* 12x12x1: compare sets of one size/);
  const tiny = shapesSet(4, { size: 8, seed: 21 });
  assert.throws(() => meanSsimToReal(tiny, tiny), /8x8 pixels, smaller than SSIM's 11x11 window/);
  const x = tf.zeros([2, 16, 16, 1]) as tf.Tensor4D, y = tf.zeros([2, 16, 16, 3]) as tf.Tensor4D;
  assert.throws(() => ssimPairs(x, y), /pair by pair: got shapes \[2,16,16,1\] and \[2,16,16,3\]/);
  tf.dispose([x, y]);
  for (const k of [0, -1, 1.5]) assert.throws(() => selectTop([0.5], null, k), /keep at least 1 image per class/);
  assert.throws(() => rankBySsim([0.1, 0.2], Int32Array.from([0])), /2 scores but 1 labels/);
  assert.throws(() => meanSsimToReal(a, a, { perClass: 0 }), /sample at least 1 real image per class/);
  assert.throws(() => meanSsimToReal(a, a, { batch: 0 }), /batch is 0/);
  const noDiscs = subset(a, [0, 1, 3], 'real without discs');
  assert.throws(() => meanSsimToReal(a, noDiscs), /real without discs has no images of class "disc", which shapes holds 1 images of/);
  const renamed = { ...a, classes: ['a', 'b', 'c', 'd'], name: 'renamed' };
  assert.throws(() => meanSsimToReal(a, renamed), /class "hbars", which renamed does not have/);
});

function metricContext(train: ImageSet, synthetic: ImageSet, outDir: string): EvalContext {
  return {
    train, test: train, synthetic, seed: 5, outDir,
    realClassifier: () => { throw new Error('ssim needs no classifier'); },
    progress: () => undefined,
  };
}

test('the ssim metric writes ssim_scores.csv and per-class means, spreads and histograms', async () => {
  const t = tempDir('synthset-ssim-');
  try {
    const train = shapesSet(24, { size: 16, seed: 22 }), syn = shapesSet(10, { size: 16, seed: 23 });
    const r = await getMetric('ssim').run(metricContext(train, syn, t.dir)) as {
      mean: number; perClass: Record<string, { count: number; mean: number; std: number; histogram: { edges: number[]; counts: number[] } }>;
      sample: { real: Record<string, number> };
    };
    const lines = readFileSync(join(t.dir, 'ssim_scores.csv'), 'utf8').trim().split('\n');
    assert.equal(lines[0], 'index,class,score');
    assert.equal(lines.length, 11);
    const rows = lines.slice(1).map((l) => l.split(','));
    rows.forEach(([i, c], k) => { assert.equal(+i, k); assert.equal(c, syn.classes[syn.labels![k]]); });
    const want = meanSsimToReal(syn, train, { perClass: 100, seed: 5 });
    rows.forEach(([, , v], k) => assert.ok(Math.abs(+v - want[k]) < 1e-5));
    assert.ok(Math.abs(r.mean - want.reduce((a, b) => a + b, 0) / 10) < 1e-6);
    assert.deepEqual(Object.keys(r.perClass), syn.classes);
    for (const [name, c] of Object.entries(r.perClass)) {
      const v = rows.filter((row) => row[1] === name).map((row) => +row[2]);
      assert.equal(c.count, v.length);
      assert.ok(Math.abs(c.mean - v.reduce((a, b) => a + b, 0) / v.length) < 1e-5);
      assert.equal(c.histogram.counts.reduce((a, b) => a + b, 0), v.length);
      assert.equal(c.histogram.edges.length, c.histogram.counts.length + 1);
    }
    assert.deepEqual(r.sample.real, { hbars: 6, vbars: 6, disc: 6, square: 6 });
  } finally {
    t.done();
  }
});

test('histogram edges cover the data on a 0.05 grid and every value lands in a bin', () => {
  const v = [0.12, 0.5, 0.5, 0.93, -0.2];
  const e = histogramEdges(v);
  assert.equal(e[0], -0.2);
  assert.equal(e[e.length - 1], 0.95);
  const h = histogram(v, e);
  assert.equal(h.counts.reduce((a, b) => a + b, 0), v.length);
  assert.equal(h.counts[0], 1);
  assert.equal(h.counts[h.counts.length - 1], 1);
});

async function imageFolder(root: string, s: ImageSet): Promise<void> {
  for (let i = 0; i < s.count; i++) {
    const dir = join(root, s.classes[s.labels![i]]);
    mkdirSync(dir, { recursive: true });
    await sharp(Buffer.from(s.read([i])), { raw: { width: s.size, height: s.size, channels: s.channels } }).png().toFile(join(dir, `${i}.png`));
  }
}

test('ssim rank and select (the CLI commands) score folders, and select keeps the K best per class as PNG', async () => {
  const t = tempDir('synthset-ssim-cli-');
  try {
    const real = shapesSet(16, { size: 32, channels: 3, seed: 24 }), syn = shapesSet(12, { size: 32, channels: 3, seed: 25 });
    await imageFolder(join(t.dir, 'real'), real);
    await imageFolder(join(t.dir, 'syn'), syn);
    const base = { synthetic: join(t.dir, 'syn'), real: join(t.dir, 'real'), seed: 1 };
    const r = await ssimRank({ ...base, out: join(t.dir, 'out', 'scores.csv') });
    assert.equal(r.count, 12);
    const scores = readFileSync(r.file, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    assert.equal(scores.length, 12);
    const sel = await ssimSelect({ ...base, top: 2, out: join(t.dir, 'best') });
    assert.equal(sel.kept, 8);
    for (const name of real.classes) {
      const files = readdirSync(join(t.dir, 'best', name)).sort();
      assert.deepEqual(files, ['00000.png', '00001.png']);
      const meta = await sharp(join(t.dir, 'best', name, files[0])).metadata();
      assert.equal(meta.width, 32);
      // The kept images are the class's two best in the full ranking.
      const mine = scores.filter((row) => row[1] === name).map((row) => +row[2]).sort((a, b) => b - a);
      const picked = readFileSync(join(t.dir, 'best', 'selected.csv'), 'utf8').split('\n').filter((l) => l.startsWith(`${name},`)).map((l) => +l.split(',')[3]);
      assert.deepEqual(picked, mine.slice(0, 2));
    }
    assert.ok(existsSync(join(t.dir, 'best', 'ssim_scores.csv')));
    await assert.rejects(ssimSelect({ ...base, top: 2, out: join(t.dir, 'best') }), /already holds files: give a new or empty --out folder/);
    await assert.rejects(ssimSelect({ ...base, top: 0, out: join(t.dir, 'none') }), /--top is 0/);
    await assert.rejects(ssimRank({ synthetic: join(t.dir, 'syn'), out: join(t.dir, 'x.csv') }), /not a run dir.*give --real/);
    assert.equal(folderName('T-shirt/top', 0), 'T-shirt_top');
    assert.equal(folderName('..', 3), 'class3');
  } finally {
    t.done();
  }
});
