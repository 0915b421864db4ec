// The synthset library: the same core the CLI and dashboard use, as five calls that mirror the
// CLI (train, evaluate, exportBundle, generate, loadBundle) plus the engine. Each call starts the
// default engine on first use unless initEngine() was called first.
import { initEngine as startEngine, type EngineInfo, type EngineOptions } from './engine/index.js';
import { evaluate as evaluateCore, type EvaluateOptions, type Report } from './eval/index.js';
import { exportBundle as exportCore, type ExportBundleResult } from './io/bundle.js';
import { loadBundle as loadCore, type Bundle, type GenerateFolderResult } from './io/generate.js';
import { generate as generateCore, type GenerateOptions } from './eval/generate_scored.js';
import { generateFiltered as generateFilteredCore, type FilteredGenerateOptions, type FilteredGenerateResult } from './eval/generate_filtered.js';
import { resolveConfig, type TrainConfig, type TrainConfigInput, resumeConfig } from './run/config.js';
import { train as trainCore, type TrainCallbacks, type TrainOptions, type TrainResult } from './train/loop.js';

export { loadNative, nativeStatus, batchNormTrain, FusedAdamOptimizer } from './engine/index.js';
export type { BackendName, EngineInfo, EngineOptions } from './engine/index.js';
export { runBench } from './engine/bench/run.js';
export type { BenchOptions, BenchReport } from './engine/bench/run.js';
export { headlines, metricNames, type EvaluateOptions, type Report } from './eval/index.js';
export { parseShard, type Shard } from './io/shard.js';
export type { BundleManifest, BundleInput, BundleFile } from './io/manifest.js';
export type { Bundle, GenerateFolderOptions, GenerateFolderResult, ManifestRow } from './io/generate.js';
export type { GenerateOptions } from './eval/generate_scored.js';
export type { FilteredGenerateOptions, FilteredGenerateResult } from './eval/generate_filtered.js';
export type { ExportBundleResult } from './io/bundle.js';
export type { TrainCallbacks, TrainOptions, TrainResult, TrainConfig, TrainConfigInput };

let engine: Promise<EngineInfo> | null = null;

/** Chooses the compute backend (default: onednn when the addon is built, else cpu). */
export function initEngine(opts: EngineOptions = {}): Promise<EngineInfo> {
  engine = startEngine(opts);
  return engine;
}
const ready = () => (engine ??= startEngine());

export interface TrainSettings extends TrainConfigInput {
  /** A --config file (JSON or YAML) under these settings. */
  configFile?: string;
  /** `key=value` assignments as with --set, applied last. */
  sets?: string[];
}

/**
 * Trains a new run in `settings.out` (same settings and precedence as `synthset train`), or with
 * `{ resume: true }` continues the run in `settings.out` up to `settings.steps`.
 */
export async function train(settings: TrainSettings | TrainConfig, callbacks: TrainCallbacks = {}, opts: TrainOptions = {}): Promise<TrainResult> {
  await ready();
  const { configFile, sets, ...flags } = settings as TrainSettings;
  let cfg: TrainConfig;
  if (opts.resume) {
    if (!flags.out) throw new Error('train({ out, steps }, {}, { resume: true }): which run? Give its folder as out.');
    cfg = resumeConfig(flags.out, flags.steps);
  } else {
    cfg = resolveConfig({ flags, file: configFile, sets });
  }
  return trainCore(cfg, callbacks, opts);
}

/** Scores a synthetic set (a run, a generator, a bundle's generator or a folder) and writes <out>/report.json. */
export async function evaluate(o: EvaluateOptions): Promise<Report> {
  await ready();
  return evaluateCore(o);
}

/** Writes the run's release bundle (generator, manifest.json, MODEL_CARD.md, index.html) into `out`. */
export async function exportBundle(run: string, out: string): Promise<ExportBundleResult> {
  await ready();
  return exportCore(run, out);
}

/**
 * Writes `<out>/<class>/<index>.png` with manifest.csv/jsonl from a bundle (folder or loaded); with
 * `scoreAgainst` (real images) each row also carries the image's mean SSIM to real images of its class.
 */
export async function generate(o: GenerateOptions): Promise<GenerateFolderResult> {
  await ready();
  return generateCore(o);
}

/**
 * A filtered release: `perClass` images of each class that a classifier trained on `real` gives their
 * own class with probability >= `threshold`; resumable (the classifier is saved in `out`).
 */
export async function generateFiltered(o: FilteredGenerateOptions): Promise<FilteredGenerateResult> {
  await ready();
  return generateFilteredCore(o);
}

/** Opens a bundle (model files checked against the manifest); call dispose() when done. */
export async function loadBundle(dir: string): Promise<Bundle> {
  await ready();
  return loadCore(dir);
}
