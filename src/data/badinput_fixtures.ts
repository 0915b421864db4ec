// Generated image fixtures for the bad-input tests (data layer and CLI).
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

/**
 * Deterministic smooth noise: a random 9x8 grid blown up with linear interpolation, so different
 * seeds give unrelated pictures and neighbouring cells differ clearly (dHash compares neighbours).
 */
export async function noisePng(file: string, seed: number, side = 32): Promise<void> {
  let s = seed >>> 0 || 1;
  const px = Buffer.alloc(9 * 8 * 3);
  for (let i = 0; i < px.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    px[i] = s >>> 24;
  }
  await sharp(px, { raw: { width: 9, height: 8, channels: 3 } }).resize(side, side, { fit: 'fill', kernel: 'linear' }).png().toFile(file);
}

/**
 * A valid PNG whose header claims `w`x`h` but whose data is a few bytes: enough for a header read,
 * so the pixel limit can be tested without allocating the pixels.
 */
export function hugePngHeader(w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13); // bit depth 8, greyscale, deflate, no filter, no interlace
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(16))), chunk('IEND', Buffer.alloc(0))]);
}
