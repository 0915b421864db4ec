// LeakyReLU's (and ReLU's, alpha 0) gradient as one kernel. tfjs differentiates them as Greater +
// Multiply + Select (Step + Cast + Multiply) over whole activations, the largest tensors of a GAN. The gradient kernel has its own gradient
// (the same mask applied to the incoming gradient), so gradient penalties (WGAN-GP) still work.
import { engine, getBackend, getKernel, registerGradient, where, greater, mul, zerosLike, type Tensor } from '@tensorflow/tfjs-core';
import { kernel } from '../kernels/common.js';
import type { NativeAddon } from '../native.js';

export const LEAKY_GRAD = 'SynthsetLeakyReluGrad';

export function leakyReluGrad(dy: Tensor, x: Tensor, alpha: number): Tensor {
  if (getKernel(LEAKY_GRAD, getBackend()) && dy.dtype === 'float32' && x.dtype === 'float32') {
    return engine().runKernel(LEAKY_GRAD, { dy, x }, { alpha }) as Tensor;
  }
  return where(greater(x, 0), dy, mul(dy, alpha));
}

registerGradient({
  kernelName: 'LeakyRelu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    return { x: () => leakyReluGrad(dy as Tensor, x, (attrs as { alpha: number }).alpha) };
  },
});

registerGradient({
  kernelName: 'Relu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => ({ x: () => leakyReluGrad(dy as Tensor, saved[0], 0) }),
});

registerGradient({
  kernelName: LEAKY_GRAD,
  inputsToSave: ['x'],
  gradFunc: (ddx, saved, attrs) => {
    const [x] = saved;
    return { dy: () => leakyReluGrad(ddx as Tensor, x, (attrs as { alpha: number }).alpha), x: () => zerosLike(x) };
  },
});

export function leakyReluGradKernel(backendName: string, native: NativeAddon | null) {
  return kernel(LEAKY_GRAD, backendName, ({ inputs: { dy, x }, attrs, backend: b }) => {
    const dv = b.data.get(dy.dataId)!.values as Float32Array, xv = b.data.get(x.dataId)!.values as Float32Array;
    const alpha = attrs.alpha;
    let out: Float32Array;
    if (native) native.leakyReluGrad(dv, xv, (out = b.alloc(dv.length)), alpha);
    else out = Float32Array.from(dv, (d, i) => d * (xv[i] > 0 ? 1 : alpha));
    return { dataId: b.write(out, dy.shape, 'float32'), shape: dy.shape, dtype: 'float32' };
  });
}
