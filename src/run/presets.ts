// Loop settings per family and resolution. Family hyper-parameters (learning rates, n_dis, loss,
// label smoothing, widths) are the family's own `defaults`; a preset only sets what the loop owns,
// plus family options where a resolution needs a different value than the family's default.
import type { TrainConfigInput } from './config.js';

type Size = 32 | 64 | 128 | 256;

/** Batch size by resolution: what fits the 2-core CPU at a useful speed. */
const BATCH: Record<Size, number> = { 32: 64, 64: 32, 128: 16, 256: 4 };

const BASE: Record<Size, TrainConfigInput> = {
  32: { batchSize: BATCH[32], sampleEvery: 500, checkpointEvery: 1000 },
  64: { batchSize: BATCH[64], sampleEvery: 250, checkpointEvery: 500 },
  128: { batchSize: BATCH[128], sampleEvery: 100, checkpointEvery: 250 },
  256: { batchSize: BATCH[256], sampleEvery: 100, checkpointEvery: 250 },
};

// Image-to-image on a 2-core CPU: the reference's networks (ngf = ndf = 64, batch 1) take weeks
// (its issue #914), so the default presets are narrower and batched to reach a plausible result in
// about an hour at 128 px; `reference` in REFERENCE below is the paper's setting. Both keep the
// reference's schedule (constant, then linear decay to 0 over the second half) and jitter.
const I2I_LOOP: TrainConfigInput = { lrDecay: 0.5, jitter: { scale: 286 / 256, flip: true }, ema: null, sampleCols: 4 };

/** Overrides per family on top of BASE (keys not listed keep the base value). */
const FAMILY: Record<string, Partial<Record<Size | 'all', TrainConfigInput>>> = {
  // Small-data GANs: DiffAugment and EMA help every family; the pool helps the saturating ones.
  dcgan: { all: { pool: { size: 50, p: 0.5 } } },
  cgan: { all: { pool: null } },
  sngan: { all: { pool: null } },
  'wgan-gp': { all: { pool: null } },
  pix2pix: {
    all: { ...I2I_LOOP, pool: null },
    32: { batchSize: 8, options: { ngf: 16, ndf: 16 } },
    64: { batchSize: 8, options: { ngf: 16, ndf: 16 } },
    128: { batchSize: 4, sampleEvery: 200, checkpointEvery: 500, options: { ngf: 32, ndf: 32 } },
    256: { batchSize: 2, sampleEvery: 200, checkpointEvery: 500, options: { ngf: 32, ndf: 32 } },
  },
  cyclegan: {
    all: { ...I2I_LOOP, pool: { size: 50, p: 0.5 } },
    32: { batchSize: 8, options: { ngf: 16, ndf: 16 } },
    64: { batchSize: 8, options: { ngf: 16, ndf: 16 } },
    128: { batchSize: 4, sampleEvery: 200, checkpointEvery: 500, options: { ngf: 16, ndf: 32 } },
    256: { batchSize: 1, sampleEvery: 200, checkpointEvery: 500, options: { ngf: 16, ndf: 32 } },
  },
};

/**
 * The reference's own settings (junyanz/pytorch-CycleGAN-and-pix2pix): batch 1, ngf = ndf = 64,
 * pools of 50 for CycleGAN, 286 -> 256 jitter, half-constant half-decaying LR. `--config` a file
 * with these, or `presetFor(family, size, 'reference')`.
 */
const REFERENCE: Record<string, TrainConfigInput> = {
  pix2pix: { ...I2I_LOOP, batchSize: 1, pool: null, options: { ngf: 64, ndf: 64 } },
  cyclegan: { ...I2I_LOOP, batchSize: 1, pool: { size: 50, p: 0.5 }, options: { ngf: 64, ndf: 64 } },
};

/**
 * `photos-small`: a few thousand real photos (issue notes and README "Recipes" hold the measurements
 * behind each value): DiffAugment with every op on everything D sees, LeCam on D, an EMA generator
 * and a linear LR decay over the second half; a wider net than `cpu` where the hour affords it.
 */
const PHOTOS_SMALL_LOOP: TrainConfigInput = {
  augment: { policy: ['color', 'translation', 'cutout'] },
  lecam: { weight: 0.3, decay: 0.99, start: 1000 },
  ema: { decay: 0.999, warmup: true },
  lrDecay: 0.5,
  pool: null,
};
const PHOTOS_SMALL: Record<string, Partial<Record<Size | 'all', TrainConfigInput>>> = {
  cgan: { all: { options: { width: 64 } }, 64: { options: { width: 32 } } },
  dcgan: { all: { options: { width: 64 } }, 64: { options: { width: 32 } } },
  sngan: { all: { options: { gWidth: 64, dWidth: 64 } } },
  'wgan-gp': { all: {} },
};

export type PresetName = 'cpu' | 'reference' | 'photos-small';
export const PRESET_NAMES: PresetName[] = ['cpu', 'reference', 'photos-small'];

export function preset(family: string, size: Size, name: PresetName = 'cpu'): TrainConfigInput {
  if (name === 'photos-small') {
    const f = PHOTOS_SMALL[family];
    if (!f) throw new Error(`Family ${family} has no photos-small preset (it is for the z families: ${Object.keys(PHOTOS_SMALL).join(', ')}).`);
    const all = f.all ?? {}, sized = f[size] ?? {};
    return { ...BASE[size], ...PHOTOS_SMALL_LOOP, ...all, ...sized, options: { ...(all.options ?? {}), ...(sized.options ?? {}) } };
  }
  if (name === 'reference') {
    const r = REFERENCE[family];
    if (!r) throw new Error(`Family ${family} has no reference preset (only ${Object.keys(REFERENCE).join(', ')} do).`);
    return { ...BASE[size], ...r };
  }
  const f = FAMILY[family] ?? {};
  const all = f.all ?? {}, sized = f[size] ?? {};
  return { ...BASE[size], ...all, ...sized, ...(all.options || sized.options ? { options: { ...(all.options ?? {}), ...(sized.options ?? {}) } } : {}) };
}
