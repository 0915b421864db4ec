// One report: open the sets, build the shared context, run each chosen metric, write report.json.
// Library, CLI and demo all call `evaluate`.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeAtomic } from '../util/atomic.js';
import { trainClassifier, type Classifier, type ClassifierOptions } from './classifier.js';
import { alignClasses, assertComparable, type ImageSet } from '../data/image_set.js';
import { disposeInception, type FeatureOptions } from './features.js';
import { reportHtml } from './report_html.js';
import { getMetric, metricNames, type EvalContext } from './registry.js';
import { isLabelledFolder, isRun, openLabelledFolder, openReal, openSynthetic, runSegSplits, runSplits, type Opened, type SyntheticSource } from './sources.js';
import { isTranslatorRun, openI2iRun } from './i2i_sources.js';
import type { SegmenterOptions } from './seg_tstr.js';
import { classifierFilter } from './filter.js';
import { classNames } from './agreement.js';

export interface EvaluateOptions {
  /** Real training images; default: the synthetic run's train split. */
  real?: string;
  /** Real held-out images; default: the synthetic run's holdout. */
  realTest?: string;
  /** An image-to-image run's test images of domain B when `realTest` holds domain A's (unpaired runs). */
  realTestB?: string;
  synthetic: string;
  out: string;
  metrics?: string[];
  /** Synthetic images to generate when `synthetic` is a generator. */
  count?: number;
  seed?: number;
  /** Repetitions of seeded metrics (TSTR/TRTR) for mean ± std. */
  seeds?: number;
  /** Synthetic images TSTR's classifier trains on, from a generator (default: as many as the real training set). */
  tstrImages?: number;
  /** Also TSTR on the synthetic images the real-data classifier assigns to their class with p ≥ this (default 0.7; 0: off). */
  tstrFilter?: number;
  /**
   * Evaluate the selected set instead of the raw one: the `count` synthetic images the real-data
   * classifier gives their class with p ≥ this (filter.ts), so every metric, privacy included,
   * describes the set a user would release after that selection.
   */
  filter?: number;
  classifier?: ClassifierOptions;
  /** The segmentation TSTR net's steps, batch, width (seg_tstr.ts). */
  segmenter?: SegmenterOptions;
  features?: FeatureOptions;
  onProgress?: (stage: string, done: number, total: number) => void;
  onNote?: (message: string) => void;
}

export interface Report {
  created: string;
  sets: Record<string, { name: string; count: number }>;
  skipped: Record<string, string>;
  seconds: Record<string, number>;
  [metric: string]: unknown;
}

type Sources = {
  synthetic: ImageSet; train: ImageSet; test: ImageSet; runDir: string | null; sample: SyntheticSource['sample'];
  /** Context only some metrics read: labelled photos (seg-tstr), held-out pairs (paired), domains (domain-tstr). */
  extra: Pick<EvalContext, 'segmentation' | 'pairs' | 'domains'>;
};

/** The synthetic set and the real train/test sets for `o`, each opened source pushed to `opened` for closing. */
async function openSources(o: EvaluateOptions, seed: number, progress: (stage: string, done: number, total: number) => void, opened: Opened<unknown>[]): Promise<Sources> {
  const keep = <T>(x: Opened<T>) => (opened.push(x), x.value);
  const dir = resolve(o.synthetic);
  if (isLabelledFolder(dir)) {
    // Labelled photos: the real side is the label-map run's own pairs (its holdout is the test).
    if (!o.real || o.realTest) throw new Error(`${o.synthetic} is a labelled folder (images/, masks/): give the pix2pix run that made its photos (trained on the real label maps) as --real, and no --real-test (its holdout is the test set).`);
    const seg = await openLabelledFolder(o.synthetic);
    const real = keep(await runSegSplits(o.real));
    return { synthetic: seg.images, train: real.train.images, test: real.test.images, runDir: null, sample: null, extra: { segmentation: { synthetic: seg, ...real } } };
  }
  if (isRun(dir) && !o.real && await isTranslatorRun(dir)) {
    const i2i = keep(await openI2iRun(dir, o.realTest ? { a: o.realTest, b: o.realTestB } : undefined));
    return { synthetic: i2i.synthetic, train: i2i.train, test: i2i.test, runDir: dir, sample: null, extra: { pairs: i2i.pairs, domains: i2i.domains } };
  }
  if (o.realTestB) throw new Error('--real-test-b gives the B-domain test images of an image-to-image run (with --real-test for domain A); use it only with --synthetic naming a pix2pix or cyclegan run.');
  const syn = keep(await openSynthetic(o.synthetic, { count: o.count ?? 10000, seed, onProgress: (d, t) => progress('generate', d, t) }));
  if (o.real && o.realTest) {
    const shape = { size: syn.set.size, channels: syn.set.channels };
    const train = keep(await openReal(o.real, shape, 'real train')), test = keep(await openReal(o.realTest, shape, 'real test'));
    // A folder of synthetic images lists its classes by folder name; a generator, and the builtins, in label order.
    const synthetic = syn.sample || syn.set.classes.join('\n') === train.classes.join('\n') ? syn.set : alignClasses(syn.set, train.classes) ?? syn.set;
    return { synthetic, train, test, runDir: syn.runDir, sample: syn.sample, extra: {} };
  }
  if (syn.runDir && !o.real && !o.realTest) {
    const { train, test } = keep(await runSplits(syn.runDir));
    return { synthetic: syn.set, train, test, runDir: syn.runDir, sample: syn.sample, extra: {} };
  }
  throw new Error('Give both --real and --real-test, or neither with --synthetic naming a run dir (its train split and holdout are used).');
}

