// A 64-bit difference hash (dHash): the image is shrunk to 9x8 grey pixels and each bit says whether a
// pixel is brighter than its right neighbour. Resizing, recompression, small crops and brightness
// changes move only a few bits, so a small Hamming distance means "probably the same picture".
// Hand-written rather than a dependency: it is a dozen lines on top of sharp, which we already have.
import sharp from 'sharp';
import { DataError } from './errors.js';

/** A 64-bit hash as two unsigned 32-bit halves: cheap to compare in a tight loop. */
export interface PHash { hi: number; lo: number }

const W = 9;
const H = 8;

/** The hash of a 9x8 greyscale image given row-major (exported so the bit layout can be tested). */
export function dhashFromGrey(grey: ArrayLike<number>): PHash {
  if (grey.length !== W * H) throw new Error(`dhash needs ${W * H} grey pixels, got ${grey.length}`);
  let hi = 0;
  let lo = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W - 1; x++) {
      const bit = grey[y * W + x] > grey[y * W + x + 1] ? 1 : 0;
      const i = y * (W - 1) + x; // 0..63
      if (i < 32) hi = (hi << 1) | bit;
      else lo = (lo << 1) | bit;
    }
  }
  return { hi: hi >>> 0, lo: lo >>> 0 };
}

/**
 * dHash of an image file or its bytes. Truncated files fail here (not silently hashed from a
 * half-decoded picture), so callers learn about them; `maxPixels` guards the decode.
 */
export async function dhash(input: string | Buffer, maxPixels: number, name = typeof input === 'string' ? input : '<buffer>'): Promise<PHash> {
  try {
    const grey = await sharp(input, { limitInputPixels: maxPixels, failOn: 'truncated', pages: 1 })
      .rotate()
      .flatten({ background: '#ffffff' })
      .greyscale()
      .resize(W, H, { fit: 'fill', kernel: 'lanczos3' })
      .raw()
      .toBuffer();
    return dhashFromGrey(grey);
  } catch (err) {
    throw new DataError(name, `cannot decode (${String((err as Error)?.message ?? err).split('\n')[0]})`,
      'the file may be truncated or corrupt');
  }
}

function popcount32(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Number of differing bits (0..64). */
export const hamming = (a: PHash, b: PHash): number => popcount32((a.hi ^ b.hi) >>> 0) + popcount32((a.lo ^ b.lo) >>> 0);

/** 16 hex digits, for reports. */
export const phashHex = (h: PHash): string => h.hi.toString(16).padStart(8, '0') + h.lo.toString(16).padStart(8, '0');

export function parsePhashHex(hex: string): PHash {
  if (!/^[0-9a-f]{16}$/i.test(hex)) throw new Error(`not a 64-bit hex hash: ${hex}`);
  return { hi: parseInt(hex.slice(0, 8), 16) >>> 0, lo: parseInt(hex.slice(8), 16) >>> 0 };
}

/**
 * Calls `fn(i, j, distance)` for every pair i < j within `threshold` bits. A callback rather than a
 * list because a folder of near-blank images has n² such pairs. Quadratic, but the inner loop is
 * two popcounts on integers: about a second for 30k images, the scale this toolkit is for.
 */
export function forEachNearPair(hashes: readonly PHash[], threshold: number, fn: (i: number, j: number, d: number) => void): void {
  const n = hashes.length;
  const hi = Uint32Array.from(hashes, (h) => h.hi);
  const lo = Uint32Array.from(hashes, (h) => h.lo);
  for (let i = 0; i < n; i++) {
    const hi0 = hi[i];
    const lo0 = lo[i];
    for (let j = i + 1; j < n; j++) {
      const d = popcount32((hi0 ^ hi[j]) >>> 0) + popcount32((lo0 ^ lo[j]) >>> 0);
      if (d <= threshold) fn(i, j, d);
    }
  }
}
