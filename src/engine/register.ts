// Registers the `onednn` backend: every `cpu` kernel, with the hot ones replaced by native ones.
// Forwarded `cpu` kernels may return views of our pooled buffers, so their outputs are marked shared.
import {
  getKernelsForBackend, registerBackend, registerKernel, getKernel,
  type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
// The union package registers tfjs-core's gradients (and chained ops); tfjs-core alone has none.
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { OneDnnBackend } from './backend.js';
import type { NativeAddon } from './native.js';
import type { Override } from './kernels/common.js';
import { convOverrides } from './kernels/conv.js';
import { loadConvChoices } from './conv_cache.js';
import { matmulOverrides } from './kernels/matmul.js';
import { elementwiseOverrides } from './kernels/elementwise.js';
import { reduceOverrides } from './kernels/reduce.js';
import { poolOverrides } from './kernels/pool.js';
import { softmaxOverrides } from './kernels/softmax.js';
import { copyOverrides } from './kernels/copy.js';
import { batchNormKernels } from './ops/batch_norm.js';
import { adamKernel } from './ops/adam.js';
import { im2colKernel } from './ops/im2col.js';
import { leakyReluGradKernel } from './ops/leaky_relu.js';
// Gradients of gradient kernels (second order, for gradient penalties); registration is a side effect.
import './ops/conv_grads.js';

export const ONEDNN = 'onednn';

export const OVERRIDES: Override[] = [...convOverrides, ...matmulOverrides, ...elementwiseOverrides, ...reduceOverrides, ...poolOverrides, ...copyOverrides, ...softmaxOverrides];

// An output that is one of the inputs (Identity, Reshape) shares by refcount and needs no mark.
function shared(fn: KernelFunc): KernelFunc {
  return (args) => {
    const out = fn(args);
    const b = args.backend as OneDnnBackend;
    const ins = Object.values(args.inputs).map((t) => t?.dataId);
    for (const t of Array.isArray(out) ? out : [out]) if (!ins.includes(t.dataId)) b.markShared(t);
    return out;
  };
}

/** Per-kernel wall time of the onednn backend, collected while profiling is on (bench --profile). */
export const kernelProfile = new Map<string, { ms: number; calls: number }>();
let profiling = process.env.SYNTHSET_PROFILE === '1';

export function setKernelProfiling(on: boolean): void {
  profiling = on;
}

function timed(name: string, fn: KernelFunc): KernelFunc {
  return (args) => {
    if (!profiling) return fn(args);
    const t0 = performance.now();
    const out = fn(args);
    const p = kernelProfile.get(name) ?? { ms: 0, calls: 0 };
    p.ms += performance.now() - t0;
    p.calls++;
    kernelProfile.set(name, p);
    return out;
  };
}

let registered = false;

/** Our own kernels (batch-norm training, fused Adam) for the pure-JS `cpu` backend. */
export function registerCpuExtras(): void {
  if (getKernel(batchNormKernels('cpu', null)[0].kernelName, 'cpu')) return;
  for (const k of [...batchNormKernels('cpu', null), adamKernel('cpu', null), leakyReluGradKernel('cpu', null), im2colKernel('cpu', null)]) registerKernel(k);
}

export function registerOnednn(addon: NativeAddon, priority = 3): void {
  if (registered) return;
  registered = true;
  loadConvChoices(addon);
  registerBackend(ONEDNN, () => new OneDnnBackend(), priority);
  const native = new Map(OVERRIDES.map((o) => [o.kernelName, o.native]));
  const own = [...batchNormKernels(ONEDNN, addon), adamKernel(ONEDNN, addon), leakyReluGradKernel(ONEDNN, addon), im2colKernel(ONEDNN, addon)];
  const ownNames = new Set(own.map((k) => k.kernelName));
  for (const k of getKernelsForBackend('cpu')) {
    if (ownNames.has(k.kernelName)) continue;
    const cpuFn = shared(k.kernelFunc);
    const fast = native.get(k.kernelName);
    const kernelFunc: KernelFunc = fast
      ? (args) => fast({ ...args, backend: args.backend as OneDnnBackend, addon } as never) ?? cpuFn(args)
      : cpuFn;
    registerKernel({ ...k, backendName: ONEDNN, kernelFunc: timed(k.kernelName, kernelFunc) } as KernelConfig);
  }
  for (const k of own) registerKernel({ ...k, kernelFunc: timed(k.kernelName, k.kernelFunc) });
}

export type { TensorInfo };
