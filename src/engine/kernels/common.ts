// How a native override is declared: it returns null when it does not handle the call (dtype,
// layout, unsupported attribute), and the backend then runs the `cpu` kernel instead.
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import type { OneDnnBackend } from '../backend.js';
import type { NativeAddon } from '../native.js';

export interface NativeArgs {
  /** Optional inputs (bias, offset, ...) are absent at run time although typed present. */
  inputs: Record<string, TensorInfo>;
  attrs: NamedAttrMap;
  backend: OneDnnBackend;
  addon: NativeAddon;
}

export type NativeKernel = (args: NativeArgs) => TensorInfo | TensorInfo[] | null;

export interface Override { kernelName: string; native: NativeKernel }

export const allF32 = (...ts: (TensorInfo | undefined)[]): boolean =>
  ts.every((t) => t === undefined || (t.dtype === 'float32' && util.sizeFromShape(t.shape) > 0));

export const size = util.sizeFromShape;

/** Runs a native call; false when oneDNN refused it (geometry it cannot express, such as some
 * explicit paddings), so the kernel returns null and `cpu`, which can, runs instead. */
export function attempt(run: () => void): boolean {
  try { run(); return true; } catch { return false; }
}

export interface PlainArgs { inputs: Record<string, TensorInfo>; attrs: Record<string, number>; backend: OneDnnBackend }

/** A kernel config whose function sees inputs and numeric attrs without tfjs's optional typing. */
export function kernel(kernelName: string, backendName: string, fn: (a: PlainArgs) => TensorInfo | TensorInfo[]) {
  return { kernelName, backendName, kernelFunc: fn as unknown as KernelFunc };
}
