// Training-mode batch normalisation as one kernel with one gradient kernel. The composite form
// (moments + batchNorm, differentiated op by op) costs a dozen kernels forward and more backward.
// Statistics are per channel (last axis); the mean/variance outputs carry no gradient, as they
// only feed moving averages. Not twice differentiable: keep it out of critics with gradient penalty.
import { util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import { kernel } from '../kernels/common.js';
import type { OneDnnBackend } from '../backend.js';
import type { NativeAddon } from '../native.js';
import { BN_TRAIN, BN_GRAD } from './batch_norm_op.js';
export { BN_TRAIN, BN_GRAD, batchNormTrain, type BatchNormResult } from './batch_norm_op.js';

type Vals = (t: TensorInfo) => Float32Array;

function jsForward(x: Float32Array, g: Float32Array, b: Float32Array, ch: number, eps: number) {
  const rows = x.length / ch;
  const mean = new Float64Array(ch), sq = new Float64Array(ch);
  for (let r = 0; r < rows; r++) for (let c = 0; c < ch; c++) mean[c] += x[r * ch + c];
  for (let c = 0; c < ch; c++) mean[c] /= rows;
  for (let r = 0; r < rows; r++) for (let c = 0; c < ch; c++) sq[c] += (x[r * ch + c] - mean[c]) ** 2;
  const variance = Float32Array.from(sq, (s) => s / rows);
  const y = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < ch; c++) {
      const i = r * ch + c;
      y[i] = (g[c] * (x[i] - mean[c])) / Math.sqrt(variance[c] + eps) + b[c];
    }
  }
  return [y, Float32Array.from(mean), variance];
}

function jsBackward(x: Float32Array, dy: Float32Array, mean: Float32Array, variance: Float32Array, g: Float32Array,
  ch: number, eps: number) {
  const rows = x.length / ch;
  const dg = new Float64Array(ch), db = new Float64Array(ch);
  const rstd = Float64Array.from(variance, (v) => 1 / Math.sqrt(v + eps));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < ch; c++) {
      const i = r * ch + c;
      db[c] += dy[i];
      dg[c] += dy[i] * (x[i] - mean[c]) * rstd[c];
    }
  }
  const dx = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < ch; c++) {
      const i = r * ch + c;
      const xhat = (x[i] - mean[c]) * rstd[c];
      dx[i] = g[c] * rstd[c] * (dy[i] - db[c] / rows - (xhat * dg[c]) / rows);
    }
  }
  return [dx, Float32Array.from(dg), Float32Array.from(db)];
}

function check(x: TensorInfo, ...params: TensorInfo[]): number {
  const ch = x.shape[x.shape.length - 1];
  util.assert(x.dtype === 'float32' && x.shape.length >= 2, () => `${BN_TRAIN}: x must be float32 of rank >= 2`);
  for (const p of params) util.assert(util.sizeFromShape(p.shape) === ch, () => `${BN_TRAIN}: parameters must have ${ch} values`);
  return ch;
}

function kernels(backendName: string, native: NativeAddon | null): KernelConfig[] {
  const wrap = (b: OneDnnBackend, shape: number[], v: Float32Array) => ({ dataId: b.write(v, shape, 'float32'), shape, dtype: 'float32' as const });
  return [
    kernel(BN_TRAIN, backendName, ({ inputs: { x, scale, offset }, attrs, backend }) => {
        const b = backend;
        const v: Vals = (t) => b.data.get(t.dataId)!.values as Float32Array;
        const ch = check(x, scale, offset);
        const eps = attrs.eps as number;
        if (!native) return jsForward(v(x), v(scale), v(offset), ch, eps).map((a, i) => wrap(b, i ? [ch] : x.shape, a));
        const y = b.alloc(v(x).length), mean = b.alloc(ch), variance = b.alloc(ch);
        native.batchNormForward(v(x), v(scale), v(offset), v(x).length / ch, ch, eps, y, mean, variance);
        return [b.output(x.shape, y), b.output([ch], mean), b.output([ch], variance)];
    }),
    kernel(BN_GRAD, backendName, ({ inputs: { x, dy, mean, variance, scale }, attrs, backend }) => {
        const b = backend;
        const v: Vals = (t) => b.data.get(t.dataId)!.values as Float32Array;
        const ch = check(x, scale, mean, variance);
        const eps = attrs.eps as number;
        if (!native) return jsBackward(v(x), v(dy), v(mean), v(variance), v(scale), ch, eps).map((a, i) => wrap(b, i ? [ch] : x.shape, a));
        const dx = b.alloc(v(x).length), dscale = b.alloc(ch), dshift = b.alloc(ch);
        native.batchNormBackward(v(x), v(dy), v(mean), v(variance), v(scale), v(x).length / ch, ch, eps, dx, dscale, dshift);
        return [b.output(x.shape, dx), b.output([ch], dscale), b.output([ch], dshift)];
    }),
  ];
}

/** The kernels for the `onednn` backend (native) or for `cpu` (reference loops). */
export const batchNormKernels = kernels;
