// Test helpers: turning COCO segmentations back into masks the way the tools that read them do.
// `frPoly` is pycocotools' polygon rasteriser (common/maskApi.c rleFrPoly) ported line for line,
// C integer casts included, so a polygon that comes back right here comes back right in
// pycocotools; `evenOddCentres` is the plain rule it approximates (a pixel is in when its centre
// (x + 0.5, y + 0.5) is inside by the even-odd rule), independent of it.
import { countsFromString, decodeRuns } from './rle.js';

/** pycocotools rleFrPoly: the RLE counts of one polygon [x1, y1, x2, y2, ...] on an h × w image. */
export function frPoly(xy: readonly number[], h: number, w: number): number[] {
  const k0 = xy.length / 2;
  const scale = 5;
  const x: number[] = [];
  const y: number[] = [];
  for (let j = 0; j < k0; j++) x[j] = Math.trunc(scale * xy[j * 2] + 0.5);
  x[k0] = x[0];
  for (let j = 0; j < k0; j++) y[j] = Math.trunc(scale * xy[j * 2 + 1] + 0.5);
  y[k0] = y[0];
  const u: number[] = [];
  const v: number[] = [];
  for (let j = 0; j < k0; j++) {
    let xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      [xs, xe] = [xe, xs];
      [ys, ye] = [ye, ys];
    }
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy;
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u.push(t + xs);
        v.push(Math.trunc(ys + s * t + 0.5));
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v.push(t + ys);
        u.push(Math.trunc(xs + s * t + 0.5));
      }
    }
  }
  const bx: number[] = [];
  const by: number[] = [];
  for (let j = 1; j < u.length; j++) {
    if (u[j] === u[j - 1]) continue;
    let xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
    xd = (xd + 0.5) / scale - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) continue;
    let yd = v[j] < v[j - 1] ? v[j] : v[j - 1];
    yd = (yd + 0.5) / scale - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > h) yd = h;
    yd = Math.ceil(yd);
    bx.push(xd);
    by.push(yd);
  }
  const a = bx.map((xx, j) => xx * h + by[j]);
  a.push(h * w);
  a.sort((p, q) => p - q);
  let p = 0;
  for (let j = 0; j < a.length; j++) {
    const t = a[j];
    a[j] -= p;
    p = t;
  }
  const b: number[] = [a[0]];
  let j = 1;
  while (j < a.length) {
    if (a[j] > 0) b.push(a[j++]);
    else {
      j++;
      if (j < a.length) b[b.length - 1] += a[j++];
    }
  }
  return b;
}

/** Even-odd rule at pixel centres, row-major mask. */
export function evenOddCentres(xy: readonly number[], h: number, w: number): Uint8Array {
  const mask = new Uint8Array(h * w);
  const n = xy.length / 2;
  for (let y = 0; y < h; y++) {
    const cy = y + 0.5;
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const x1 = xy[2 * i], y1 = xy[2 * i + 1];
      const x2 = xy[2 * ((i + 1) % n)], y2 = xy[2 * ((i + 1) % n) + 1];
      if ((y1 <= cy) !== (y2 <= cy)) xs.push(x1 + ((cy - y1) * (x2 - x1)) / (y2 - y1));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      for (let x = 0; x < w; x++) if (x + 0.5 > xs[k] && x + 0.5 < xs[k + 1]) mask[y * w + x] = 1;
    }
  }
  return mask;
}

export type Segmentation = number[][] | { size: [number, number]; counts: string };

/** The mask of a segmentation, row-major; polygons are joined (pycocotools merges an annotation's polygons). */
export function segmentationMask(seg: Segmentation, h: number, w: number, rule: 'pycocotools' | 'even-odd' = 'pycocotools'): Uint8Array {
  if (!Array.isArray(seg)) return decodeRuns(countsFromString(seg.counts), seg.size[0], seg.size[1]);
  const mask = new Uint8Array(h * w);
  for (const poly of seg) {
    const m = rule === 'pycocotools' ? decodeRuns(frPoly(poly, h, w), h, w) : evenOddCentres(poly, h, w);
    for (let i = 0; i < mask.length; i++) mask[i] |= m[i];
  }
  return mask;
}

export function iou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && b[i]) inter++;
    if (a[i] || b[i]) union++;
  }
  return union === 0 ? 1 : inter / union;
}
