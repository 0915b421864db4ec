// DCGAN (Radford et al. 2015), unconditional. Networks in dcgan_nets.ts, step in dcgan_common.ts.
import { registerFamily } from './family.js';
import { dcganFamily } from './dcgan_common.js';

export const dcgan = dcganFamily('dcgan',
  'DCGAN (Radford et al.): transposed-conv generator with batch-norm, LeakyReLU conv discriminator; bce by default.', false);

registerFamily(dcgan);
