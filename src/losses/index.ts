// GAN losses by name, plus the gradient penalty. Adding a loss = one file calling registerLoss,
// imported here.
import './bce.js';
import './hinge.js';
import './wasserstein.js';
import './lsgan.js';

export { getLoss, lossNames, isLossName, registerLoss, type GanLoss, type GanLossOptions, type LossName } from './registry.js';
export { gradientPenalty } from './gradient_penalty.js';
