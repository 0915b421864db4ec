// Metrics register by name; `synthset eval` runs the chosen ones over one context and writes each
// result under its name in report.json. A metric reads the three image sets and the shared real-data
// classifier from the context, and returns plain JSON.
import type { Classifier, ClassifierOptions } from './classifier.js';
import type { FeatureOptions } from './features.js';
import type { ImageSet } from '../data/image_set.js';
import type { SegmenterOptions } from './seg_tstr.js';

export interface EvalContext {
  /** Real images the generator learned from (the run's train split, or the user's --real). */
  train: ImageSet;
  /** Real images it never saw (the run's holdout, or --real-test). */
  test: ImageSet;
  synthetic: ImageSet;
  /**
   * `n` synthetic images, the first `synthetic.count` of them `synthetic`'s, when the synthetic side
   * is a generator (absent for a folder of images: it has what it has).
   */
  syntheticSample?(n: number): ImageSet;
  seed: number;
  outDir: string;
  /** The fixed classifier trained on `train`, trained on first use and shared by every metric. */
  realClassifier(): Classifier;
  progress(stage: string, done: number, total: number): void;
  /** Report-wide settings metrics may read (e.g. TSTR repetitions). */
  options?: { seeds?: number; classifier?: ClassifierOptions; tstrImages?: number; tstrFilter?: number; segmenter?: SegmenterOptions };
  /** Feature-space sample sizes and batches (features.ts). */
  features?: FeatureOptions;
}

export interface Metric {
  name: string;
  description: string;
  /** Runs only when the sets allow it (e.g. labels); otherwise the reason it was skipped. */
  applies?(ctx: EvalContext): string | null;
  /** Keys of the result that report.json also carries at its top level (e.g. tstr's `trtr`). */
  topLevel?: string[];
  run(ctx: EvalContext): Promise<Record<string, unknown>>;
}

const metrics = new Map<string, Metric>();

export function registerMetric(m: Metric): void {
  if (metrics.has(m.name)) throw new Error(`Metric "${m.name}" is registered twice.`);
  metrics.set(m.name, m);
}

export function getMetric(name: string): Metric {
  const m = metrics.get(name);
  if (!m) throw new Error(`Unknown metric "${name}": use one of ${[...metrics.keys()].join(', ')}.`);
  return m;
}

export const metricNames = (): string[] => [...metrics.keys()];
