// Privacy (memorization) report: does the synthetic set give away its training images? Everything
// is measured from exact nearest neighbours (neighbours.ts) in two spaces: pixels (L2 between images
// scaled to [-1, 1]) and the pooled features of the fixed classifier trained on the real training
// set (classifier.ts), which ignores small shifts and contrast changes that keep a copy a copy.
// - closer-to-train share: per synthetic image, is its nearest training image nearer than its
//   nearest held-out image? Train and holdout differ in size, so an equal-size seeded random
//   subsample of the larger one is used and 0.5 is the no-memorization value; bootstrap 95 %
//   interval over the synthetic images. Only copies of images inside the subsample can show, so
//   even a generator that copies every time reaches only ~0.5 + 0.5·m/n (reported as `ceiling`).
// - authenticity (Alaa et al. 2022, "How faithful is your synthetic data?"): a synthetic image is
//   unauthentic when it is nearer its nearest training image than that image is to its own nearest
//   other training image (strictly: a copy of an image duplicated in train counts as authentic).
//   Fresh images score well above 0 too, so the same share for real held-out images is reported
//   beside it as the level of an honest sample.
// - black-box membership inference: rank the training subsample against the held-out images by
//   distance to their nearest synthetic image (nearer = "member"); ROC AUC in the Mann–Whitney form
//   (ties count half). 0.5: the synthetic set does not tell members apart; 1: it does perfectly.
// The headline `mia_auc` is the larger of the two spaces' AUCs: an attacker may pick either.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeAtomic } from '../util/atomic.js';
import { rng, shuffle } from '../util/random.js';
import { embed } from './classifier.js';
import { assertComparable, type ImageSet } from '../data/image_set.js';
import { matrixRows, nearest, pickRows, pixelRows, type Rows } from './neighbours.js';
import { registerMetric, type EvalContext } from './registry.js';

/** P(pos > neg) + ½·P(pos = neg) over all pairs: the ROC AUC of `pos` against `neg` (midranks). */
export function mannWhitneyAuc(pos: ArrayLike<number>, neg: ArrayLike<number>): number {
  const n1 = pos.length, n2 = neg.length;
  if (!n1 || !n2) throw new Error(`AUC needs scores on both sides, got ${n1} positive and ${n2} negative.`);
  const all = new Float64Array(n1 + n2);
  all.set(Array.from(pos));
  all.set(Array.from(neg), n1);
  if (!all.every(Number.isFinite)) throw new Error('AUC: every score must be a finite number.');
  const order = Int32Array.from(all.keys()).sort((a, b) => all[a] - all[b]);
  let rankSum = 0;
  for (let s = 0; s < order.length;) {
    let e = s;
    while (e + 1 < order.length && all[order[e + 1]] === all[order[s]]) e++;
    const mid = (s + e) / 2 + 1; // average 1-based rank of the tied run
    for (let k = s; k <= e; k++) if (order[k] < n1) rankSum += mid;
    s = e + 1;
  }
  return (rankSum - (n1 * (n1 + 1)) / 2) / (n1 * n2);
}

/** Standard deviation of the AUC of two exchangeable samples (no ties): the spread of "chance". */
export const aucNullSd = (n1: number, n2: number): number => Math.sqrt((n1 + n2 + 1) / (12 * n1 * n2));

/** Percentile bootstrap interval of the mean, resampling the values (seeded). */
export function bootstrapMeanCi(values: ArrayLike<number>, o: { reps?: number; seed?: number; level?: number } = {}): [number, number] {
  const n = values.length, reps = o.reps ?? 1000, level = o.level ?? 0.95;
  if (!n) throw new Error('Bootstrap: no values to resample.');
  if (!(Number.isInteger(reps) && reps >= 10)) throw new Error(`Bootstrap: reps must be an integer ≥ 10, got ${reps}.`);
  const rand = rng(o.seed ?? 0);
  const means = new Float64Array(reps);
  for (let r = 0; r < reps; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(rand() * n)];
    means[r] = s / n;
  }
  means.sort();
  const tail = (1 - level) / 2;
  return [means[Math.floor(tail * reps)], means[Math.ceil((1 - tail) * reps) - 1]];
}

