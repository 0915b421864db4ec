// Decoded 8-bit images to a float32 tensor in [-1, 1]. On the onednn backend the output comes from
// the buffer pool and the conversion is one native loop: a fresh 3 MB array per batch costs more
// in page faults than the conversion itself.
import { backend as activeBackend, tensor, type Tensor } from '@tensorflow/tfjs-core';
import { OneDnnBackend } from '../backend.js';
import { loadNative } from '../native.js';

const SCALE = 1 / 127.5;

/** bytes (uint8, row-major) -> float32 tensor of `shape` with values bytes / 127.5 - 1. */
export function imagesFromBytes<T extends Tensor>(bytes: Uint8Array, shape: number[]): T {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== bytes.length) throw new Error(`imagesFromBytes: ${bytes.length} bytes do not fill shape [${shape}].`);
  const b = activeBackend();
  const native = loadNative();
  let out: Float32Array;
  if (b instanceof OneDnnBackend && native) {
    out = b.alloc(n);
    native.bytesToFloat(bytes, out, SCALE, -1);
  } else {
    out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = bytes[i] * SCALE - 1;
  }
  return tensor(out, shape, 'float32') as T;
}
