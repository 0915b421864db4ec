// Backend selection. `auto` takes the native oneDNN backend when the addon is built and the
// pure-JS `cpu` backend otherwise; SYNTHSET_BACKEND or the option forces one. New backends
// (webgpu is the planned one) join by adding a provider.
import { setBackend, getBackend, ready, findBackend } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { quiet } from './backend.js';
import { loadNative, nativeStatus } from './native.js';
import { ONEDNN, registerCpuExtras, registerOnednn } from './register.js';

export type BackendName = 'auto' | 'onednn' | 'cpu';

interface Provider { name: Exclude<BackendName, 'auto'>; unavailable(): string | null; register(): void }

const PROVIDERS: Provider[] = [
  {
    name: 'onednn',
    unavailable: () => (loadNative() ? null : `native addon ${nativeStatus()}`),
    register: () => registerOnednn(loadNative()!),
  },
  { name: 'cpu', unavailable: () => null, register: () => {} },
];

export interface EngineInfo { backend: string; requested: BackendName; note: string; bf16: boolean }

export interface EngineOptions { backend?: BackendName; bf16?: boolean }

function requested(opt?: BackendName): BackendName {
  const env = process.env.SYNTHSET_BACKEND;
  const name = opt ?? (env as BackendName | undefined) ?? 'auto';
  if (!['auto', 'onednn', 'cpu'].includes(name)) {
    throw new Error(`Unknown backend "${name}" (from ${opt ? 'the backend option' : 'SYNTHSET_BACKEND'}): use auto, onednn or cpu.`);
  }
  return name;
}

/** Why bf16 convolutions cannot run natively here (null when they can). Without AVX512-BF16 oneDNN
 *  emulates bf16 many times slower than fp32, so we refuse rather than silently crawl. */
export function bf16Unsupported(): string | null {
  const native = loadNative();
  if (!native) return `the native addon is ${nativeStatus()}`;
  const info = native.info();
  if (info.bf16Supported) return null;
  const capped = process.env.ONEDNN_MAX_CPU_ISA ? ` (capped by ONEDNN_MAX_CPU_ISA=${process.env.ONEDNN_MAX_CPU_ISA})` : '';
  return `this CPU has no native bfloat16 (needs AVX512-BF16 or AMX; oneDNN runs at ISA ${info.isa}${capped})`;
}

/** Chooses and activates the compute backend. Safe to call more than once. */
export async function initEngine(opts: EngineOptions = {}): Promise<EngineInfo> {
  registerCpuExtras();
  quiet(findBackend('cpu') as MathBackendCPU);
  const want = requested(opts.backend);
  const candidates = want === 'auto' ? PROVIDERS : PROVIDERS.filter((p) => p.name === want);
  const notes: string[] = [];
  for (const p of candidates) {
    const why = p.unavailable();
    if (why) {
      if (want !== 'auto') throw new Error(`Backend "${want}" is not available: ${why}.`);
      notes.push(`${p.name}: ${why}`);
      continue;
    }
    p.register();
    if (!(await setBackend(p.name))) throw new Error(`Backend "${p.name}" failed to initialise.`);
    await ready();
    const bf16 = !!opts.bf16 && p.name === ONEDNN;
    if (p.name === ONEDNN) {
      const why = bf16 ? bf16Unsupported() : null;
      if (why) throw new Error(`--bf16 is not available here: ${why}. Run without --bf16 (fp32 is the default).`);
      loadNative()!.setBf16(bf16);
    }
    const note = notes.length ? `fell back (${notes.join('; ')})` : p.name === ONEDNN ? 'native oneDNN' : 'pure JS (slow)';
    return { backend: getBackend(), requested: want, note, bf16 };
  }
  throw new Error('No compute backend available.');
}

export { loadNative, nativeStatus } from './native.js';
export { batchNormTrain } from './ops/batch_norm.js';
export { FusedAdamOptimizer } from './ops/adam.js';
export { imagesFromBytes } from './ops/images.js';
export { stopGradient } from './ops/stop_gradient.js';
export { im2col, type PatchGeometry } from './ops/im2col.js';
