// Connected components of a class-index map, one instance each. 8-connectivity: pixels of one
// class touching only at a corner are one object, as OpenCV's connectedComponents and skimage's
// label count them by default, so a thin diagonal structure (a pole, a cable) stays one instance
// instead of a spray of single pixels. Holes are then judged with the complementary 4-connectivity
// (the only pairing in which a closed 8-connected ring really encloses something).
// Regions are kept as runs along rows, and shapes are traced on a grid of blocks (see BlockGrid):
// label maps are mostly long runs and rectangles, so nothing after labelling costs a pass over a
// region's bounding box, which for a facade or a road is most of the image, once per region.

/** A box of pixels, inclusive: [x0..x1] × [y0..y1]. */
export interface Box { x0: number; y0: number; x1: number; y1: number }

/** Pixels as runs along rows, in raster order: (y, first x, last x) triples. */
export interface Region {
  runs: Int32Array;
  /** Pixel count. */
  area: number;
  box: Box;
}

export interface Component extends Region {
  /** 1-based, in raster order of the component's first pixel. */
  id: number;
  classIndex: number;
}

/**
 * Labels every connected region of each class for which `wanted(classIndex)` holds, numbered in
 * raster order of the region's first pixel (so ids, and the annotations made from them, are
 * reproducible): runs of equal pixels along each row, joined with union-find to the runs they touch
 * in the row above.
 */
export function labelComponents(classes: ArrayLike<number>, w: number, h: number, wanted: (classIndex: number) => boolean): Component[] {
  // Asked once per class value: 0 not yet asked, 1 wanted, 2 not (class values are at most 16 bits).
  const want = new Uint8Array(65536);
  let cap = 4 * (w + h);
  let runs = new Int32Array(3 * cap);
  let runClass = new Int32Array(cap);
  let parent = new Int32Array(cap);
  const grow = () => {
    cap *= 2;
    const r = new Int32Array(3 * cap); r.set(runs); runs = r;
    const c = new Int32Array(cap); c.set(runClass); runClass = c;
    const p = new Int32Array(cap); p.set(parent); parent = p;
  };
  const find = (a: number) => {
    while (parent[a] !== a) a = parent[a] = parent[parent[a]];
    return a;
  };
  // The smaller root wins, so a region's root is its first run in raster order.
  const union = (a: number, b: number) => {
    const ra = find(a);
    const rb = find(b);
    if (ra < rb) parent[rb] = ra;
    else if (rb < ra) parent[ra] = rb;
  };
  let n = 0;
  let above = 0; // first run of the previous row
  for (let y = 0; y < h; y++) {
    const first = n;
    const row = y * w;
    let j = above;
    for (let x = 0; x < w;) {
      const c = classes[row + x];
      let e = x;
      while (e + 1 < w && classes[row + e + 1] === c) e++;
      if (want[c] === 0) want[c] = wanted(c) ? 1 : 2;
      if (want[c] === 1) {
        if (n === cap) grow();
        runs[3 * n] = y;
        runs[3 * n + 1] = x;
        runs[3 * n + 2] = e;
        runClass[n] = c;
        parent[n] = n;
        // 8-connectivity: a run above touches this one if it reaches one column past either end.
        while (j < first && runs[3 * j + 2] < x - 1) j++;
        for (let k = j; k < first && runs[3 * k + 1] <= e + 1; k++) if (runClass[k] === c) union(n, k);
        n++;
      }
      x = e + 1;
    }
    above = first;
  }
  // Component ids in order of their roots; then each component's runs, still in raster order.
  const ids = new Int32Array(n);
  const sizes: number[] = [0];
  for (let r = 0; r < n; r++) {
    const root = find(r);
    if (root === r) sizes.push(0);
    ids[r] = root === r ? sizes.length - 1 : ids[root];
    sizes[ids[r]]++;
  }
  const components: Component[] = [];
  for (let id = 1; id < sizes.length; id++) {
    components.push({ id, classIndex: -1, runs: new Int32Array(3 * sizes[id]), area: 0, box: { x0: w, y0: h, x1: -1, y1: -1 } });
  }
  const fill = new Int32Array(sizes.length);
  for (let r = 0; r < n; r++) {
    const c = components[ids[r] - 1];
    const y = runs[3 * r], x0 = runs[3 * r + 1], x1 = runs[3 * r + 2];
    const at = 3 * fill[c.id]++;
    c.runs[at] = y;
    c.runs[at + 1] = x0;
    c.runs[at + 2] = x1;
    if (c.area === 0) {
      c.classIndex = runClass[r];
      c.box.y0 = y;
    }
    c.area += x1 - x0 + 1;
    if (x0 < c.box.x0) c.box.x0 = x0;
    if (x1 > c.box.x1) c.box.x1 = x1;
    c.box.y1 = y;
  }
  return components;
}