export function median(xs: ArrayLike<number>): number {
  const s = Float64Array.from(xs).sort();
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** `m` of 0..n-1 as a 0/1 mask, seeded; all of them when m = n. */
function sampleMask(n: number, m: number, rand: () => number): Uint8Array {
  const mask = new Uint8Array(n);
  if (m >= n) return mask.fill(1);
  for (const i of shuffle(Array.from({ length: n }, (_, i) => i), rand).slice(0, m)) mask[i] = 1;
  return mask;
}

const ofMask = (mask: Uint8Array) => Int32Array.from(mask.keys()).filter((i) => mask[i]);

/** Which real images each statistic uses; shared by both spaces so they are comparable. */
export interface PrivacyPlan {
  trainMask: Uint8Array;
  testMask: Uint8Array;
  /** Held-out images whose own authenticity is the reference level. */
  reference: Int32Array;
  seed: number;
}

/** Held-out images measured for the authenticity reference: enough for ±1 %, bounded in cost. */
export const REFERENCE_IMAGES = 2000;

export function privacyPlan(train: number, test: number, seed: number): PrivacyPlan {
  const rand = rng((seed ^ 0x70726976) >>> 0);
  const m = Math.min(train, test);
  const reference = Int32Array.from(shuffle(Array.from({ length: test }, (_, i) => i), rand).slice(0, REFERENCE_IMAGES)).sort();
  return { trainMask: sampleMask(train, m, rand), testMask: sampleMask(test, m, rand), reference, seed };
}

export interface SpaceReport {
  closerToTrainShare: number;
  ci95: [number, number];
  /** Expected share if every synthetic image copied a training image (the subsample dilutes it). */
  ceiling: number;
  unauthenticShare: number;
  /** The same share for real held-out images: what an honest fresh sample scores. */
  unauthenticShareHoldout: number;
  medianNnTrain: number;
  medianNnTrainSubsample: number;
  medianNnHoldout: number;
  /** Median distance of real held-out images to their nearest training image, for scale. */
  medianNnHoldoutToTrain: number;
  mia_auc: number;
  miaAucNullSd: number;
  /** Synthetic images at distance exactly 0 from a training image (identical pixels, or features). */
  identicalToTrain: number;
}

type Progress = (stage: string, done: number, total: number) => void;

/** Every statistic of one space; also the nearest training image of each synthetic one. */
export function analyseSpace(syn: Rows, train: Rows, test: Rows, plan: PrivacyPlan, progress: Progress = () => {}): { report: SpaceReport; nnTrain: { dist: Float64Array; index: Int32Array } } {
  if (train.count < 2) throw new Error(`Privacy: ${train.name} has ${train.count} image(s); authenticity needs at least 2 training images.`);
  if (plan.trainMask.length !== train.count || plan.testMask.length !== test.count) throw new Error('Privacy: the plan was made for sets of other sizes.');
  const testSubsampled = plan.testMask.some((v) => !v);
  const toTrain = nearest(syn, train, { mask: plan.trainMask, columns: true, onProgress: (d, t) => progress('synthetic → train', d, t) });
  const toTest = nearest(syn, test, { mask: testSubsampled ? plan.testMask : undefined, columns: true, onProgress: (d, t) => progress('synthetic → holdout', d, t) });
  const refRows = pickRows(test, plan.reference);
  const refToTrain = nearest(refRows, train, { onProgress: (d, t) => progress('holdout → train', d, t) });
  // Each training image that is someone's nearest neighbour, and its own nearest other training image.
  const hubs = Int32Array.from(new Set([...toTrain.index, ...refToTrain.index])).sort();
  const hubNn = nearest(pickRows(train, hubs), train, { exclude: hubs, onProgress: (d, t) => progress('train → train', d, t) });
  const own = new Map<number, number>();
  hubs.forEach((h, i) => own.set(h, hubNn.dist[i]));
  const unauthentic = (n: { dist: Float64Array; index: Int32Array }) => n.dist.reduce((s, d, i) => s + (d < own.get(n.index[i])! ? 1 : 0), 0) / n.dist.length;

  const dSub = toTrain.masked!.dist, dTest = testSubsampled ? toTest.masked!.dist : toTest.dist;
  const closer = Float64Array.from(dSub, (a, i) => (a < dTest[i] ? 1 : a === dTest[i] ? 0.5 : 0));
  const trainSub = ofMask(plan.trainMask), testSub = ofMask(plan.testMask);
  // Nearer to the synthetic set = more likely a member, so the score is the negated distance.
  const members = Float64Array.from(trainSub, (j) => -toTrain.columns!.dist[j]);
  const others = Float64Array.from(testSub, (j) => -toTest.columns!.dist[j]);
  const report: SpaceReport = {
    closerToTrainShare: closer.reduce((a, b) => a + b, 0) / closer.length,
    ci95: bootstrapMeanCi(closer, { seed: plan.seed + 1 }),
    ceiling: 0.5 + (0.5 * trainSub.length) / train.count,
    unauthenticShare: unauthentic(toTrain),
    unauthenticShareHoldout: unauthentic(refToTrain),
    medianNnTrain: median(toTrain.dist),
    medianNnTrainSubsample: median(dSub),
    medianNnHoldout: median(toTest.dist),
    medianNnHoldoutToTrain: median(refToTrain.dist),
    mia_auc: mannWhitneyAuc(members, others),
    miaAucNullSd: aucNullSd(members.length, others.length),
    identicalToTrain: toTrain.dist.reduce((s, d) => s + (d === 0 ? 1 : 0), 0),
  };
  return { report, nnTrain: { dist: toTrain.dist, index: toTrain.index } };
}

export const GALLERY = { pairs: 16, columns: 4, gap: 2, margin: 8, header: 20, minWidth: 360, minSide: 64 };

export interface GalleryPair { synthetic: number; train: number; distance: number }

/** The closest pairs, closest first, one per training image so a copied image shows once. */
export function closestPairs(nn: { dist: Float64Array; index: Int32Array }, count = GALLERY.pairs): GalleryPair[] {
  const order = Int32Array.from(nn.dist.keys()).sort((a, b) => nn.dist[a] - nn.dist[b] || a - b);
  const seen = new Set<number>(), out: GalleryPair[] = [];
  for (const i of order) {
    if (out.length >= count) break;
    if (seen.has(nn.index[i])) continue;
    seen.add(nn.index[i]);
    out.push({ synthetic: i, train: nn.index[i], distance: nn.dist[i] });
  }
  return out;
}

/** Pixel size of the gallery of `pairs` images of side `size`. */
export function galleryLayout(size: number, pairs: number) {
  const scale = Math.max(1, Math.ceil(GALLERY.minSide / size)), cell = size * scale;
  const cols = Math.min(GALLERY.columns, pairs), rows = Math.ceil(pairs / cols);
  const pairWidth = 2 * cell + GALLERY.gap;
  const width = Math.max(GALLERY.minWidth, cols * pairWidth + (cols + 1) * GALLERY.margin);
  const height = GALLERY.header + rows * cell + (rows + 1) * GALLERY.margin;
  return { scale, cell, cols, rows, pairWidth, width, height };
}

/** A PNG of each synthetic image (left) beside its nearest training image (right), upscaled. */
export async function writeGallery(file: string, syn: ImageSet, train: ImageSet, pairs: GalleryPair[]): Promise<{ width: number; height: number }> {
  if (!pairs.length) throw new Error('Privacy gallery: no pairs to show.');
  assertComparable(train, syn);
  const { size, channels: ch } = syn;
  const L = galleryLayout(size, pairs.length);
  const out = new Uint8Array(L.width * L.height * 3).fill(255);
  const a = syn.read(pairs.map((p) => p.synthetic)), b = train.read(pairs.map((p) => p.train));
  const px = size * size * ch;
  const paint = (src: Uint8Array, k: number, x0: number, y0: number) => {
    for (let y = 0; y < L.cell; y++) {
      for (let x = 0; x < L.cell; x++) {
        const s = k * px + (Math.floor(y / L.scale) * size + Math.floor(x / L.scale)) * ch;
        const o = ((y0 + y) * L.width + x0 + x) * 3;
        for (let c = 0; c < 3; c++) out[o + c] = src[s + (ch === 3 ? c : 0)];
      }
    }
  };
  pairs.forEach((_, k) => {
    const x0 = GALLERY.margin + (k % L.cols) * (L.pairWidth + GALLERY.margin);
    const y0 = GALLERY.header + GALLERY.margin + Math.floor(k / L.cols) * (L.cell + GALLERY.margin);
    paint(a, k, x0, y0);
    paint(b, k, x0 + L.cell + GALLERY.gap, y0);
  });
  const caption = `<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${GALLERY.header}"><text x="${GALLERY.margin}" y="14" font-family="sans-serif" font-size="11">left: synthetic · right: nearest training image · closest first</text></svg>`;
  // Composited in a first pass: compositing adds an alpha channel that the PNG does not need.
  const { data, info } = await sharp(Buffer.from(out), { raw: { width: L.width, height: L.height, channels: 3 } })
    .composite([{ input: Buffer.from(caption), top: 0, left: 0 }]).raw().toBuffer({ resolveWithObject: true });
  writeAtomic(file, await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }).removeAlpha().png().toBuffer());
  return { width: L.width, height: L.height };
}

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

