// A run's generator from its newest checkpoint, for runs whose final export is missing (stopped
// runs, older runs) or to export an earlier checkpoint's weights elsewhere.
import { join, resolve } from 'node:path';
import { loadCheckpoint } from '../train/checkpoint.js';
import { openTrainData } from '../train/data.js';
import { EmaGenerator } from '../train/ema.js';
import { resumeConfig } from '../train/loop.js';
import { generatorMeta, runSetup } from '../train/setup.js';
import { saveGenerator } from './generator.js';

/** Rebuilds the run's networks, loads the newest checkpoint and saves the (EMA) generator. */
export async function exportRun(runDir: string, outDir = join(runDir, 'generator')): Promise<string> {
  const cfg = resumeConfig(runDir);
  const ck = loadCheckpoint(runDir);
  if (!ck) throw new Error(`${resolve(runDir)} has no checkpoint to export (latest.json missing): train it first.`);
  const data = await openTrainData(cfg);
  try {
    const { family, conditional, ctx } = runSetup(cfg, data);
    const model = family.build(ctx);
    const ema = cfg.ema ? new EmaGenerator(model.buildGenerator(), model.generator, cfg.ema.decay) : null;
    try {
      await ck.restore({ nets: model.nets, optimizers: {}, ema: ema?.model ?? null, pool: null });
      return await saveGenerator(outDir, ema?.model ?? model.generator, generatorMeta(cfg, data, conditional, ck.state.step, family));
    } finally {
      ema?.dispose();
      model.dispose();
    }
  } finally {
    data.close();
  }
}
