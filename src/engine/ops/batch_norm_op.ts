// Training-mode batch normalisation as one kernel with one gradient kernel (see batch_norm.ts for
// the kernels). This half imports only tfjs-core, so custom layers using it stay browser-safe: where
// no backend registered the fused kernel (a browser, the plain cpu backend) it runs plain tf ops.
import { engine, getBackend, getKernel, registerGradient, moments, batchNorm, type Tensor } from '@tensorflow/tfjs-core';

export const BN_TRAIN = 'SynthsetBatchNormTrain';
export const BN_GRAD = 'SynthsetBatchNormGrad';

export interface BatchNormResult { y: Tensor; mean: Tensor; variance: Tensor }

/** y = gamma * (x - mean) / sqrt(var + eps) + beta with batch statistics over all but the last axis. */
export function batchNormTrain(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-3): BatchNormResult {
  if (getKernel(BN_TRAIN, getBackend())) {
    const [y, mean, variance] = engine().runKernel(BN_TRAIN, { x, scale: gamma, offset: beta }, { eps }) as Tensor[];
    return { y, mean, variance };
  }
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const m = moments(x, axes);
  return { y: batchNorm(x, m.mean, m.variance, beta, gamma, eps), mean: m.mean, variance: m.variance };
}

registerGradient({
  kernelName: BN_TRAIN,
  inputsToSave: ['x', 'scale'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy] = dys as Tensor[];
    const [x, scale, mean, variance] = saved;
    // One backward kernel yields all three gradients; computed here, inside the backward scope.
    const [dx, dscale, dshift] = engine().runKernel(BN_GRAD, { x, dy, mean, variance, scale }, attrs) as Tensor[];
    return { x: () => dx, scale: () => dscale, offset: () => dshift };
  },
});

