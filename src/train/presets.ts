// Loop settings per family and resolution. Family hyper-parameters (learning rates, n_dis, loss,
// label smoothing, widths) are the family's own `defaults`; a preset only sets what the loop owns,
// plus family options where a resolution needs a different value than the family's default.
import type { TrainConfigInput } from './config.js';

type Size = 32 | 64 | 128;

/** Batch size by resolution: what fits the 2-core CPU at a useful speed. */
const BATCH: Record<Size, number> = { 32: 64, 64: 32, 128: 16 };

const BASE: Record<Size, TrainConfigInput> = {
  32: { batchSize: BATCH[32], sampleEvery: 500, checkpointEvery: 1000 },
  64: { batchSize: BATCH[64], sampleEvery: 250, checkpointEvery: 500 },
  128: { batchSize: BATCH[128], sampleEvery: 100, checkpointEvery: 250 },
};

/** Overrides per family on top of BASE (keys not listed keep the base value). */
const FAMILY: Record<string, Partial<Record<Size | 'all', TrainConfigInput>>> = {
  // Small-data GANs: DiffAugment and EMA help every family; the pool helps the saturating ones.
  dcgan: { all: { pool: { size: 50, p: 0.5 } } },
  cgan: { all: { pool: null } },
  sngan: { all: { pool: null } },
  'wgan-gp': { all: { pool: null } },
};

export function preset(family: string, size: Size): TrainConfigInput {
  const f = FAMILY[family] ?? {};
  return { ...BASE[size], ...(f.all ?? {}), ...(f[size] ?? {}) };
}
