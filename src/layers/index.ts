// Every custom layer, imported for its registration with tf.serialization: importing this module
// alone is enough for tf.loadLayersModel to rebuild any saved synthset network.
import './batch_norm.js';

export { SynthsetBatchNorm, synthsetBatchNorm, type SynthsetBatchNormArgs } from './batch_norm.js';
