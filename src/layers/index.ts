// Every custom layer, imported for its registration with tf.serialization: importing this module
// alone is enough for tf.loadLayersModel to rebuild any saved synthset network.
import './batch_norm.js';
import './spectral_norm.js';
import './conditional_batch_norm.js';
import './projection.js';
import './layer_norm.js';
import './conv2d.js';
import './label_planes.js';
import './reflection_pad.js';
import './instance_norm.js';
import './step_dropout.js';
import './label_softmax.js';
import './minibatch_std.js';
import './class_select.js';

export { SynthsetBatchNorm, synthsetBatchNorm, type SynthsetBatchNormArgs } from './batch_norm.js';
export { SynthsetConv2D, type SynthsetConv2DArgs } from './conv2d.js';
export { SynthsetLabelPlanes } from './label_planes.js';
export { ReflectionPad2D, type ReflectionPad2DArgs } from './reflection_pad.js';
export { InstanceNorm, type InstanceNormArgs } from './instance_norm.js';
export { StepDropout, type StepDropoutArgs } from './step_dropout.js';
export { LabelSoftmax, labelMapClasses, type LabelSoftmaxArgs } from './label_softmax.js';
export { MinibatchStd, type MinibatchStdArgs } from './minibatch_std.js';
export { ClassSelect, type ClassSelectArgs } from './class_select.js';
