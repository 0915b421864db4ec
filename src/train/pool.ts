// Experience replay for D (the image pool of Shrivastava et al. / CycleGAN): each fake D sees is,
// with probability p, swapped for an older stored fake, which is replaced by the new one. Stored
// images live in plain Float32Arrays, not tensors, so the pool never adds to the tensor count and
// checkpoints copy it as bytes. Every draw comes from the seed of the call, so resumes repeat.
import * as tf from '@tensorflow/tfjs';
import { rng } from '../util/random.js';

export interface PoolOptions { size: number; p: number }

export class ImagePool {
  /** Stored images, each `imageSize` floats. */
  images: Float32Array[] = [];
  imageShape: [number, number, number] | null = null;

  constructor(readonly opts: PoolOptions) {
    if (!(Number.isInteger(opts.size) && opts.size >= 0)) throw new Error(`Pool size ${opts.size} must be a whole number >= 0.`);
    if (!(opts.p >= 0 && opts.p <= 1)) throw new Error(`Pool probability ${opts.p} must be in [0, 1].`);
  }

  /** The batch D should see as fake: new images while the pool fills, then a p-mix of old and new. */
  query(fake: tf.Tensor4D, seed: number): tf.Tensor4D {
    if (this.opts.size === 0) return fake.clone();
    const [n, h, w, c] = fake.shape;
    const per = h * w * c;
    if (this.imageShape && (this.imageShape[0] !== h || this.imageShape[1] !== w || this.imageShape[2] !== c)) {
      throw new Error(`Image pool holds ${this.imageShape.join('x')} images but got ${h}x${w}x${c}.`);
    }
    this.imageShape = [h, w, c];
    const src = fake.dataSync() as Float32Array;
    const out = new Float32Array(n * per);
    const rand = rng(seed);
    for (let i = 0; i < n; i++) {
      const img = src.slice(i * per, (i + 1) * per);
      if (this.images.length < this.opts.size) {
        this.images.push(img);
        out.set(img, i * per);
      } else if (rand() < this.opts.p) {
        const j = Math.floor(rand() * this.images.length);
        out.set(this.images[j], i * per);
        this.images[j] = img;
      } else {
        out.set(img, i * per);
      }
    }
    return tf.tensor4d(out, [n, h, w, c], 'float32');
  }

  /** Contents for a checkpoint: one float32 block [count, h, w, c]. */
  state(): { shape: [number, number, number, number]; data: Float32Array } | null {
    if (!this.imageShape || !this.images.length) return null;
    const per = this.images[0].length;
    const data = new Float32Array(this.images.length * per);
    this.images.forEach((img, i) => data.set(img, i * per));
    return { shape: [this.images.length, ...this.imageShape], data };
  }

  restore(s: { shape: number[]; data: Float32Array } | null): void {
    this.images = [];
    this.imageShape = null;
    if (!s) return;
    const [count, h, w, c] = s.shape;
    const per = h * w * c;
    this.imageShape = [h, w, c];
    for (let i = 0; i < count; i++) this.images.push(s.data.slice(i * per, (i + 1) * per));
  }
}
