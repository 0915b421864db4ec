// Procedural label-map data for the labelmap/pix2pix tests: `side` px maps of classes 0..3 (a
// background, a wall rectangle holding a window rectangle, a door strip) as grey index PNGs in
// label/, their photos (one colour per class) in photo/, and label_names.txt.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { rng } from '../util/random.js';

export const MAP_LABELS = '0 background\n1 wall\n2 window\n3 door\n';
export const CLASS_RGB: [number, number, number][] = [[20, 20, 30], [200, 180, 140], [40, 90, 200], [150, 40, 30]];

/** One map: class indices, row-major. */
export function drawMap(rand: () => number, side: number): Uint8Array {
  const m = new Uint8Array(side * side);
  const x0 = Math.floor(rand() * side * 0.3), y0 = Math.floor(rand() * side * 0.3);
  const x1 = side - 1 - Math.floor(rand() * side * 0.3), y1 = side - 1 - Math.floor(rand() * side * 0.2);
  const wx = x0 + 2 + Math.floor(rand() * (x1 - x0) * 0.4), wy = y0 + 2 + Math.floor(rand() * (y1 - y0) * 0.3);
  const dx = Math.floor((x0 + x1) / 2);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      let c = x >= x0 && x <= x1 && y >= y0 && y <= y1 ? 1 : 0;
      if (c === 1 && x >= wx && x < wx + side / 6 && y >= wy && y < wy + side / 6) c = 2;
      if (c === 1 && x >= dx && x < dx + side / 8 && y > y1 - side / 4) c = 3;
      m[y * side + x] = c;
    }
  }
  return m;
}

/** root/label/<i>.png, root/photo/<i>.png and root/label_names.txt for `n` maps. */
export async function makeLabelMapSet(root: string, n: number, seed = 1, side = 32): Promise<void> {
  const rand = rng(seed);
  for (const d of ['label', 'photo']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'label_names.txt'), MAP_LABELS);
  for (let i = 0; i < n; i++) {
    const map = drawMap(rand, side);
    const name = `${String(i).padStart(4, '0')}.png`;
    await sharp(Buffer.from(map), { raw: { width: side, height: side, channels: 1 } }).png().toFile(join(root, 'label', name));
    const px = new Uint8Array(side * side * 3);
    map.forEach((c, j) => px.set(CLASS_RGB[c], j * 3));
    await sharp(Buffer.from(px), { raw: { width: side, height: side, channels: 3 } }).png().toFile(join(root, 'photo', name));
  }
}