export async function evaluate(o: EvaluateOptions): Promise<Report> {
  const names = o.metrics ?? metricNames();
  names.forEach(getMetric);
  const seed = o.seed ?? 0;
  const progress = (stage: string, done: number, total: number) => o.onProgress?.(stage, done, total);
  const opened: Opened<unknown>[] = [];
  let classifier = null as Classifier | null;
  try {
    const sources = await openSources(o, seed, progress, opened);
    const { train, test, runDir, extra } = sources;
    let { synthetic, sample } = sources;
    assertComparable(train, synthetic);
    assertComparable(test, synthetic);
    const realClassifier = () => {
      classifier ??= trainClassifier(train, { seed: seed + 1, ...o.classifier, onProgress: (e) => progress("classifier on real train", e.done, e.total) });
      return classifier;
    };
    let selection: Record<string, unknown> | null = null;
    if (o.filter) {
      const draw = (n: number) => (sample ? sample(n, (d, t) => progress('generate (for the filter)', d, t)) : synthetic);
      const f = classifierFilter(realClassifier(), draw, { threshold: o.filter, want: synthetic.count });
      selection = { threshold: o.filter, kept: f.set.count, candidates: f.candidates, keptPerClass: classNames(train.classes, f.keptPerClass) };
      o.onNote?.(`filter: kept ${f.set.count} of ${f.candidates} generated images (the real-data classifier gives their class p ≥ ${o.filter}); every metric below scores the kept set`);
      // The metrics see the kept set only: no fresh draws from the generator past it.
      synthetic = f.set;
      sample = null;
    }
    const ctx: EvalContext = {
      train, test, synthetic, seed, outDir: resolve(o.out),
      realClassifier,
      ...(sample ? { syntheticSample: (n: number) => sample!(n, (d, t) => progress('generate (for tstr)', d, t)) } : {}),
      progress,
      options: { seeds: o.seeds ?? 1, classifier: o.classifier, tstrImages: o.tstrImages, tstrFilter: selection ? 0 : o.tstrFilter, segmenter: o.segmenter },
      features: o.features,
      ...extra,
    };
    mkdirSync(ctx.outDir, { recursive: true });
    const report: Report = {
      created: new Date().toISOString(),
      sets: Object.fromEntries(Object.entries({ train, test, synthetic }).map(([k, s]) => [k, { name: s.name, count: s.count }])),
      skipped: {}, seconds: {},
      ...(selection ? { filter: selection } : {}),
    };
    for (const name of names) {
      const m = getMetric(name);
      const why = m.applies?.(ctx) ?? null;
      if (why) {
        report.skipped[name] = why;
        o.onNote?.(`${name} skipped: ${why}`);
        continue;
      }
      const t0 = performance.now();
      const result = await m.run(ctx);
      report[name] = result;
      for (const k of m.topLevel ?? []) report[k] = result[k];
      report.seconds[name] = (performance.now() - t0) / 1000;
    }
    writeAtomic(join(ctx.outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeAtomic(join(ctx.outDir, 'report.html'), await reportHtml(report, ctx.outDir, runDir));
    return report;
  } finally {
    classifier?.dispose();
    await disposeInception();
    for (const x of opened.reverse()) x.close();
  }
}

function trainedOn(t: unknown): string {
  const o = t as { synthetic?: number; real?: number } | undefined;
  return o?.synthetic && o.real ? ` (classifiers trained on ${o.synthetic} synthetic / ${o.real} real images)` : '';
}

/** The figures a person reads first, one line each (CLI and demo). */
export function headlines(report: Report): string[] {
  const o = (k: string) => (report[k] && typeof report[k] === 'object' ? (report[k] as Record<string, unknown>) : null);
  const p = (v: unknown) => (typeof v === 'number' ? `${(100 * v).toFixed(1)}%` : 'n/a');
  const n = (v: unknown, d = 3) => (typeof v === 'number' ? v.toPrecision(d) : 'n/a');
  const lines: string[] = [];
  const sel = o('filter');
  if (sel) lines.push(`filtered set: ${sel.kept} of ${sel.candidates} generated images the real-data classifier gives their class with p ≥ ${sel.threshold} (every figure below is of these)`);
  const tstr = o('tstr');
  // Over several seeds: mean ± std (percentage points) and how many runs.
  const acc = (m: Record<string, unknown> | undefined) => {
    const runs = m?.runs as number[] | undefined;
    return runs && runs.length > 1 ? `${p(m!.accuracy)} ± ${(100 * (m!.std as number)).toFixed(1)}` : p(m?.accuracy);
  };
  const seeds = (tstr?.runs as number[] | undefined)?.length ?? 1;
  if (tstr) lines.push(`TSTR ${acc(tstr)} vs TRTR ${acc(tstr.trtr as Record<string, unknown>)} (ratio ${n(tstr.ratio)}) on ${tstr.testImages} real held-out images${trainedOn(tstr.trainImages)}${seeds > 1 ? `, ${seeds} seeds` : ''}`);
  const f = tstr?.filtered as Record<string, unknown> | undefined;
  if (f?.skipped) lines.push(`TSTR on filtered synthetic: skipped (${f.skipped})`);
  else if (f) lines.push(`TSTR on filtered synthetic ${acc(f)} (ratio ${n(f.ratio)}): ${f.trainImages} of ${f.candidates} generated images the real-data classifier gives their class with p ≥ ${f.threshold}`);
  const ag = o('agreement');
  if (ag) lines.push(`classifier agreement ${p(ag.agreement)} (the classifier's accuracy on real held-out images: ${p(ag.realTestAccuracy)})`);
  const ssim = o('ssim');
  if (ssim) lines.push(`mean SSIM to real images of the same class ${n(ssim.mean)}`);
  for (const k of ['kid', 'fd']) {
    const m = o(k);
    if (m) lines.push(Object.entries(m).filter(([, v]) => typeof v === 'number' || (v && typeof v === 'object' && 'mean' in (v as object))).map(([name, v]) => `${name} ${n(typeof v === 'number' ? v : (v as { mean: number }).mean, 4)}`).join(', '));
  }
  const seg = o('seg-tstr');
  if (seg) lines.push(`segmentation: mean IoU ${p(seg.miou)} trained on synthetic vs ${p((seg.trtr as Record<string, unknown>).miou)} on real (ratio ${n(seg.ratio)}) on ${seg.testImages} real held-out photos`);
  const pd = o('paired');
  if (pd) {
    const f = (x: unknown) => {
      const v = x as { l1: number; psnr: number; ssim: number } | null;
      return v ? `L1 ${n(v.l1)}, PSNR ${n(v.psnr)} dB, SSIM ${n(v.ssim)}` : 'n/a';
    };
    lines.push(`paired, ${pd.count} held-out pairs: output ${f(pd.output)}; the input itself ${f(pd.identity)}; the mean training target ${f(pd.meanTarget)}`);
  }
  const dt = o('domain-tstr');
  if (dt) lines.push(`domain TSTR (real A vs translated B, tested on real A vs real B) ${p(dt.tstr)} vs TRTR ${p(dt.trtr)} (ratio ${n(dt.ratio)}) on ${dt.testCount} real held-out images`);
  const pr = o('privacy');
  if (pr) lines.push(`membership-inference AUC ${n(pr.mia_auc)} (0.5: training images cannot be told from held-out ones)`);
  return lines.filter(Boolean);
}
