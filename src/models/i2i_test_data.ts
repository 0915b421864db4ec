// Procedural image-to-image data for the pix2pix/cyclegan tests: 32 px images of one random
// rectangle on a background, written as PNG. Paired: the same rectangle in A and B with the colours
// mapped; unpaired: independent rectangles, domain A in one colour and domain B in another.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { rng } from '../util/random.js';

export type Rgb = [number, number, number];

interface Scene { x0: number; y0: number; x1: number; y1: number }

function scene(rand: () => number, side: number): Scene {
  const w = 8 + Math.floor(rand() * 14), h = 8 + Math.floor(rand() * 14);
  const x0 = Math.floor(rand() * (side - w)), y0 = Math.floor(rand() * (side - h));
  return { x0, y0, x1: x0 + w, y1: y0 + h };
}

async function draw(file: string, s: Scene, fg: Rgb, bg: Rgb, side: number): Promise<void> {
  const px = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const c = x >= s.x0 && x < s.x1 && y >= s.y0 && y < s.y1 ? fg : bg;
      px.set(c, (y * side + x) * 3);
    }
  }
  await sharp(Buffer.from(px), { raw: { width: side, height: side, channels: 3 } }).png().toFile(file);
}

/** root/A/<i>.png and root/B/<i>.png: the same rectangle, colours (fgA, bgA) -> (fgB, bgB). */
export async function makePaired(root: string, n: number, a: [Rgb, Rgb], b: [Rgb, Rgb], seed = 1, side = 32): Promise<void> {
  const rand = rng(seed);
  for (const d of ['A', 'B']) mkdirSync(join(root, d), { recursive: true });
  for (let i = 0; i < n; i++) {
    const s = scene(rand, side);
    await draw(join(root, 'A', `${String(i).padStart(4, '0')}.png`), s, a[0], a[1], side);
    await draw(join(root, 'B', `${String(i).padStart(4, '0')}.png`), s, b[0], b[1], side);
  }
}

/** dir/<i>.png: n independent rectangles of colour fg on bg. */
export async function makeDomain(dir: string, n: number, fg: Rgb, bg: Rgb, seed = 1, side = 32): Promise<void> {
  const rand = rng(seed);
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) await draw(join(dir, `${String(i).padStart(4, '0')}.png`), scene(rand, side), fg, bg, side);
}
