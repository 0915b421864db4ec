// How a run's config and data become a family model: shared by the loop and by exporting a run's
// generator after the fact, so both rebuild exactly the networks the checkpoint was written from.
import { getFamily, type FamilyContext, type GanFamily } from '../models/index.js';
import { perClassFamily } from '../models/per_class.js';
import type { GeneratorMeta } from './generator.js';
import type { TrainConfig } from './config.js';
import type { DataSummary } from './data_summary.js';
import { mixSeed } from '../util/random.js';
import { SEED } from './seed.js';

export interface RunSetup { family: GanFamily; conditional: boolean; ctx: FamilyContext }

/** What the setup needs of the data: the saved summary, or an open TrainData's equivalent fields. */
export type SetupData = Pick<DataSummary, 'classes' | 'present' | 'channels' | 'labelled' | 'labelClasses'>;

export function runSetup(cfg: TrainConfig, data: SetupData): RunSetup {
  const base = getFamily(cfg.family);
  const dataClasses = data.labelled && data.present.length >= 2 ? data.classes.length : 0;
  if (cfg.perClass && !dataClasses) {
    throw new Error(`--per-class trains one model per class and needs an ImageFolder with at least 2 classes of training images; ${cfg.data} has ${data.labelled ? data.present.length : 'no'} class${data.present.length === 1 ? '' : 'es'}.`);
  }
  // Per class: one unconditional model per present class, joined into one conditional generator.
  const family = cfg.perClass ? perClassFamily(base, data.present) : base;
  const conditional = typeof family.conditional === 'function' ? family.conditional(cfg.options, dataClasses) : family.conditional;
  const ctx: FamilyContext = {
    size: cfg.size, channels: data.channels, numClasses: conditional ? data.classes.length : 0, zDim: cfg.zDim,
    options: cfg.options, seed: mixSeed(cfg.seed, SEED.init),
    ...(data.labelClasses ? { labelClasses: data.labelClasses } : {}),
  };
  return { family, conditional, ctx };
}

export function generatorMeta(cfg: TrainConfig, data: SetupData, conditional: boolean, step: number, family: GanFamily): GeneratorMeta {
  const k = data.labelClasses;
  // A translator of label-map data takes the map as K one-hot channels; a z family on it draws maps.
  const input: GeneratorMeta['input'] = family.translate
    ? k ? { kind: 'labelmap', size: cfg.size, classes: k, channels: data.channels, directions: family.translate.directions }
      : { kind: 'image', size: cfg.size, channels: data.channels, directions: family.translate.directions }
    : { kind: 'latent', zDim: cfg.zDim, conditional, classes: conditional ? data.classes.length : 0 };
  return {
    format: 'synthset-generator', version: 1, family: cfg.family, size: cfg.size, channels: data.channels, zDim: cfg.zDim,
    classes: data.classes, conditional, present: conditional ? data.present : [], step, input,
    ...(k && !family.translate ? { output: { kind: 'labelmap' as const, classes: k } } : {}),
  };
}
