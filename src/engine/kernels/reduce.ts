// Sum / Mean / Max / Min over one contiguous block of axes, without the transpose `cpu` does first.
import { backend_util, util } from '@tensorflow/tfjs-core';
import { allF32, size, type NativeArgs, type Override } from './common.js';

const OPS: Record<string, [number, string]> = { Sum: [0, 'axis'], Mean: [1, 'axis'], Max: [2, 'reductionIndices'], Min: [3, 'axis'] };

function reduce(name: string, { inputs: { x }, attrs, backend, addon }: NativeArgs) {
  const [op, axisAttr] = OPS[name];
  if (!allF32(x)) return null;
  const axes = util.parseAxisParam(attrs[axisAttr] as number | number[], x.shape).sort((p, q) => p - q);
  if (axes.length === 0 || axes.some((ax, i) => i > 0 && ax !== axes[i - 1] + 1)) return null;
  const first = axes[0], last = axes[axes.length - 1];
  const outer = size(x.shape.slice(0, first));
  const r = size(x.shape.slice(first, last + 1));
  const inner = size(x.shape.slice(last + 1));
  let [outShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
  if (attrs.keepDims) outShape = backend_util.expandShapeToKeepDim(outShape, axes);
  const out = backend.alloc(outer * inner);
  addon.reduce(op, backend.values(x), outer, r, inner, out);
  return backend.output(outShape, out);
}

export const reduceOverrides: Override[] = Object.keys(OPS).map((name) => ({
  kernelName: name,
  native: (args: NativeArgs) => reduce(name, args),
}));
