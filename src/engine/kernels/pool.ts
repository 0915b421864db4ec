// MaxPool / AvgPool (forward) and Concat: scalar JS loops in `cpu`, the bulk of an InceptionV3 pass.
import { backend_util, util } from '@tensorflow/tfjs-core';
import { allF32, attempt, size, type NativeArgs, type Override } from './common.js';

type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;

function pool({ inputs: { x }, attrs, backend, addon }: NativeArgs, avg: boolean) {
  if (!allF32(x) || x.shape.length !== 4) return null;
  const c = backend_util.computePool2DInfo(x.shape as [number, number, number, number], attrs.filterSize as [number, number],
    attrs.strides as [number, number], 1, attrs.pad as Pad, attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined);
  const p = c.padInfo;
  if (size(c.outShape) === 0 || [p.top, p.left, p.bottom, p.right].some((v) => v < 0)) return null;
  const y = backend.alloc(size(c.outShape));
  const ok = attempt(() => addon.pool2d([c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.outHeight, c.outWidth,
    c.filterHeight, c.filterWidth, c.strideHeight, c.strideWidth, p.top, p.left, p.bottom, p.right], avg, backend.values(x), y));
  return ok ? backend.output(c.outShape, y) : null;
}

// The gradient of non-overlapping average pooling (the k2 s2 downsampling of SN-GAN's residual
// blocks): each input pixel gets its window's gradient / window size. `cpu`'s general loop takes
// seconds per call at batch 64 (most of an sngan step); other geometries still go there.
function avgPoolGrad({ inputs: { dy, input }, attrs, backend }: NativeArgs) {
  if (!allF32(dy, input) || input.shape.length !== 4) return null;
  const c = backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize as [number, number],
    attrs.strides as [number, number], 1, attrs.pad as Pad, attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined);
  const p = c.padInfo;
  const kh = c.filterHeight, kw = c.filterWidth;
  if (c.strideHeight !== kh || c.strideWidth !== kw || p.top !== 0 || p.left !== 0
    || c.outHeight * kh > c.inHeight || c.outWidth * kw > c.inWidth || !util.arraysEqual(dy.shape, c.outShape)) return null;
  const g = backend.values(dy);
  const dx = backend.alloc(size(c.inShape));
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = c;
  const scale = 1 / (kh * kw);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const src = ((n * OH + oh) * OW + ow) * C;
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const dst = ((n * H + oh * kh + i) * W + ow * kw + j) * C;
            for (let ch = 0; ch < C; ch++) dx[dst + ch] = g[src + ch] * scale;
          }
        }
      }
    }
  }
  return backend.output(c.inShape, dx);
}

export const poolOverrides: Override[] = [
  { kernelName: 'MaxPool', native: (a) => pool(a, false) },
  { kernelName: 'AvgPool', native: (a) => pool(a, true) },
  { kernelName: 'AvgPoolGrad', native: avgPoolGrad },
  {
    kernelName: 'Concat',
    native: ({ inputs, attrs, backend, addon }) => {
      const xs = Object.values(inputs);
      if (xs.length < 2 || !allF32(...xs)) return null;
      const rank = xs[0].shape.length;
      const axis = util.parseAxisParam(attrs.axis as number, xs[0].shape)[0];
      backend_util.assertParamsConsistent(xs.map((t) => t.shape), axis);
      const outer = size(xs[0].shape.slice(0, axis));
      const inner = xs.map((t) => size(t.shape.slice(axis, rank)));
      const shape = backend_util.computeOutShape(xs.map((t) => t.shape), axis);
      const out = backend.alloc(size(shape));
      addon.concat(xs.map((t) => backend.values(t)), inner, outer, out);
      return backend.output(shape, out);
    },
  },
];
