// How image i of a generated set is made, shared by Node (generate, eval) and the bundle's browser
// page so both draw the same pictures: z from (seed, i), the class from i, output [-1, 1] -> uint8.
// Browser-safe: no node:* import, and tfjs only as a type.
import type * as tfType from '@tensorflow/tfjs';
import { mixSeed, normals } from '../util/random.js';

export { toUint8 } from '../util/pixels.js';

/** What the drawing needs of a generator's metadata. */
export interface LatentSpec { zDim: number; conditional: boolean; classes: string[] }

/** The class of image i: the classes in turn, so every prefix of the set is balanced. */
export const classOf = (i: number, classes: number[]): number => classes[i % classes.length];

/** The generator inputs (z and, when conditional, one-hot class) of the given image indices. */
export function latentInputs(spec: LatentSpec, seed: number, indices: ArrayLike<number>, classes: number[]): { z: Float32Array; hot: Float32Array | null; labels: Int32Array } {
  const n = indices.length, k = spec.classes.length;
  const z = new Float32Array(n * spec.zDim);
  const hot = spec.conditional ? new Float32Array(n * k) : null;
  const labels = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const i = indices[j];
    z.set(normals(mixSeed(seed, i), spec.zDim), j * spec.zDim);
    labels[j] = spec.conditional ? classOf(i, classes) : -1;
    if (hot) hot[j * k + labels[j]] = 1;
  }
  return { z, hot, labels };
}

/** Runs the generator on those inputs; the caller disposes the result. */
export function forward(tf: typeof tfType, model: tfType.LayersModel, spec: LatentSpec, x: { z: Float32Array; hot: Float32Array | null }): tfType.Tensor4D {
  const n = x.z.length / spec.zDim;
  return tf.tidy(() => {
    const z = tf.tensor2d(x.z, [n, spec.zDim]);
    const inputs = x.hot ? [z, tf.tensor2d(x.hot, [n, spec.classes.length])] : z;
    // predict() would cut the batch into 32s and concatenate them: one call is up to 1.4x faster.
    return model.predict(inputs, { batchSize: n }) as tfType.Tensor4D;
  });
}

