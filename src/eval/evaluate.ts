// One report: open the sets, build the shared context, run each chosen metric, write report.json.
// Library, CLI and demo all call `evaluate`.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeAtomic } from '../data/cache.js';
import { trainClassifier, type Classifier, type ClassifierOptions } from './classifier.js';
import { assertComparable } from './image_set.js';
import { getMetric, metricNames, type EvalContext } from './registry.js';
import { openReal, openSynthetic, runSplits, type Opened } from './sources.js';

export interface EvaluateOptions {
  /** Real training images; default: the synthetic run's train split. */
  real?: string;
  /** Real held-out images; default: the synthetic run's holdout. */
  realTest?: string;
  synthetic: string;
  out: string;
  metrics?: string[];
  /** Synthetic images to generate when `synthetic` is a generator. */
  count?: number;
  seed?: number;
  classifier?: ClassifierOptions;
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

export async function evaluate(o: EvaluateOptions): Promise<Report> {
  const names = o.metrics ?? metricNames();
  names.forEach(getMetric);
  const seed = o.seed ?? 0;
  const progress = (stage: string, done: number, total: number) => o.onProgress?.(stage, done, total);
  const opened: Opened<unknown>[] = [];
  let classifier = null as Classifier | null;
  try {
    const syn = await openSynthetic(o.synthetic, { count: o.count ?? 10000, seed, onProgress: (d, t) => progress('generate', d, t) });
    opened.push(syn);
    const { set: synthetic, runDir } = syn.value;
    let train, test;
    if (o.real && o.realTest) {
      const shape = { size: synthetic.size, channels: synthetic.channels };
      const a = await openReal(o.real, shape, 'real train');
      opened.push(a);
      const b = await openReal(o.realTest, shape, 'real test');
      opened.push(b);
      [train, test] = [a.value, b.value];
    } else if (runDir && !o.real && !o.realTest) {
      const s = await runSplits(runDir);
      opened.push(s);
      ({ train, test } = s.value);
    } else {
      throw new Error('Give both --real and --real-test, or neither with --synthetic naming a run dir (its train split and holdout are used).');
    }
    assertComparable(train, synthetic);
    assertComparable(test, synthetic);
    const ctx: EvalContext = {
      train, test, synthetic, seed, outDir: resolve(o.out),
      realClassifier() {
        classifier ??= trainClassifier(train, { seed: seed + 1, ...o.classifier, onProgress: (e) => progress(`classifier (real) epoch ${e.epoch}/${e.epochs}`, e.done, e.total) });
        return classifier;
      },
      progress,
    };
    mkdirSync(ctx.outDir, { recursive: true });
    const report: Report = {
      created: new Date().toISOString(),
      sets: Object.fromEntries(Object.entries({ train, test, synthetic }).map(([k, s]) => [k, { name: s.name, count: s.count }])),
      skipped: {}, seconds: {},
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
      report[name] = await m.run(ctx);
      report.seconds[name] = (performance.now() - t0) / 1000;
    }
    writeAtomic(join(ctx.outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    return report;
  } finally {
    classifier?.dispose();
    for (const x of opened.reverse()) x.close();
  }
}
