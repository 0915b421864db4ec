// Gradients tfjs-core leaves out for kernels that only appear inside a gradient. A gradient penalty
// (WGAN-GP) differentiates a critic's input gradient again, and its backward pass runs these:
//  - AvgPoolGrad: mean-pool downsampling in a critic (its input gradient is AvgPoolGrad);
//  - Conv2DBackpropFilter: the weight gradient of a convolution, reached at third order or when a
//    penalty is taken with respect to weights. Conv2DBackpropInput already has one in tfjs-core.
// Both kernels are linear in their gradient input, so their gradients are the forward ops again.
// Gradients belong to kernel names, not backends: one registration covers `cpu` and `onednn`.
import {
  engine, registerGradient, zerosLike,
  type AvgPoolGradAttrs, type Conv2DBackpropFilterAttrs, type NamedAttrMap, type Tensor,
} from '@tensorflow/tfjs-core';

registerGradient({
  kernelName: 'AvgPoolGrad',
  inputsToSave: ['input'],
  gradFunc: (ddx, saved, attrs) => {
    const [input] = saved;
    const { filterSize, strides, pad } = attrs as unknown as AvgPoolGradAttrs;
    // AvgPoolGrad is the transpose of AvgPool (exactly so for 'valid' windows, the only kind whose
    // divisor tfjs's AvgPoolGrad gets right), so its adjoint is AvgPool itself; it ignores the
    // values of `input`, which only gives the output shape.
    return {
      dy: () => engine().runKernel('AvgPool', { x: ddx as Tensor }, { filterSize, strides, pad } as unknown as NamedAttrMap) as Tensor,
      input: () => zerosLike(input),
    };
  },
});

registerGradient({
  kernelName: 'Conv2DBackpropFilter',
  inputsToSave: ['x', 'dy'],
  gradFunc: (ddw, saved, attrs) => {
    const [x, dy] = saved;
    const { strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as Conv2DBackpropFilterAttrs;
    // dW = sum over positions of x-patch (outer) dy, bilinear in (x, dy): with ddW as the filter,
    // the x side is a transposed convolution of dy and the dy side a convolution of x.
    return {
      x: () => engine().runKernel('Conv2DBackpropInput', { dy, filter: ddw as Tensor },
        { strides, pad, dataFormat, dimRoundingMode, inputShape: x.shape } as unknown as NamedAttrMap) as Tensor,
      dy: () => engine().runKernel('Conv2D', { x, filter: ddw as Tensor },
        { strides, pad, dataFormat, dilations: 1, dimRoundingMode } as unknown as NamedAttrMap) as Tensor,
    };
  },
});