function interpretation(pixel: SpaceReport, feature: SpaceReport | null, auc: number, n: { m: number; train: number }): string {
  const spaces = feature ? [['pixel', pixel], ['feature', feature]] as const : [['pixel', pixel]] as const;
  const flagged = spaces.filter(([, r]) => r.ci95[0] > 0.5 || r.mia_auc > 0.5 + 3 * r.miaAucNullSd);
  const against = n.m < n.train ? `a seeded random ${n.m} of the ${n.train} training images` : `the ${n.train} training images`;
  const lines = [
    flagged.length
      ? `Signs of memorization in ${flagged.map(([s]) => s).join(' and ')} space: look at privacy_gallery.png for near copies of training images.`
      : 'No sign of memorization: synthetic images are no closer to the training images than to held-out ones.',
    `Membership inference AUC ${auc.toFixed(3)} (0.5: an attacker holding the synthetic set cannot tell training images from held-out ones; 1: it always can; chance spread ±${pixel.miaAucNullSd.toFixed(3)}).`,
    ...spaces.map(([s, r]) => `${s}: ${pct(r.closerToTrainShare)} [${pct(r.ci95[0])}, ${pct(r.ci95[1])}] of synthetic images are closer to ${against} than to as many held-out ones (50 % if nothing is memorized, about ${pct(r.ceiling)} if everything were copied); ${pct(r.unauthenticShare)} are unauthentic vs ${pct(r.unauthenticShareHoldout)} of real held-out images.`),
  ];
  if (pixel.identicalToTrain) lines.push(`${pixel.identicalToTrain} synthetic image(s) are pixel-identical to a training image.`);
  return lines.join(' ');
}

