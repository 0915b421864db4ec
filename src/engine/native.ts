// Loads the oneDNN addon. Absence is normal (no compiler, no libdnnl): callers fall back to the
// pure-JS `cpu` backend and `nativeStatus()` says why, so the message can tell users what to do.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export interface NativeAddon {
  /** `bf16Supported`: the CPU (as oneDNN sees it, ONEDNN_MAX_CPU_ISA included) has native bfloat16 (AVX512-BF16 or AMX);
   *  `bf16Enabled`: bf16 convolutions are switched on (`setBf16`). */
  info(): { onednn: string; threads: number; isa: string; bf16Supported: boolean; bf16Enabled: boolean };
  setBf16(on: boolean): void;
  stats(reset?: boolean): { convMs: number; convCalls: number; convFlops: number; matmulMs: number; matmulCalls: number;
    convTimed: number };
  /** The conv calls return true when they chose a new shape's implementation by timing. */
  conv2d(shape: Int32Array, x: Float32Array, w: Float32Array, y: Float32Array, bias: Float32Array | null,
    act: number, alpha: number): boolean;
  conv2dBackpropInput(shape: Int32Array, dy: Float32Array, w: Float32Array, dx: Float32Array): boolean;
  conv2dBackpropFilter(shape: Int32Array, x: Float32Array, dy: Float32Array, dw: Float32Array): boolean;
  convImpls(): Record<string, string>;
  /** Per shape key: [plain weights 0|1, candidate index, implementation name]. */
  convChoices(): Record<string, [number, number, string]>;
  /** Presets for shapes not set up yet; returns how many entries were taken. */
  setConvChoices(choices: Record<string, [number, number, string]>): number;
  /** Forgets set-up shapes and presets (tests). */
  convReset(): void;
  matmul(a: Float32Array, b: Float32Array, c: Float32Array, dims: number[], bias: Float32Array | null,
    act: number, alpha: number): void;
  unary(op: number, x: Float32Array, y: Float32Array, a: number, b: number): void;
  binary(op: number, a: Float32Array, aShape: number[], b: Float32Array, bShape: number[],
    out: Float32Array | Uint8Array, outShape: number[]): void;
  bytesToFloat(bytes: Uint8Array, out: Float32Array, scale: number, offset: number): void;
  leakyReluGrad(dy: Float32Array, x: Float32Array, out: Float32Array, alpha: number): void;
  select(cond: Uint8Array, t: Float32Array, e: Float32Array, out: Float32Array): void;
  addN(xs: Float32Array[], out: Float32Array): void;
  batchNormApply(x: Float32Array, mean: Float32Array, variance: Float32Array, offset: Float32Array | null,
    scale: Float32Array | null, eps: number, out: Float32Array): void;
  reduce(op: number, x: Float32Array, outer: number, r: number, inner: number, out: Float32Array): void;
  batchNormForward(x: Float32Array, scale: Float32Array, shift: Float32Array, rows: number, ch: number,
    eps: number, y: Float32Array, mean: Float32Array, variance: Float32Array): void;
  batchNormBackward(x: Float32Array, dy: Float32Array, mean: Float32Array, variance: Float32Array,
    scale: Float32Array, rows: number, ch: number, eps: number, dx: Float32Array, dscale: Float32Array,
    dshift: Float32Array): void;
  pool2d(shape: number[], avg: boolean, x: Float32Array, y: Float32Array): void;
  concat(xs: Float32Array[], inner: number[], outer: number, out: Float32Array): void;
  softmax(x: Float32Array, rows: number, classes: number, y: Float32Array): void;
  /** Absent from addons built before it existed (the JS loop then runs). */
  im2col?(shape: number[], x: Float32Array, out: Float32Array): void;
  adam(x: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, xo: Float32Array, mo: Float32Array,
    vo: Float32Array, lr: number, beta1: number, beta2: number, eps: number, c1: number, c2: number): void;
}

/** Activation codes understood by the addon's fused conv/matmul (native/src/common.h). */
export const ACT = { linear: 0, relu: 1, relu6: 2, elu: 3, leakyrelu: 4, sigmoid: 5, tanh: 6 } as const;

export const ADDON_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'native', 'build', 'Release',
  'synthset_onednn.node');

let cached: { addon: NativeAddon | null; reason: string } | undefined;

/**
 * libgomp (Debian's oneDNN uses GNU OpenMP) reads its settings once, when the addon first loads it.
 * By default a thread that reaches a barrier spins for ~300k iterations before sleeping; with another
 * busy process on the machine the spinning thread burns the core its partner needs, so each 2-thread
 * op waits for a descheduled thread and training slows 2-10x. Passive waiting sleeps at once (measured
 * by `npm run bench -- --busy`). A user's own OMP_WAIT_POLICY / GOMP_SPINCOUNT wins;
 * SYNTHSET_OMP_SPIN=1 keeps libgomp's default.
 */
export function ompDefaults(env: NodeJS.ProcessEnv = process.env): void {
  if (env.SYNTHSET_OMP_SPIN === '1' || env.OMP_WAIT_POLICY !== undefined || env.GOMP_SPINCOUNT !== undefined) return;
  env.OMP_WAIT_POLICY = 'passive';
}

export function loadNative(): NativeAddon | null {
  if (cached) return cached.addon;
  if (process.env.SYNTHSET_NATIVE === '0') {
    cached = { addon: null, reason: 'disabled by SYNTHSET_NATIVE=0' };
  } else if (!existsSync(ADDON_PATH)) {
    cached = { addon: null, reason: `not built (${ADDON_PATH} missing; run \`npm run build:native\`)` };
  } else {
    try {
      ompDefaults();
      cached = { addon: createRequire(import.meta.url)(ADDON_PATH) as NativeAddon, reason: 'loaded' };
    } catch (err) {
      cached = { addon: null, reason: `failed to load ${ADDON_PATH}: ${(err as Error).message}` };
    }
  }
  return cached.addon;
}

export function nativeStatus(): string {
  loadNative();
  return cached!.reason;
}
