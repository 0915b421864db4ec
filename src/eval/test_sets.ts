// Procedural labelled images for the eval tests: four shape classes (horizontal bars, vertical bars,
// a filled disc, a hollow square) at random positions, sizes and grey levels on noise, so a
// classifier has something real to learn and each class has many distinct images.
import { rng } from '../util/random.js';
import { memorySet, type ImageSet } from '../data/image_set.js';

export const SHAPE_CLASSES = ['hbars', 'vbars', 'disc', 'square'];

function draw(cls: number, size: number, rand: () => number): Float32Array {
  const img = new Float32Array(size * size);
  const fg = 0.6 + 0.4 * rand(), bg = 0.25 * rand();
  const cx = size * (0.35 + 0.3 * rand()), cy = size * (0.35 + 0.3 * rand()), r = size * (0.2 + 0.1 * rand());
  const period = 3 + Math.floor(rand() * 2);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = Math.abs(x - cx) <= r && Math.abs(y - cy) <= r;
      let on = false;
      if (cls === 0) on = inside && Math.floor(y / period) % 2 === 0;
      else if (cls === 1) on = inside && Math.floor(x / period) % 2 === 0;
      else if (cls === 2) on = (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
      else on = inside && (Math.abs(x - cx) > r - 2 || Math.abs(y - cy) > r - 2);
      img[y * size + x] = (on ? fg : bg) + 0.08 * (rand() - 0.5);
    }
  }
  return img;
}

/** `n` images, classes in turn; colour images tint each shape with a random hue. */
export function shapesSet(n: number, o: { size?: number; channels?: 1 | 3; seed?: number; name?: string } = {}): ImageSet {
  const size = o.size ?? 16, channels = o.channels ?? 1;
  const rand = rng(o.seed ?? 1);
  const k = SHAPE_CLASSES.length;
  const bytes = new Uint8Array(n * size * size * channels);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % k;
    const img = draw(labels[i], size, rand);
    const tint = [0, 1, 2].map(() => 0.6 + 0.4 * rand());
    for (let p = 0; p < size * size; p++) {
      for (let c = 0; c < channels; c++) {
        bytes[(i * size * size + p) * channels + c] = Math.max(0, Math.min(255, Math.round(255 * img[p] * (channels === 3 ? tint[c] : 1))));
      }
    }
  }
  return memorySet({ name: o.name ?? 'shapes', size, channels, classes: SHAPE_CLASSES, labels, bytes });
}
