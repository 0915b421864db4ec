// Decoding one image file to a fixed-size HWC uint8 array with sharp. The pixel limit is checked
// from the header before any pixels are decoded; EXIF orientation is applied; alpha is flattened
// on a chosen background; CMYK, 16-bit, palette and grey inputs all come out as 8-bit sRGB or grey.
import { statSync } from 'node:fs';
import sharp from 'sharp';
import { DataError } from './errors.js';

export type Fit = 'crop' | 'pad';

export interface ImageSpec {
  /** Output side in pixels (square). */
  size: number;
  channels: 1 | 3;
  /** crop: center-crop to fill the square; pad: fit inside and pad with the background. */
  fit: Fit;
  /** Background for padding and for flattening transparency, as a CSS colour. */
  background: string;
  /** Refuse images with more pixels than this before decoding them. */
  maxPixels: number;
}

export const DEFAULT_SPEC: ImageSpec = { size: 64, channels: 3, fit: 'crop', background: '#000000', maxPixels: 50_000_000 };

export const SIZES = [32, 64, 128, 256] as const;

export function checkSpec(spec: ImageSpec): void {
  if (!(SIZES as readonly number[]).includes(spec.size)) throw new Error(`Unsupported image size ${spec.size}: use one of ${SIZES.join(', ')}.`);
  if (spec.channels !== 1 && spec.channels !== 3) throw new Error(`Unsupported channel count ${spec.channels}: use 1 or 3.`);
  if (spec.fit !== 'crop' && spec.fit !== 'pad') throw new Error(`Unsupported fit "${spec.fit}": use crop or pad.`);
}

export interface ImageInfo { width: number; height: number; format: string }

/** Header-only read: format and size, with the same checks as `decodeImage`. */
export async function probeImage(file: string, maxPixels = DEFAULT_SPEC.maxPixels): Promise<ImageInfo> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(file, code === 'EACCES' ? 'permission denied' : `cannot read (${code ?? err})`);
  }
  if (size === 0) throw new DataError(file, 'empty file (0 bytes)', 'delete it or re-export the image');
  let meta: sharp.Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new DataError(file, `not a readable image (${firstLine(err)})`, 'the file may be truncated or not an image despite its name');
  }
  if (!meta.width || !meta.height) throw new DataError(file, 'image has no size in its header');
  const pixels = meta.width * meta.height;
  if (pixels > maxPixels) {
    throw new DataError(file, `image is ${meta.width}x${meta.height} = ${pixels} pixels, above the limit of ${maxPixels}`,
      'raise the pixel limit (--max-pixels) or downscale it first');
  }
  return { width: meta.width, height: meta.height, format: meta.format ?? 'unknown' };
}

/** Decodes to `size * size * channels` bytes, row-major HWC. Throws DataError naming the file. */
export async function decodeImage(file: string, spec: ImageSpec): Promise<Uint8Array> {
  await probeImage(file, spec.maxPixels);
  try {
    let img = sharp(file, { limitInputPixels: spec.maxPixels, failOn: 'truncated', pages: 1 })
      .rotate()
      .flatten({ background: spec.background })
      .resize(spec.size, spec.size, { fit: spec.fit === 'crop' ? 'cover' : 'contain', position: 'centre', background: spec.background });
    img = spec.channels === 1 ? img.toColourspace('b-w') : img.toColourspace('srgb');
    const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.width !== spec.size || info.height !== spec.size || info.channels !== spec.channels) {
      throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}, expected ${spec.size}x${spec.size}x${spec.channels}`);
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(file, `cannot decode (${firstLine(err)})`, 'the file may be truncated or corrupt');
  }
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
