// PNG files for generated images. sharp (libvips) spends ~1.5 ms of set-up per call on a 64 px image
// whatever the compression level, more than the generator's forward pass per image, so generation
// writes the format itself: 8-bit grey, RGB or RGBA, filter type None (as sharp's
// adaptiveFiltering: false), one IDAT chunk deflated by Node's zlib. Level 1 (zlib's fastest) makes
// files ~30 % larger than level 6 at a third of the time. Synchronous: zlib's asynchronous form cost
// ~320 us of CPU per 64 px image against ~50 us (its thread-pool round trips), and on a 2-core machine
// the forward pass it was meant to overlap already fills both cores. The same bytes and level give
// the same file on every run.
import { crc32, deflateSync } from 'node:zlib';
import { writeAtomic } from '../util/atomic.js';
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const COLOUR_TYPE: Record<number, number> = { 1: 0, 3: 2, 4: 6 };

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** A PNG file of `width` x `height` 8-bit pixels, `channels` (1, 3 or 4) per pixel, row after row. */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: number, level = 1): Buffer {
  const colour = COLOUR_TYPE[channels];
  if (colour === undefined) throw new Error(`PNG: ${channels} channels per pixel; use 1 (grey), 3 (RGB) or 4 (RGBA).`);
  const row = width * channels;
  if (!(width >= 1 && height >= 1 && pixels.length === row * height)) throw new Error(`PNG: ${pixels.length} bytes are not ${width}x${height}x${channels} pixels.`);
  const raw = Buffer.alloc(height * (row + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * row, (y + 1) * row), y * (row + 1) + 1);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, colour, 0, 0, 0], 8);
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(raw, { level })), chunk('IEND', Buffer.alloc(0))]);
}

/**
 * Writes `pixels` as a PNG at `file` through a temp file and a rename (a killed run never leaves a
 * partial PNG for a resume to keep), without the per-file fsyncs: the caller syncs the folder once per batch.
 */
export function writePng(file: string, pixels: Uint8Array, width: number, height: number, channels: number): void {
  writeAtomic(file, encodePng(pixels, width, height, channels), { durable: false });
}
