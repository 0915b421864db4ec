import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { encodePng } from './png.js';
import { rng } from '../util/random.js';

test('PNGs decode (by libvips) to exactly the pixels written, for grey, RGB and RGBA, and repeat byte for byte', async () => {
  const rand = rng(7);
  for (const [w, h, c] of [[1, 1, 1], [32, 32, 3], [17, 5, 4], [64, 64, 1]] as const) {
    const px = Uint8Array.from({ length: w * h * c }, () => Math.floor(rand() * 256));
    const png = encodePng(px, w, h, c);
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['png', w, h, c]);
    // sharp's raw output turns grey into RGB unless told to keep it.
    const { data } = await (c === 1 ? sharp(png).toColourspace('b-w') : sharp(png)).raw().toBuffer({ resolveWithObject: true });
    assert.ok(Buffer.from(px).equals(data), `${w}x${h}x${c} pixels differ after decoding`);
    assert.ok(png.equals(encodePng(px, w, h, c)), 'the same pixels give the same file');
  }
});

test('PNG refuses pixel buffers that do not match the stated shape', async () => {
  assert.throws(() => encodePng(new Uint8Array(10), 2, 2, 3), /10 bytes are not 2x2x3 pixels/);
  assert.throws(() => encodePng(new Uint8Array(8), 2, 2, 2), /2 channels per pixel; use 1 \(grey\), 3 \(RGB\) or 4 \(RGBA\)/);
});