/** Why the feature space cannot be measured, or null when it can. */
function featureSkip(ctx: EvalContext): string | null {
  if (!ctx.train.labels) return 'the real training images are unlabelled, so there is no domain classifier to take features from';
  if (new Set(ctx.train.labels).size < 2) return 'the real training images hold fewer than 2 classes, so there is no domain classifier to take features from';
  return null;
}

export async function runPrivacy(ctx: EvalContext): Promise<Record<string, unknown>> {
  const { train, test, synthetic: syn } = ctx;
  for (const [what, s, min] of [['synthetic', syn, 1], ['real training', train, 2], ['real held-out', test, 1]] as const) {
    if (s.count < min) throw new Error(`Privacy: the ${what} set ${s.name} has ${s.count} image(s) but needs at least ${min}; generate or prepare more images.`);
  }
  assertComparable(train, syn);
  assertComparable(test, syn);
  const plan = privacyPlan(train.count, test.count, ctx.seed);
  const stage = (space: string): Progress => (s, d, t) => ctx.progress(`privacy (${space}): ${s}`, d, t);
  const pixel = analyseSpace(pixelRows(syn), pixelRows(train), pixelRows(test), plan, stage('pixel'));
  const skip = featureSkip(ctx);
  let feature: SpaceReport | null = null;
  if (!skip) {
    const c = ctx.realClassifier();
    const sets = [syn, train, test];
    const rows = sets.map((s, i) => {
      ctx.progress('privacy (feature): embedding', i, sets.length);
      const e = embed(c, s);
      return matrixRows(s.name, e.data, e.dims);
    });
    feature = analyseSpace(rows[0], rows[1], rows[2], plan, stage('feature')).report;
  }
  const miaSpace = feature && feature.mia_auc > pixel.report.mia_auc ? 'feature' : 'pixel';
  const mia = miaSpace === 'feature' ? feature!.mia_auc : pixel.report.mia_auc;
  mkdirSync(ctx.outDir, { recursive: true });
  const pairs = closestPairs(pixel.nnTrain);
  await writeGallery(join(ctx.outDir, 'privacy_gallery.png'), syn, train, pairs);
  const m = plan.trainMask.reduce((a, b) => a + b, 0);
  return {
    mia_auc: mia,
    mia_auc_space: miaSpace,
    mia_auc_note: 'the larger of the pixel and feature AUCs: an attacker may use either space',
    pixel: pixel.report,
    feature,
    ...(skip ? { featureSkipped: skip } : {}),
    units: {
      pixel: 'L2 distance between images with pixels scaled to [-1, 1]',
      feature: 'L2 distance between pooled features of the fixed classifier trained on the real training images',
    },
    subsample: {
      train: m, trainCount: train.count, holdout: m, holdoutCount: test.count, seed: ctx.seed,
      note: 'closer-to-train share and membership inference compare equal-size seeded random subsamples of train and holdout, so 0.5 is the no-memorization value',
    },
    authenticityReferenceImages: plan.reference.length,
    gallery: 'privacy_gallery.png',
    galleryPairs: pairs,
    interpretation: interpretation(pixel.report, feature, mia, { m, train: train.count }),
  };
}

registerMetric({
  name: 'privacy',
  description: 'memorization: nearest-neighbour distances of synthetic images to training vs held-out images, authenticity, and a membership-inference attack (pixel and classifier-feature space)',
  run: runPrivacy,
});
