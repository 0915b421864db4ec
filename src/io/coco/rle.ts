// COCO run-length encoding, bit for bit as pycocotools writes it (common/maskApi.c: rleEncode,
// rleToString, rleFrString), because evaluation tools compare the `counts` strings only through
// pycocotools' own decoder and an off-by-one run silently shifts a whole mask.
// Runs go down the columns (column-major, index x * h + y) and always start with a run of zeros.
import type { BlockGrid } from './components.js';

/**
 * The run lengths of a region (pycocotools' rleEncode of its binary mask on a w × h image), from
 * its block grid: every image column of a block column has the same runs, so the work is the
 * blocks plus the counts written, not the region's box.
 */
export function blockCounts(b: BlockGrid, w: number, h: number): number[] {
  const counts: number[] = [];
  let end = 0; // column-major position where the last run of ones ended
  const spans: number[] = [];
  for (let k = 0; k < b.cols; k++) {
    // The column's runs of ones as [from, to) in y, neighbouring block rows joined.
    spans.length = 0;
    for (let r = 0; r < b.rows; r++) {
      if (!b.grid[r * b.cols + k]) continue;
      if (spans.length && spans[spans.length - 1] === b.ys[r]) spans[spans.length - 1] = b.ys[r + 1];
      else spans.push(b.ys[r], b.ys[r + 1]);
    }
    for (let x = b.xs[k]; x < b.xs[k + 1]; x++) {
      for (let i = 0; i < spans.length; i += 2) {
        const from = x * h + spans[i];
        const to = x * h + spans[i + 1];
        // A run reaching the column's foot goes on at the top of the next one: one run, not two.
        if (from === end && counts.length > 0) counts[counts.length - 1] += to - from;
        else counts.push(from - end, to - from);
        end = to;
      }
    }
  }
  if (end < w * h || counts.length === 0) counts.push(w * h - end);
  return counts;
}

/** rleToString: LEB128-like, 5 bits per char + 48, 0x20 = more; counts after the third are deltas to the one two back. */
export function countsToString(counts: readonly number[]): string {
  let s = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    let more = true;
    while (more) {
      // `x & 0x1f` and `x >>= 5` on a C long: arithmetic on numbers, so counts beyond 2^31 stay exact.
      let c = x - Math.floor(x / 32) * 32;
      x = Math.floor(x / 32);
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}

/** rleFrString: the inverse of countsToString (sign-extends the last 5-bit group when its 0x10 bit is set). */
export function countsFromString(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new Error(`RLE string ends inside a count: "${s}"`);
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new Error(`RLE string has a character outside "0".."o" at ${p}: "${s}"`);
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x -= 2 ** (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

/** The mask of run lengths, row-major (index y * w + x), 1 inside; the counts must cover exactly h * w pixels. */
export function decodeRuns(counts: readonly number[], h: number, w: number): Uint8Array {
  const mask = new Uint8Array(h * w);
  let pos = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] < 0 || pos + counts[i] > h * w) throw new Error(`RLE counts do not fit a ${w}x${h} mask (run ${i})`);
    if (i % 2 === 1) {
      for (let j = pos; j < pos + counts[i]; j++) mask[(j % h) * w + Math.floor(j / h)] = 1;
    }
    pos += counts[i];
  }
  if (pos !== h * w) throw new Error(`RLE counts cover ${pos} pixels, a ${w}x${h} mask has ${h * w}`);
  return mask;
}

/** The compressed COCO RLE object of a region. */
export function compressedRle(b: BlockGrid, w: number, h: number): { size: [number, number]; counts: string } {
  return { size: [h, w], counts: countsToString(blockCounts(b, w, h)) };
}
