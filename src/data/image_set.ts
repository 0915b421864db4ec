// What every metric reads: a labelled list of 8-bit images of one size, real or synthetic. Real
// sets are views of the decoded cache (no copy); synthetic sets hold generated images quantised to
// 8 bits, exactly as they would be once saved as PNG, so a metric sees what a user would share.
import type * as tf from '@tensorflow/tfjs';
import type { ImageCache } from './cache.js';
import { imagesFromBytes } from '../engine/index.js';
import { toUint8 } from '../util/pixels.js';
import { classKey } from '../util/text.js';

export interface ImageSet {
  name: string;
  count: number;
  size: number;
  channels: 1 | 3;
  classes: string[];
  /** Class id per image, or null when unlabelled. */
  labels: Int32Array | null;
  /** Bytes of the given images (indices 0..count-1), row after row, HWC. */
  read(indices: ArrayLike<number>): Uint8Array;
}

/** The images of `rows` of a decoded cache (e.g. a split's train or holdout list). */
export function cacheSet(cache: ImageCache, rows: ArrayLike<number>, name: string): ImageSet {
  const list = Int32Array.from(rows);
  return {
    name, count: list.length, size: cache.size, channels: cache.channels, classes: cache.classes,
    labels: cache.labels ? Int32Array.from(list, (r) => cache.labels![r]) : null,
    read: (idx) => cache.readRows(Array.from(idx, (i) => list[i])),
  };
}

export function memorySet(o: Omit<ImageSet, 'count' | 'read'> & { bytes: Uint8Array }): ImageSet {
  const rowBytes = o.size * o.size * o.channels;
  if (o.bytes.length % rowBytes) throw new Error(`${o.name}: ${o.bytes.length} bytes are not a whole number of ${o.size}x${o.size}x${o.channels} images.`);
  const count = o.bytes.length / rowBytes;
  if (o.labels && o.labels.length !== count) throw new Error(`${o.name}: ${count} images but ${o.labels.length} labels.`);
  return {
    name: o.name, count, size: o.size, channels: o.channels, classes: o.classes, labels: o.labels,
    read(idx) {
      const out = new Uint8Array(idx.length * rowBytes);
      for (let i = 0; i < idx.length; i++) out.set(o.bytes.subarray(idx[i] * rowBytes, (idx[i] + 1) * rowBytes), i * rowBytes);
      return out;
    },
  };
}

/**
 * `set` relabelled to the order of `classes` when its class names are theirs in another order (or
 * their folder forms: a folder lists its classes sorted, and `generate` writes "T-shirt/top" as
 * "T-shirt_top", `ssim select` "Ankle boot" as "Ankle_boot"); null unless the names match one to one.
 */
export function alignClasses(set: ImageSet, classes: string[]): ImageSet | null {
  if (!set.labels || set.classes.length !== classes.length) return null;
  const at = new Map(classes.map((c, i) => [classKey(c), i]));
  const map = set.classes.map((c) => at.get(classKey(c)) ?? -1);
  if (map.includes(-1) || new Set(map).size !== map.length) return null;
  return { ...set, classes, labels: Int32Array.from(set.labels, (l) => map[l]) };
}

/** A subset of a set, by index. */
export function subset(set: ImageSet, indices: ArrayLike<number>, name = set.name): ImageSet {
  const list = Int32Array.from(indices);
  return {
    ...set, name, count: list.length,
    labels: set.labels ? Int32Array.from(list, (i) => set.labels![i]) : null,
    read: (idx) => set.read(Array.from(idx, (i) => list[i])),
  };
}

/** The images of `a` then those of `b` (same shape and classes), without copying either. */
export function concatSets(a: ImageSet, b: ImageSet, name = a.name): ImageSet {
  assertComparable(a, b);
  if (!!a.labels !== !!b.labels) throw new Error(`${a.name} and ${b.name}: one is labelled and the other not, so they cannot be joined.`);
  const labels = a.labels && b.labels ? new Int32Array(a.count + b.count) : null;
  labels?.set(a.labels!);
  labels?.set(b.labels!, a.count);
  const px = a.size * a.size * a.channels;
  return {
    ...a, name, count: a.count + b.count, labels,
    // One read per side, not per image: a sample grown several times nests concatenations.
    read(idx) {
      const inA: number[] = [], fromA: number[] = [], inB: number[] = [], fromB: number[] = [];
      for (let i = 0; i < idx.length; i++) {
        if (idx[i] < a.count) {
          inA.push(idx[i]);
          fromA.push(i);
        } else {
          inB.push(idx[i] - a.count);
          fromB.push(i);
        }
      }
      const out = new Uint8Array(idx.length * px);
      for (const [set, rows, at] of [[a, inA, fromA], [b, inB, fromB]] as const) {
        if (!rows.length) continue;
        const bytes = set.read(rows);
        at.forEach((o, j) => out.set(bytes.subarray(j * px, (j + 1) * px), o * px));
      }
      return out;
    },
  };
}

/** Images as float32 [n, size, size, channels] in [-1, 1]. */
export function imagesOf(set: ImageSet, indices: ArrayLike<number>): tf.Tensor4D {
  return imagesFromBytes<tf.Tensor4D>(set.read(indices), [indices.length, set.size, set.size, set.channels]);
}

/** [start, end) index ranges of at most `size`, covering 0..count. */
export function* chunks(count: number, size: number): Generator<number[]> {
  for (let s = 0; s < count; s += size) yield Array.from({ length: Math.min(size, count - s) }, (_, i) => s + i);
}

/** Checks that two sets can be compared image to image. */
export function assertComparable(a: ImageSet, b: ImageSet): void {
  if (a.size !== b.size || a.channels !== b.channels) {
    throw new Error(`${a.name} holds ${a.size}x${a.size}x${a.channels} images but ${b.name} ${b.size}x${b.size}x${b.channels}: compare sets of one size and channel count (regenerate or re-prepare at the same --size).`);
  }
}

/** Float pixels in [-1, 1] → 8-bit, rounded as a PNG writer would. */
export const toBytes = (x: tf.Tensor): Uint8Array => toUint8(x.dataSync());
