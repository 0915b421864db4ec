import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage, DEFAULT_SPEC, type ImageSpec } from './image.js';

const dir = mkdtempSync(join(tmpdir(), 'synthset-image-'));
const spec = (o: Partial<ImageSpec> = {}): ImageSpec => ({ ...DEFAULT_SPEC, size: 32, ...o });
const px = (d: Uint8Array, size: number, ch: number, row: number, col: number) => Array.from(d.subarray((row * size + col) * ch, (row * size + col + 1) * ch));
const near = (got: number[], want: number[], tol: number) => got.every((v, i) => Math.abs(v - want[i]) <= tol);

/** A w x h image: left half red, right half blue. */
function halves(w: number, h: number) {
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set(x < w / 2 ? [255, 0, 0] : [0, 0, 255], (y * w + x) * 3);
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } });
}

test('EXIF orientation is applied before resizing', async () => {
  const f = join(dir, 'rotated.jpg');
  // Orientation 6 displays the stored image turned 90 degrees clockwise: its left (red) half on top.
  await halves(40, 20).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(f);
  const d = await decodeImage(f, spec({ fit: 'crop' }));
  assert.ok(near(px(d, 32, 3, 4, 16), [255, 0, 0], 40), `top ${px(d, 32, 3, 4, 16)}`);
  assert.ok(near(px(d, 32, 3, 28, 16), [0, 0, 255], 40), `bottom ${px(d, 32, 3, 28, 16)}`);
});

test('center-crop keeps the middle; pad fits inside on the background', async () => {
  const f = join(dir, 'wide.png');
  await halves(64, 32).png().toFile(f);
  const c = await decodeImage(f, spec({ fit: 'crop' }));
  assert.deepEqual(px(c, 32, 3, 16, 2), [255, 0, 0]);
  assert.deepEqual(px(c, 32, 3, 16, 29), [0, 0, 255]);
  const p = await decodeImage(f, spec({ fit: 'pad', background: '#00ff00' }));
  assert.deepEqual(px(p, 32, 3, 2, 16), [0, 255, 0], 'padding above the 32x16 picture');
  assert.deepEqual(px(p, 32, 3, 16, 2), [255, 0, 0]);
  assert.deepEqual(px(p, 32, 3, 29, 16), [0, 255, 0], 'padding below');
});

test('transparency is flattened on the background; grey output has one channel', async () => {
  const f = join(dir, 'alpha.png');
  await sharp({ create: { width: 20, height: 20, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0 } } }).png().toFile(f);
  const d = await decodeImage(f, spec({ background: '#ffffff' }));
  assert.deepEqual(px(d, 32, 3, 10, 10), [255, 255, 255]);
  const g = await decodeImage(join(dir, 'wide.png'), spec({ channels: 1 }));
  assert.equal(g.length, 32 * 32);
  assert.ok(g[16 * 32 + 2] > g[16 * 32 + 29], 'red is lighter than blue in grey');
});

test('CMYK JPEG and 16-bit PNG come out as 8-bit sRGB', async () => {
  const cmyk = join(dir, 'cmyk.jpg');
  await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 200, g: 120, b: 40 } } }).toColourspace('cmyk').jpeg({ quality: 95 }).toFile(cmyk);
  assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
  assert.ok(near(px(await decodeImage(cmyk, spec()), 32, 3, 16, 16), [200, 120, 40], 30));
  const deep = join(dir, 'deep.png');
  await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 10, g: 128, b: 250 } } }).toColourspace('rgb16').png().toFile(deep);
  assert.equal((await sharp(deep).metadata()).depth, 'ushort');
  assert.ok(near(px(await decodeImage(deep, spec()), 32, 3, 16, 16), [10, 128, 250], 2));
});
