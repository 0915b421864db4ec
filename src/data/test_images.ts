// Small procedural images for the data tests: each class is a solid colour (so its decoded pixels
// are known), written in several formats and sizes into a temp folder.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

export const COLOURS: [number, number, number][] = [[230, 30, 30], [30, 200, 40], [20, 40, 220], [240, 220, 20]];
const FORMATS = ['png', 'jpg', 'webp', 'tiff', 'gif'] as const;

export function tempDir(prefix = 'synthset-data-'): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One solid-colour image; the size varies so resizing is exercised. */
export async function writeImage(file: string, colour: [number, number, number], side = 40, format: (typeof FORMATS)[number] = 'png'): Promise<void> {
  const [r, g, b] = colour;
  await sharp({ create: { width: side, height: Math.round(side * 0.75), channels: 3, background: { r, g, b } } })
    .toFormat(format).toFile(file);
}

/** root/<class>/<class> <i>.<fmt> for `counts[k]` images of class `names[k]` in colour k. */
export async function makeImageFolder(root: string, names: string[], counts: number[]): Promise<void> {
  for (let k = 0; k < names.length; k++) {
    const dir = join(root, names[k]);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < counts[k]; i++) {
      const fmt = FORMATS[(i + k) % FORMATS.length];
      await writeImage(join(dir, `${names[k]} ${i}.${fmt}`), COLOURS[k % COLOURS.length], 24 + 8 * (i % 4), fmt);
    }
  }
}
