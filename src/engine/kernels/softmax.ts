// Softmax and ArgMax over the last axis. `cpu`'s Softmax runs its own max/sub/exp/sum/div (none of
// our overrides) and its ArgMax transposes first: 1.4 s and 0.1 s of a 2.1 s labelmap step, on
// [32, 64, 64, 13]. Softmax goes to oneDNN; ArgMax is a flat loop (int32 out, no math to offload).
import { util, type TensorInfo } from '@tensorflow/tfjs-core';
import { allF32, size, type NativeArgs, type Override } from './common.js';

function softmax({ inputs: { logits }, attrs, backend, addon }: NativeArgs) {
  const last = logits.shape.length - 1;
  const dim = (attrs.dim as number) < 0 ? last + 1 + (attrs.dim as number) : (attrs.dim as number);
  if (!allF32(logits) || dim !== last) return null;
  const k = logits.shape[last];
  const y = backend.alloc(size(logits.shape));
  addon.softmax(backend.values(logits), size(logits.shape) / k, k, y);
  return backend.output(logits.shape, y);
}

function argMax({ inputs: { x }, attrs, backend }: NativeArgs): TensorInfo | null {
  const last = x.shape.length - 1;
  const axes = util.parseAxisParam(attrs.axis as number | number[], x.shape);
  if (!allF32(x) || axes.length !== 1 || axes[0] !== last) return null;
  const v = backend.values(x), k = x.shape[last], rows = v.length / k;
  const out = new Int32Array(rows);
  for (let r = 0, at = 0; r < rows; r++, at += k) {
    // First maximum wins, as in tfjs (and NaN never wins, as with its `>` comparison).
    let best = 0, bv = v[at];
    for (let j = 1; j < k; j++) {
      if (v[at + j] > bv) {
        best = j;
        bv = v[at + j];
      }
    }
    out[r] = best;
  }
  return backend.output(x.shape.slice(0, last), out, 'int32');
}

export const softmaxOverrides: Override[] = [
  { kernelName: 'Softmax', native: softmax },
  { kernelName: 'ArgMax', native: argMax },
];
