// Conditional DCGAN (Mirza & Osindero's conditioning on DCGAN networks): G gets a one-hot label
// beside z, D gets it as constant extra input planes, so D judges image and class together.
import { registerFamily } from './family.js';
import { dcganFamily } from './dcgan_common.js';

export const cgan = dcganFamily('cgan',
  'Conditional DCGAN: one-hot label concatenated to z for G and broadcast as extra input planes for D; needs >= 2 classes.', true);

registerFamily(cgan);
