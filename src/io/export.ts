// A run's generator from its newest checkpoint, for runs whose final export is missing (stopped
// runs, older runs), for bundles, or to export an earlier checkpoint's weights elsewhere. What it
// needs of the data comes from <run>/data.json; only runs older than that file open the data.
import { join, resolve } from 'node:path';
import { loadCheckpoint } from '../run/checkpoint.js';
import { openTrainData, summarizeData } from '../run/data.js';
import { resumeConfig } from '../run/config.js';
import { generatorMeta, runSetup } from '../run/setup.js';
import { readDataSummary, type DataSummary } from '../run/data_summary.js';
import type { TrainConfig } from '../run/config.js';
import { saveGenerator } from '../run/generator.js';

/** The run's data summary; for runs made before data.json, from the training data itself. */
export async function runDataSummary(runDir: string, cfg: TrainConfig = resumeConfig(runDir)): Promise<DataSummary> {
  const saved = readDataSummary(runDir);
  if (saved) return saved;
  let data;
  try {
    data = await openTrainData(cfg);
  } catch (err) {
    throw new Error(`${resolve(runDir)} has no data.json (a run from an older synthset) and its training data cannot be opened (${(err as Error).message}): make ${cfg.data} available once and export again.`);
  }
  try {
    return summarizeData(cfg, data);
  } finally {
    data.close();
  }
}

/** Rebuilds the run's networks, loads the newest checkpoint and saves the (EMA) generator. */
export async function exportRun(runDir: string, outDir = join(runDir, 'generator')): Promise<string> {
  const cfg = resumeConfig(runDir);
  const ck = loadCheckpoint(runDir);
  if (!ck) throw new Error(`${resolve(runDir)} has no checkpoint to export (latest.json missing): train it first.`);
  const data = await runDataSummary(runDir, cfg);
  const { family, conditional, ctx } = runSetup(cfg, data);
  const model = family.build(ctx);
  // A second G of the same architecture receives the checkpoint's EMA weights (train/ema.ts keeps
  // them up to date; here they are only read).
  const ema = cfg.ema ? model.buildGenerator() : null;
  try {
    await ck.restore({ nets: model.nets, optimizers: {}, ema, pool: null });
    return await saveGenerator(outDir, ema ?? model.generator, generatorMeta(cfg, data, conditional, ck.state.step, family));
  } finally {
    ema?.dispose();
    model.dispose();
  }
}
