// Imports every GAN family so each registers itself; the loop and the faces import this module.
import './dcgan.js';
import './cgan.js';
import './sngan.js';
import './wgan_gp.js';
import './pix2pix.js';
import './cyclegan.js';
import './labelmap.js';

export { getFamily, familyNames, registerFamily, generatorInputs, dataKindOf } from './family.js';
export type { GanFamily, GanModel, FamilyContext, StepContext, TrainBatch, PrivateStep, DataKind, Direction, ImageSize } from './family.js';
