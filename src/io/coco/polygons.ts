// Polygons of a region along its pixel edges, from d3-contour's marching squares.
// d3-contour is used for the part that is easy to get subtly wrong: stitching cell segments into
// closed rings (it treats everything outside the grid as empty, so rings at the image border close)
// and telling exterior rings from holes. Its rings run through the midpoints between pixel centres
// and cut each corner pixel diagonally; here every such diagonal is replaced by the two pixel edges
// it cuts across, so vertices land on pixel corners. Then a pixel is inside the polygon exactly when
// its centre is, which is the rule pycocotools (rleFrPoly) and other centre-sampling rasterisers use,
// and rasterising the polygons gives the region back pixel for pixel.
// Coordinates are COCO's: pixel (x, y) covers [x, x+1] × [y, y+1].
import { contours } from 'd3-contour';
import type { BlockGrid } from './components.js';

export interface RegionPolygons {
  /** Flat COCO polygons [x1, y1, x2, y2, ...], one per exterior ring. */
  polygons: number[][];
  /** d3-contour found a hole ring (a region with holes needs RLE: COCO polygons cannot carry holes). */
  holes: boolean;
}

/** The polygons of a component's blocks (components.ts), in image coordinates. */
export function regionPolygons(b: BlockGrid): RegionPolygons {
  // smooth(false): the binary values would interpolate to the midpoints anyway; skipping it is faster.
  // d3 reads values by index only, so a typed array serves (its types ask for number[]).
  const shape = contours().size([b.cols, b.rows]).smooth(false).contour(b.grid as unknown as number[], 0.5);
  const polygons: number[][] = [];
  let holes = false;
  for (const rings of shape.coordinates) {
    if (rings.length > 1) holes = true;
    const flat = pixelEdgeRing(rings[0], b.xs, b.ys);
    if (flat.length >= 6) polygons.push(flat);
  }
  return { polygons, holes };
}

/**
 * A d3 ring (closed: last point = first) turned into a flat ring on block corners, mapped to image
 * coordinates by `xs` / `ys` (block edge k is at image x xs[k]). Midpoints sit on half-integers in
 * one coordinate; a diagonal step joins a midpoint of a horizontal edge and one of a vertical edge,
 * and the corner between them takes the whole coordinate of each.
 */
export function pixelEdgeRing(ring: readonly (readonly number[])[], xs: ArrayLike<number>, ys: ArrayLike<number>): number[] {
  const pts: number[] = [];
  const n = ring.length - 1;
  for (let i = 0; i < n; i++) {
    const [ax, ay] = ring[i];
    const [bx, by] = ring[i + 1];
    pts.push(ax, ay);
    if (ax !== bx && ay !== by) pts.push(Number.isInteger(ax) ? ax : bx, Number.isInteger(ay) ? ay : by);
  }
  // Every step is now horizontal or vertical: keep only the points where the direction turns.
  const m = pts.length / 2;
  const out: number[] = [];
  for (let i = 0; i < m; i++) {
    const p = (i + m - 1) % m;
    const q = (i + 1) % m;
    const horizontalIn = pts[2 * p + 1] === pts[2 * i + 1];
    const horizontalOut = pts[2 * i + 1] === pts[2 * q + 1];
    if (horizontalIn !== horizontalOut) out.push(xs[pts[2 * i]], ys[pts[2 * i + 1]]);
  }
  return out;
}
