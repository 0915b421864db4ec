// Slice, SplitV, Reverse and PadV2 as block copies. `cpu` runs them element by element through
// TensorBuffer index arithmetic (~30 ms to split a 4x38x38x8 concat gradient): in a CycleGAN step,
// whose reflection padding is slice + reverse + concat and whose gradient is splits, they took
// 1.9 of 2.3 s. Here every call is a loop over the outer indices copying the longest contiguous
// run at once (TypedArray.set, a memcpy), so the cost is the bytes moved. Pure data movement: no
// oneDNN primitive is worth its setup for it.
import { backend_util, util, type TensorInfo } from '@tensorflow/tfjs-core';
import { allF32, size, type NativeArgs, type Override } from './common.js';

/** Row-major strides of `shape`. */
function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/**
 * Copies the box `begin + [0, extent)` of `src` (shape `shape`) into `dst` at `dstBegin` of a
 * tensor of shape `dstShape`. Trailing axes the box covers whole, in source and destination,
 * are folded into one contiguous run.
 */
export function copyBox(src: Float32Array, shape: number[], begin: number[], extent: number[],
  dst: Float32Array, dstShape: number[], dstBegin: number[]): void {
  const r = shape.length;
  if (extent.some((e) => e === 0)) return;
  let k = r - 1;
  while (k > 0 && extent[k] === shape[k] && extent[k] === dstShape[k]) k--;
  const ss = strides(shape), ds = strides(dstShape);
  const run = extent[k] * ss[k];
  const idx = new Array<number>(k).fill(0);
  for (;;) {
    let so = begin[k] * ss[k], dof = dstBegin[k] * ds[k];
    for (let a = 0; a < k; a++) {
      so += (begin[a] + idx[a]) * ss[a];
      dof += (dstBegin[a] + idx[a]) * ds[a];
    }
    dst.set(src.subarray(so, so + run), dof);
    let a = k - 1;
    while (a >= 0 && ++idx[a] === extent[a]) idx[a--] = 0;
    if (a < 0) return;
  }
}

function slice({ inputs: { x }, attrs, backend }: NativeArgs): TensorInfo | null {
  if (!allF32(x) || x.shape.length === 0) return null;
  const [begin, sz] = sliceArgs(x, attrs);
  const out = backend.alloc(size(sz));
  copyBox(backend.values(x), x.shape, begin, sz, out, sz, sz.map(() => 0));
  return backend.output(sz, out);
}

function sliceArgs(x: TensorInfo, attrs: NativeArgs['attrs']): [number[], number[]] {
  const [begin, sz] = backend_util.slice_util.parseSliceParams(x, attrs.begin as number[], attrs.size as number[]);
  backend_util.slice_util.assertParamsValid(x, begin, sz);
  return [begin, sz];
}

function splitV({ inputs: { x }, attrs, backend }: NativeArgs): TensorInfo[] | null {
  if (!allF32(x) || x.shape.length === 0) return null;
  const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0];
  const sizes = backend_util.prepareSplitSize(x, attrs.numOrSizeSplits as number[] | number, axis);
  const src = backend.values(x);
  const begin = x.shape.map(() => 0);
  return sizes.map((s) => {
    const sz = [...x.shape];
    sz[axis] = s;
    const out = backend.alloc(size(sz));
    copyBox(src, x.shape, begin, sz, out, sz, sz.map(() => 0));
    begin[axis] += s;
    return backend.output(sz, out);
  });
}

/** Reverse along `dims`: outer loops over every axis up to the last reversed one, whole runs after it. */
function reverse({ inputs: { x }, attrs, backend }: NativeArgs): TensorInfo | null {
  if (!allF32(x)) return null;
  const shape = x.shape, r = shape.length;
  const dims = r === 0 ? [] : util.parseAxisParam(attrs.dims as number[], shape);
  if (dims.length === 0) return null;
  const flip = shape.map((_, i) => dims.includes(i));
  const last = Math.max(...dims);
  const ss = strides(shape);
  const run = ss[last];
  const src = backend.values(x), out = backend.alloc(size(shape));
  const outer = size(shape.slice(0, last + 1));
  const idx = new Array<number>(last + 1).fill(0);
  for (let o = 0; o < outer; o++) {
    let so = 0;
    for (let a = 0; a <= last; a++) so += (flip[a] ? shape[a] - 1 - idx[a] : idx[a]) * ss[a];
    out.set(src.subarray(so, so + run), o * run);
    for (let a = last; a >= 0 && ++idx[a] === shape[a]; a--) idx[a] = 0;
  }
  return backend.output(shape, out);
}

function padV2({ inputs: { x }, attrs, backend }: NativeArgs): TensorInfo | null {
  if (!allF32(x) || x.shape.length === 0) return null;
  const pads = attrs.paddings as [number, number][];
  const shape = x.shape.map((d, i) => pads[i][0] + d + pads[i][1]);
  const out = backend.alloc(size(shape));
  // alloc may hand out a recycled buffer: the border is always written.
  out.fill((attrs.constantValue as number) ?? 0);
  copyBox(backend.values(x), x.shape, x.shape.map(() => 0), x.shape, out, shape, pads.map((p) => p[0]));
  return backend.output(shape, out);
}

export const copyOverrides: Override[] = [
  { kernelName: 'Slice', native: slice },
  { kernelName: 'SplitV', native: splitV },
  { kernelName: 'Reverse', native: reverse },
  { kernelName: 'PadV2', native: padV2 },
];