/** All pixels equal to `value`, connected or not (a stuff class); area 0 when there are none. */
export function valueRegion(data: ArrayLike<number>, w: number, h: number, value: number): Region {
  const out: number[] = [];
  const box: Box = { x0: w, y0: h, x1: -1, y1: -1 };
  let area = 0;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      if (data[row + x] !== value) continue;
      let e = x;
      while (e + 1 < w && data[row + e + 1] === value) e++;
      out.push(y, x, e);
      area += e - x + 1;
      if (box.y0 === h) box.y0 = y;
      box.y1 = y;
      if (x < box.x0) box.x0 = x;
      if (e > box.x1) box.x1 = e;
      x = e;
    }
  }
  return { runs: Int32Array.from(out), area, box };
}

/**
 * A region on a grid of blocks: its box with runs of identical rows merged, then runs of identical
 * columns. The region is exactly this grid scaled up block by block, so its pixel-edge outline,
 * its holes and its column-major runs are the grid's mapped through `xs` / `ys`; tracing and the
 * hole test then cost the number of blocks, which for the mostly rectangular parts of
 * segmentation masks (windows, doors, facades) is a handful instead of thousands of pixels.
 */
export interface BlockGrid {
  /** 1 on the region's blocks (row-major, cols × rows). */
  grid: Uint8Array;
  cols: number;
  rows: number;
  /** Image x of each block column's left edge, then the box's right edge (cols + 1 numbers). */
  xs: Int32Array;
  /** Image y of each block row's top edge, then the box's bottom edge (rows + 1 numbers). */
  ys: Int32Array;
}

/** The block grid of a region (a component or a stuff class), built from its runs alone. */
export function regionBlocks(r: Region): BlockGrid {
  if (r.area === 0) return { grid: new Uint8Array(0), cols: 0, rows: 0, xs: Int32Array.of(0), ys: Int32Array.of(0) };
  const { x0, x1, y0, y1 } = r.box;
  const bw = x1 - x0 + 1;
  const runs = r.runs;
  const nRuns = runs.length / 3;
  // A new block column wherever some run starts or the pixel after a run's end begins.
  const cut = new Uint8Array(bw + 1);
  cut[0] = 1;
  for (let k = 0; k < nRuns; k++) {
    cut[runs[3 * k + 1] - x0] = 1;
    cut[runs[3 * k + 2] + 1 - x0] = 1;
  }
  const colOf = new Int32Array(bw);
  const xs: number[] = [];
  for (let x = 0; x < bw; x++) {
    if (cut[x]) xs.push(x0 + x);
    colOf[x] = xs.length - 1;
  }
  xs.push(x1 + 1);
  // A new block row wherever a row's runs differ from the row above (rows without runs included).
  const rowStart: number[] = []; // index of each kept row's first run
  const ys: number[] = [];
  let k = 0;
  let prevFrom = 0;
  let prevTo = 0;
  for (let y = y0; y <= y1; y++) {
    const from = k;
    while (k < nRuns && runs[3 * k] === y) k++;
    let same = y > y0 && k - from === prevTo - prevFrom;
    for (let i = 0; same && i < k - from; i++) {
      same = runs[3 * (from + i) + 1] === runs[3 * (prevFrom + i) + 1] && runs[3 * (from + i) + 2] === runs[3 * (prevFrom + i) + 2];
    }
    if (!same) {
      ys.push(y);
      rowStart.push(from);
    }
    prevFrom = from;
    prevTo = k;
  }
  ys.push(y1 + 1);
  const cols = xs.length - 1;
  const rows = ys.length - 1;
  const grid = new Uint8Array(cols * rows);
  for (let i = 0; i < rows; i++) {
    for (let q = rowStart[i]; q < nRuns && runs[3 * q] === ys[i]; q++) {
      const a = colOf[runs[3 * q + 1] - x0];
      const b = colOf[runs[3 * q + 2] - x0];
      grid.fill(1, i * cols + a, i * cols + b + 1);
    }
  }
  return { grid, cols, rows, xs: Int32Array.from(xs), ys: Int32Array.from(ys) };
}

/**
 * Whether the blocks enclose some that are not the region's: a 4-connected flood from the grid's
 * edge over the other blocks misses some. Outside the image counts as open, so a bay that reaches
 * the image border is not a hole. (Block adjacency is pixel adjacency, so the grid answers for the mask.)
 */
export function hasHoles(crop: Uint8Array, bw: number, bh: number): boolean {
  const seen = new Uint8Array(bw * bh);
  const stack = new Int32Array(bw * bh);
  let top = 0;
  let outside = 0;
  const push = (p: number) => {
    if (crop[p] === 0 && seen[p] === 0) {
      seen[p] = 1;
      stack[top++] = p;
    }
  };
  for (let x = 0; x < bw; x++) {
    push(x);
    push((bh - 1) * bw + x);
  }
  for (let y = 0; y < bh; y++) {
    push(y * bw);
    push(y * bw + bw - 1);
  }
  while (top > 0) {
    const p = stack[--top];
    outside++;
    const x = p % bw;
    if (x > 0) push(p - 1);
    if (x < bw - 1) push(p + 1);
    if (p >= bw) push(p - bw);
    if (p < (bh - 1) * bw) push(p + bw);
  }
  let background = 0;
  for (let i = 0; i < crop.length; i++) if (crop[i] === 0) background++;
  return outside < background;
}
