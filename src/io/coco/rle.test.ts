// COCO RLE against pycocotools' algorithm. Debian has no python3-pycocotools package, so the
// reference strings below were worked out by hand from common/maskApi.c (rleEncode: column-major
// runs starting with zeros; rleToString: counts after the third delta-coded against the one two
// back, then 5 bits per char, 0x20 = more follows, the last char's 0x10 bit is the sign, + 48).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labelComponents, regionBlocks, valueRegion, type Box } from './components.js';
import { blockCounts, compressedRle, countsFromString, countsToString, decodeRuns } from './rle.js';

/** A row-major mask from rows of '0'/'1'. */
const grid = (rows: string[]) => Uint8Array.from(rows.join('').split('').map(Number));

/** rleEncode of maskApi.c, straight: the reference the boxed encoder must equal. */
function rleEncode(mask: Uint8Array, h: number, w: number): number[] {
  const counts: number[] = [];
  let p = 0;
  let c = 0;
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      const v = mask[y * w + x];
      if (v !== p) {
        counts.push(c);
        c = 0;
        p = v;
      }
      c++;
    }
  }
  counts.push(c);
  return counts;
}

/** Column-major runs spelled out: [0s, 1s, 0s, ...] → row-major mask. */
function fromColumnRuns(counts: number[], h: number, w: number): Uint8Array {
  const m = new Uint8Array(h * w);
  let pos = 0;
  counts.forEach((n, i) => {
    for (let j = pos; j < pos + n; j++) if (i % 2) m[(j % h) * w + Math.floor(j / h)] = 1;
    pos += n;
  });
  return m;
}

/** Counts of the 1-pixels of a row-major mask the way annotations get them: runs → blocks → counts. */
const encode = (mask: Uint8Array, h: number, w: number) => blockCounts(regionBlocks(valueRegion(mask, w, h, 1)), w, h);

// [h, w, counts, string]; each string worked by hand (see the file comment), e.g. counts[3] of the
// second case is 2 - 5 = -3: low 5 bits 29, then x >> 5 = -1 with 0x10 set, so no more: 29 + 48 = 'M'.
const HAND: [number, number, number[], string][] = [
  [2, 2, [4], '4'],
  [2, 4, [0, 5, 1, 2], '051M'],
  [10, 13, [100, 16, 14], 'T3`0>'], // 100 = 3·32 + 4: 'T' (4 | 0x20) then '3'; 16 has the sign bit, so '`0'
  [10, 6, [5, 25, 5, 5, 20], '5i05\\O?'], // deltas -20 → '\\O', 15 → '?'
  [25, 6, [0, 110, 5, 10, 25], '0^35lLd0'], // deltas -100 → 'lL', 20 → 'd0'
];

describe('COCO RLE', () => {
  test('hand-worked pycocotools strings: encode, compress, decode', () => {
    for (const [h, w, counts, str] of HAND) {
      const mask = fromColumnRuns(counts, h, w);
      assert.deepEqual(rleEncode(mask, h, w), counts, 'the case itself');
      assert.deepEqual(encode(mask, h, w), counts, `encode ${w}x${h}`);
      assert.equal(countsToString(counts), str, `string of ${counts}`);
      assert.deepEqual(countsFromString(str), counts);
      assert.deepEqual(decodeRuns(counts, h, w), mask);
    }
  });

  test('a small mask by rows: its blocks, counts and string', () => {
    const mask = grid(['0000', '0110', '0100']);
    const blocks = regionBlocks(valueRegion(mask, 4, 3, 1));
    assert.deepEqual([blocks.cols, blocks.rows, [...blocks.xs], [...blocks.ys], [...blocks.grid]], [2, 2, [1, 2, 3], [1, 2, 3], [1, 1, 1, 0]]);
    // Column-major: 0,0,0 | 0,1,1 | 0,1,0 | 0,0,0 → runs 4 zeros, 2 ones, 1 zero, 1 one, 4 zeros.
    assert.deepEqual(blockCounts(blocks, 4, 3), [4, 2, 1, 1, 4]);
    assert.deepEqual(compressedRle(blocks, 4, 3), { size: [3, 4], counts: countsToString([4, 2, 1, 1, 4]) });
    // Deltas from the fourth count on: 1 - 2 = -1 is all ones in 5 bits, 31 + 48 = 'O'; 4 - 1 = 3.
    assert.equal(countsToString([4, 2, 1, 1, 4]), '421O3');
  });

  test('random masks equal rleEncode, whole and per component; strings round-trip, also for counts past 2^31', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let t = 0; t < 300; t++) {
      const h = 1 + Math.floor(rand() * 9);
      const w = 1 + Math.floor(rand() * 9);
      const box: Box = { x0: Math.floor(rand() * w), y0: Math.floor(rand() * h), x1: w - 1, y1: h - 1 };
      box.x1 = box.x0 + Math.floor(rand() * (w - box.x0));
      box.y1 = box.y0 + Math.floor(rand() * (h - box.y0));
      const dens = rand();
      const mask = new Uint8Array(h * w);
      for (let y = box.y0; y <= box.y1; y++) for (let x = box.x0; x <= box.x1; x++) mask[y * w + x] = rand() < dens ? 1 : 0;
      const counts = rleEncode(mask, h, w);
      assert.deepEqual(encode(mask, h, w), counts, `case ${t}`);
      assert.deepEqual(countsFromString(countsToString(counts)), counts);
      assert.deepEqual(decodeRuns(counts, h, w), mask);
      // The components' own RLEs tile the mask: disjoint, and together all of it.
      const joined = new Uint8Array(h * w);
      for (const c of labelComponents(mask, w, h, (v) => v === 1)) {
        const m = decodeRuns(blockCounts(regionBlocks(c), w, h), h, w);
        assert.equal(m.reduce((s, v) => s + v, 0), c.area, `case ${t}: component area`);
        m.forEach((v, i) => { if (v) { assert.equal(joined[i], 0, `case ${t}: components overlap`); joined[i] = 1; } });
      }
      assert.deepEqual(joined, mask, `case ${t}: components cover the mask`);
    }
    const big = [0, 2 ** 31 + 7, 3, 5, 2 ** 32 - 20, 1];
    assert.deepEqual(countsFromString(countsToString(big)), big);
  });

  test('malformed strings and counts are refused', () => {
    assert.throws(() => countsFromString('i'), /ends inside a count/);
    assert.throws(() => countsFromString('4 '), /outside "0".."o"/);
    assert.throws(() => decodeRuns([3], 2, 2), /cover 3 pixels/);
  });
});
