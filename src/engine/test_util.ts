// Helpers for the engine's tests: run one computation on `onednn` and on `cpu` from the same
// seeded inputs and compare. Without the addon, native comparisons are skipped, not faked.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { initEngine, loadNative } from './index.js';

export const HAVE_NATIVE = loadNative() !== null;
export const SKIP_NATIVE = HAVE_NATIVE ? false : 'native addon disabled (SYNTHSET_NATIVE=0) or not built';

export { rng } from '../util/random.js';

export const randInt = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

export function randArray(r: () => number, shape: number[], scale = 1): { values: Float32Array; shape: number[] } {
  const n = shape.reduce((a, b) => a * b, 1);
  return { values: Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale), shape };
}

type Spec = { values: Float32Array | Uint8Array; shape: number[]; dtype?: 'float32' | 'bool' };
type Out = { values: Float32Array | Int32Array | Uint8Array; shape: number[] };

export async function runOn(backend: string, inputs: Spec[], fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<Out[]> {
  await initEngine();
  assert.ok(await tf.setBackend(backend));
  return tf.tidy(() => {
    const xs = inputs.map((s) => tf.tensor(s.values, s.shape, s.dtype ?? 'float32'));
    const res = fn(...xs);
    return (Array.isArray(res) ? res : [res]).map((t) => ({ values: t.dataSync().slice() as Out['values'], shape: t.shape }));
  });
}

/** Max |a - b| relative to max |b|: element-wise relative error is meaningless near zero. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'result sizes differ');
  let e = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    e = Math.max(e, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m === 0 ? e : e / m;
}

/** Runs `fn` on onednn and cpu and asserts shapes equal and values within `tol`. */
export async function assertSameAsCpu(label: string, inputs: Spec[], fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  tol = 1e-4): Promise<void> {
  const got = await runOn('onednn', inputs, fn);
  const want = await runOn('cpu', inputs, fn);
  assert.equal(got.length, want.length);
  got.forEach((g, i) => {
    assert.deepEqual(g.shape, want[i].shape, `${label} [${i}]: shape`);
    const err = relErr(g.values, want[i].values);
    assert.ok(err <= tol, `${label} [${i}]: relative error ${err.toExponential(2)} > ${tol}`);
  });
}
