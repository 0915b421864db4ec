// Conv2D, FusedConv2D and their two gradients (Conv2DBackpropInput also serves conv2dTranspose).
// Only NHWC is handed to oneDNN; shapes oneDNN rejects fall back to `cpu`.
import { backend_util, type TensorInfo } from '@tensorflow/tfjs-core';
import { ACT } from '../native.js';
import { convChoiceMade } from '../conv_cache.js';
import { allF32, attempt, size, type NativeArgs, type Override } from './common.js';

type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

function info(inShape: number[], filterShape: number[], a: NativeArgs['attrs'], dilations: unknown = 1) {
  const fmt = backend_util.convertConv2DDataFormat((a.dataFormat as 'NHWC' | 'NCHW') ?? 'NHWC');
  if (fmt !== 'channelsLast') return null;
  return backend_util.computeConv2DInfo(inShape as [number, number, number, number],
    filterShape as [number, number, number, number], a.strides as [number, number], dilations as number,
    a.pad as Pad, a.dimRoundingMode as Rounding, false, fmt);
}

function shapeParams(c: backend_util.Conv2DInfo): Int32Array {
  const p = c.padInfo;
  return Int32Array.from([c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.outHeight, c.outWidth,
    c.outChannels, c.filterHeight, c.filterWidth, c.strideHeight, c.strideWidth, p.top, p.left, p.bottom, p.right,
    c.dilationHeight, c.dilationWidth]);
}

/** A shape timed for the first time: its choice goes to the on-disk cache (conv_cache.ts). */
const noted = (timed: boolean) => {
  if (timed) convChoiceMade();
};

function forward({ inputs, attrs, backend, addon }: NativeArgs, fused: boolean): TensorInfo | null {
  const { x, filter, bias, preluActivationWeights } = inputs;
  if (!allF32(x, filter, bias) || preluActivationWeights) return null;
  const act = fused ? ((attrs.activation as string) ?? 'linear') : 'linear';
  if (!(act in ACT)) return null;
  const c = info(x.shape, filter.shape, attrs, attrs.dilations);
  if (!c) return null;
  if (bias && size(bias.shape) !== c.outChannels) return null;
  const y = backend.alloc(size(c.outShape));
  const ok = attempt(() => noted(addon.conv2d(shapeParams(c), backend.values(x), backend.values(filter), y,
    bias ? backend.values(bias) : null, ACT[act as keyof typeof ACT], (attrs.leakyreluAlpha as number) ?? 0.2)));
  return ok ? backend.output(c.outShape, y) : null;
}

export const convOverrides: Override[] = [
  { kernelName: 'Conv2D', native: (a) => forward(a, false) },
  { kernelName: 'FusedConv2D', native: (a) => forward(a, true) },
  {
    kernelName: 'Conv2DBackpropInput',
    native: ({ inputs: { dy, filter }, attrs, backend, addon }) => {
      if (!allF32(dy, filter)) return null;
      const c = info(attrs.inputShape as number[], filter.shape, attrs);
      if (!c) return null;
      const dx = backend.alloc(size(c.inShape));
      const ok = attempt(() => noted(addon.conv2dBackpropInput(shapeParams(c), backend.values(dy), backend.values(filter), dx)));
      return ok ? backend.output(c.inShape, dx) : null;
    },
  },
  {
    kernelName: 'Conv2DBackpropFilter',
    native: ({ inputs: { x, dy }, attrs, backend, addon }) => {
      if (!allF32(x, dy)) return null;
      const c = info(x.shape, attrs.filterShape as number[], attrs);
      if (!c) return null;
      const dw = backend.alloc(size(c.filterShape));
      const ok = attempt(() => noted(addon.conv2dBackpropFilter(shapeParams(c), backend.values(x), backend.values(dy), dw)));
      return ok ? backend.output(c.filterShape, dw) : null;
    },
  },
];
