// Imports every GAN family so each registers itself; the loop and the faces import this module.
import './dcgan.js';
import './cgan.js';
import './sngan.js';
import './wgan_gp.js';

export { getFamily, familyNames, registerFamily, generatorInputs } from './family.js';
export type { GanFamily, GanModel, FamilyContext, StepContext, TrainBatch } from './family.js';
