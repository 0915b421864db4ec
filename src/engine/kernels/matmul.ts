// BatchMatMul and _FusedMatMul (dense layers). Batch dims must match or one side must be a
// single matrix; other broadcasts fall back to `cpu`.
import { backend_util, type TensorInfo } from '@tensorflow/tfjs-core';
import { ACT } from '../native.js';

const MULTIPLY = 2; // the Binary enum in native/src/eltwise.cc
import { allF32, size, type NativeArgs, type Override } from './common.js';

function matmul({ inputs, attrs, backend, addon }: NativeArgs, fused: boolean): TensorInfo | null {
  const { a, b, bias, preluActivationWeights } = inputs;
  if (!allF32(a, b, bias) || preluActivationWeights || a.shape.length < 2 || b.shape.length < 2) return null;
  const act = fused ? ((attrs.activation as string) ?? 'linear') : 'linear';
  if (!(act in ACT)) return null;
  const ta = !!attrs.transposeA, tb = !!attrs.transposeB;
  const ra = a.shape.length, rb = b.shape.length;
  const m = ta ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = ta ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = tb ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = tb ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) return null;
  const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
  const ba = size(outerA), bb = size(outerB);
  const same = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
  if (!same && ba !== 1 && bb !== 1) return null;
  const outer = backend_util.assertAndGetBroadcastShape(outerA, outerB);
  if (bias && size(bias.shape) !== n) return null;
  const outShape = [...outer, m, n];
  if (k === 1 && ba === 1 && bb === 1 && !bias && act === 'linear') {
    // An outer product (the input gradient of a 1-unit dense layer): a broadcast multiply, which
    // oneDNN's matmul runs ~10x slower. With K = 1 the transposes do not change the memory order.
    const c = backend.alloc(m * n);
    addon.binary(MULTIPLY, backend.values(a), [m, 1], backend.values(b), [1, n], c, [m, n]);
    return backend.output(outShape, c);
  }
  const c = backend.alloc(size(outShape));
  addon.matmul(backend.values(a), backend.values(b), c, [ba, bb, m, k, n, +ta, +tb],
    bias ? backend.values(bias) : null, ACT[act as keyof typeof ACT], (attrs.leakyreluAlpha as number) ?? 0.2);
  return backend.output(outShape, c);
}

export const matmulOverrides: Override[] = [
  { kernelName: 'BatchMatMul', native: (a) => matmul(a, false) },
  { kernelName: '_FusedMatMul', native: (a) => matmul(a, true) },
];
