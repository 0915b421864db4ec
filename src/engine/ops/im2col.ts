// The input patches of a convolution (im2col) as one kernel: [n, h, w, c] → [n, oh·ow, k·k·c] in the
// kernel's (kh, kw, c) order, so that conv2d(x, w) = patches · reshape(w, [k·k·c, cout]). DP-SGD's
// per-example gradients need the patches themselves (src/privacy/per_example.ts). Built from
// tf.stridedSlice it took 3 s a batch; as a JS copy loop it was half of a private step; the onednn
// backend copies natively. No gradient: it is used after differentiation.
import { engine, getBackend, getKernel, type Tensor3D, type Tensor4D } from '@tensorflow/tfjs-core';
import { kernel } from '../kernels/common.js';
import type { NativeAddon } from '../native.js';

export const IM2COL = 'SynthsetIm2Col';

export interface PatchGeometry { k: number; stride: number; padding: 'same' | 'valid' }

/** Output size and leading padding of one spatial axis, as tfjs's conv2d computes them. */
function axis(size: number, g: PatchGeometry): { out: number; before: number } {
  const out = g.padding === 'same' ? Math.ceil(size / g.stride) : Math.floor((size - g.k) / g.stride) + 1;
  const before = g.padding === 'same' ? Math.floor(Math.max((out - 1) * g.stride + g.k - size, 0) / 2) : 0;
  return { out, before };
}

export function im2col(x: Tensor4D, g: PatchGeometry): Tensor3D {
  if (x.dtype !== 'float32') throw new Error(`im2col needs float32 input, got ${x.dtype}.`);
  const [, h, w] = x.shape;
  const ys = axis(h, g), xs = axis(w, g);
  if (ys.out < 1 || xs.out < 1) throw new Error(`im2col: a ${g.k}x${g.k} '${g.padding}' window does not fit a ${h}x${w} input.`);
  const attrs = { k: g.k, stride: g.stride, oh: ys.out, ow: xs.out, top: ys.before, left: xs.before };
  if (!getKernel(IM2COL, getBackend())) throw new Error(`im2col has no kernel on the '${getBackend()}' backend.`);
  return engine().runKernel(IM2COL, { x }, attrs) as Tensor3D;
}

function jsIm2col(shape: number[], src: Float32Array, dst: Float32Array): void {
  const [n, h, w, c, oh, ow, k, s, top, left] = shape;
  const row = k * k * c;
  let base = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, base += row) {
        for (let kh = 0; kh < k; kh++) {
          const iy = oy * s + kh - top;
          if (iy < 0 || iy >= h) continue;
          let o = base + kh * k * c;
          for (let kw = 0; kw < k; kw++, o += c) {
            const ix = ox * s + kw - left;
            if (ix < 0 || ix >= w) continue;
            let from = ((b * h + iy) * w + ix) * c;
            for (let ch = 0; ch < c; ch++) dst[o + ch] = src[from++];
          }
        }
      }
    }
  }
}

export function im2colKernel(backendName: string, native: NativeAddon | null) {
  const fast = native?.im2col ? native.im2col.bind(native) : null;
  return kernel(IM2COL, backendName, ({ inputs: { x }, attrs: a, backend: b }) => {
    const [n, h, w, c] = x.shape;
    const shape = [n, h, w, c, a.oh, a.ow, a.k, a.stride, a.top, a.left];
    const src = b.data.get(x.dataId)!.values as Float32Array;
    const len = n * a.oh * a.ow * a.k * a.k * c;
    let out: Float32Array;
    if (fast) fast(shape, src, (out = b.alloc(len)));
    else jsIm2col(shape, src, (out = new Float32Array(len)));
    const outShape = [n, a.oh * a.ow, a.k * a.k * c];
    return { dataId: b.write(out, outShape, 'float32'), shape: outShape, dtype: 'float32' };
  });
}
