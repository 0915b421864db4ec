// Shared by the train tests: a tiny procedural dataset, tiny configs, and wrapper families that
// misbehave on purpose (a loss that turns NaN, a step that leaks a tensor).
import * as tf from '@tensorflow/tfjs';
import { makeImageFolder, tempDir } from '../data/test_images.js';
import { getFamily, registerFamily, type GanModel, type StepContext, type TrainBatch } from '../models/index.js';
import { validateConfig, type TrainConfig, type TrainConfigInput } from '../run/config.js';

/** A labelled folder of 2 classes x 8 solid-colour images, with its cache inside a temp dir. */
export async function tinyData(): Promise<{ dir: string; done: () => void }> {
  const t = tempDir('synthset-train-');
  await makeImageFolder(t.dir, ['a', 'b'], [8, 8]);
  return t;
}

/** Narrow dcgan at 32 px, batch 4: milliseconds per step. */
export const TINY_OPTIONS = { width: 4 };

export function tinyConfig(data: string, out: string, extra: TrainConfigInput = {}): TrainConfig {
  return validateConfig({
    data, out, family: 'dcgan', size: 32, steps: 4, batchSize: 4, zDim: 8, seed: 7,
    sampleEvery: 2, checkpointEvery: 2, tensorCheckEvery: 2, sampleCols: 4,
    ...extra, options: { ...TINY_OPTIONS, ...(extra.options ?? {}) },
  });
}

const lrOf = (o: tf.Optimizer) => (o as unknown as { learningRate: number }).learningRate;

function wrapDcgan(name: string, extra: Record<string, unknown>,
  after: (m: GanModel, values: Record<string, number>, ctx: StepContext, opts: Record<string, unknown>) => void): void {
  const base = getFamily('dcgan');
  registerFamily({
    name, description: `test family: dcgan that misbehaves (${name})`, conditional: false,
    defaults: { ...base.defaults, ...extra },
    build(ctx) {
      const own = Object.fromEntries(Object.entries(ctx.options).filter(([k]) => !(k in extra)));
      const m = base.build({ ...ctx, options: own });
      return {
        generator: m.generator, nets: m.nets, optimizers: m.optimizers, ndis: m.ndis,
        buildGenerator: () => m.buildGenerator(),
        dispose: () => m.dispose(),
        trainStep(batches: TrainBatch[], c: StepContext) {
          const v = m.trainStep(batches, c);
          after(m, v, c, ctx.options);
          return v;
        },
      };
    },
  });
}

let registered = false;
/** Registers `test-nan` (lossD NaN from step `nanFrom` while D's LR is above `nanAboveLr`), `test-lr` and `test-leak`. */
export function registerTestFamilies(): void {
  if (registered) return;
  registered = true;
  wrapDcgan('test-nan', { nanFrom: 3, nanAboveLr: 0 }, (m, v, c, o) => {
    if (c.step >= (o.nanFrom as number) && lrOf(m.optimizers.d) > (o.nanAboveLr as number)) v.lossD = NaN;
  });
  // Logs D's learning rate as the step saw it (after the loop's schedule applied it).
  wrapDcgan('test-lr', {}, (m, v) => {
    v.lrD = lrOf(m.optimizers.d);
  });
  wrapDcgan('test-leak', {}, () => {
    tf.scalar(1); // deliberately never disposed
  });
}
