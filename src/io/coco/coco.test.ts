// Masks → COCO annotations → masks again, on shapes whose pixels are known by construction:
// polygons rasterised by the pycocotools rule (ported) and by the plain pixel-centre rule, RLE decoded.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { annotateMask, parseLabels, planClasses, type MaskAnnotation } from './index.js';
import type { LabelMap } from '../../data/label_map.js';
import { iou, segmentationMask } from './test_raster.js';

const W = 40;
const H = 32;
const LABELS = '0 background\n1 square 7 extra columns\n2 ring\n3 blob\n4 sky\n';

interface Shape { name: string; cls: number; pixels: [number, number][]; expect: 'polygon' | 'rle' }

const rect = (x0: number, y0: number, x1: number, y1: number): [number, number][] => {
  const out: [number, number][] = [];
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) out.push([x, y]);
  return out;
};
const minus = (a: [number, number][], b: [number, number][]) => a.filter(([x, y]) => !b.some(([u, v]) => u === x && v === y));

const SHAPES: Shape[] = [
  { name: 'square', cls: 1, pixels: rect(2, 2, 7, 7), expect: 'polygon' },
  { name: 'ring with a hole', cls: 2, pixels: minus(rect(12, 2, 21, 11), rect(15, 5, 18, 8)), expect: 'rle' },
  { name: 'square touching a blob', cls: 1, pixels: rect(24, 2, 29, 7), expect: 'polygon' },
  { name: 'blob touching a square', cls: 3, pixels: rect(30, 2, 33, 7), expect: 'polygon' },
  { name: 'L at the image border', cls: 3, pixels: [...rect(0, 26, 4, 31), ...rect(5, 29, 9, 31)], expect: 'polygon' },
  { name: 'one pixel', cls: 1, pixels: [[20, 20]], expect: 'polygon' },
  { name: 'diagonal pair (one 8-connected component)', cls: 3, pixels: [[30, 20], [31, 21]], expect: 'polygon' },
  {
    name: 'diamond ring closed only through corners', cls: 2,
    pixels: [[10, 20], [11, 19], [12, 18], [13, 19], [14, 20], [13, 21], [12, 22], [11, 21]], expect: 'rle',
  },
  { name: 'U open at the top', cls: 1, pixels: minus(rect(2, 16, 8, 23), rect(4, 16, 6, 21)), expect: 'polygon' },
  { name: 'right border bar', cls: 1, pixels: rect(37, 20, 39, 31), expect: 'polygon' },
];
const STUFF = 4;
const STUFF_PIXELS = [...rect(0, 14, 39, 15), ...rect(20, 24, 25, 24)];

function sceneMap(): LabelMap {
  const data = new Uint8Array(W * H);
  for (const s of SHAPES) for (const [x, y] of s.pixels) data[y * W + x] = s.cls;
  for (const [x, y] of STUFF_PIXELS) data[y * W + x] = STUFF;
  return { width: W, height: H, data };
}

const maskOf = (pixels: [number, number][]) => {
  const m = new Uint8Array(W * H);
  for (const [x, y] of pixels) m[y * W + x] = 1;
  return m;
};

function bboxOf(pixels: [number, number][]): number[] {
  const xs = pixels.map((p) => p[0]);
  const ys = pixels.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs) - Math.min(...xs) + 1, Math.max(...ys) - Math.min(...ys) + 1];
}

const plan = planClasses(parseLabels(LABELS, 'labels.txt'), { stuff: ['sky'] }, 'labels.txt');

describe('masks to COCO annotations', () => {
  const anns = annotateMask(sceneMap(), plan);

  test('one annotation per shape, matched by class and bbox; area and bbox exact', () => {
    const things = anns.filter((a) => !a.iscrowd);
    assert.equal(things.length, SHAPES.length);
    for (const s of SHAPES) {
      const a = things.find((t) => t.category_id === s.cls && t.bbox.join() === bboxOf(s.pixels).join());
      assert.ok(a, `no annotation for ${s.name}`);
      assert.equal(a.area, s.pixels.length, s.name);
      assert.equal(Array.isArray(a.segmentation) ? 'polygon' : 'rle', s.expect, s.name);
    }
    assert.ok(!anns.some((a) => a.category_id === 0), 'background gets no annotations');
  });

  test('polygons come back pixel for pixel (centre rule) and with IoU >= 0.95 through pycocotools rleFrPoly; RLE exactly', () => {
    const ious: number[] = [];
    for (const s of SHAPES) {
      const a = anns.find((t) => !t.iscrowd && t.category_id === s.cls && t.bbox.join() === bboxOf(s.pixels).join())!;
      const want = maskOf(s.pixels);
      if (Array.isArray(a.segmentation)) {
        for (const p of a.segmentation) {
          assert.ok(p.length >= 6 && p.length % 2 === 0, `${s.name}: polygon of ${p.length} numbers`);
          for (let i = 0; i < p.length; i += 2) assert.ok(p[i] >= 0 && p[i] <= W && p[i + 1] >= 0 && p[i + 1] <= H, `${s.name}: vertex inside the image`);
        }
        assert.deepEqual(segmentationMask(a.segmentation, H, W, 'even-odd'), want, `${s.name}: centre rule`);
        const v = iou(segmentationMask(a.segmentation, H, W, 'pycocotools'), want);
        ious.push(v);
        assert.ok(v >= 0.95, `${s.name}: IoU ${v} through rleFrPoly`);
      } else {
        assert.deepEqual(a.segmentation.size, [H, W]);
        assert.deepEqual(segmentationMask(a.segmentation, H, W), want, `${s.name}: RLE`);
      }
    }
    assert.ok(ious.length >= 7);
    // Vertices on pixel corners: pycocotools gives every shape back exactly, not merely above 0.95.
    assert.deepEqual(ious, ious.map(() => 1));
  });

  test('the diagonal pair is one annotation of two polygons (8-connectivity)', () => {
    const a = anns.find((t) => t.category_id === 3 && t.area === 2)!;
    assert.equal((a.segmentation as number[][]).length, 2);
  });

  test('a stuff class gives one RLE annotation with iscrowd 1 covering all its pixels', () => {
    const stuff = anns.filter((a) => a.category_id === STUFF);
    assert.equal(stuff.length, 1);
    assert.equal(stuff[0].iscrowd, 1);
    assert.ok(!Array.isArray(stuff[0].segmentation));
    assert.deepEqual(segmentationMask(stuff[0].segmentation, H, W), maskOf(STUFF_PIXELS));
    assert.equal(stuff[0].area, STUFF_PIXELS.length);
    assert.deepEqual(stuff[0].bbox, bboxOf(STUFF_PIXELS));
  });

  test('--min-area drops smaller components and stuff regions', () => {
    const big = annotateMask(sceneMap(), plan, 30);
    assert.ok(big.every((a) => a.area >= 30));
    assert.equal(big.filter((a) => !a.iscrowd).length, SHAPES.filter((s) => s.pixels.length >= 30).length);
    assert.equal(big.filter((a) => a.iscrowd).length, 1);
    assert.equal(annotateMask(sceneMap(), plan, STUFF_PIXELS.length + 1).filter((a) => a.iscrowd).length, 0);
  });
});

describe('random label maps', () => {
  test('annotations are exactly the 8-connected components of each class', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const p = planClasses(parseLabels('0 background\n1 a\n2 b\n3 c\n', 'l'), {}, 'l');
    for (let t = 0; t < 12; t++) {
      const w = 20 + Math.floor(rand() * 30);
      const h = 20 + Math.floor(rand() * 30);
      // Blocky blobs: a coarse random grid upsampled, then single-pixel noise on top.
      const cell = 2 + Math.floor(rand() * 4);
      const coarse = Array.from({ length: Math.ceil(w / cell) * Math.ceil(h / cell) }, () => Math.floor(rand() * 4));
      const data = new Uint8Array(w * h);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        data[y * w + x] = rand() < 0.06 ? Math.floor(rand() * 4) : coarse[Math.floor(y / cell) * Math.ceil(w / cell) + Math.floor(x / cell)];
      }
      const anns = annotateMask({ width: w, height: h, data }, p);
      checkComponents(anns, data, w, h, t);
    }
  });
});

/** Every annotation is one 8-connected piece of its class, same-class annotations never touch, and together they cover the class. */
function checkComponents(anns: MaskAnnotation[], data: Uint8Array, w: number, h: number, t: number): void {
  const owner = new Int32Array(w * h).fill(-1);
  anns.forEach((a, k) => {
    const m = segmentationMask(a.segmentation, h, w, 'even-odd');
    if (Array.isArray(a.segmentation)) {
      const v = iou(segmentationMask(a.segmentation, h, w, 'pycocotools'), m);
      assert.ok(v >= 0.95, `map ${t}: rleFrPoly IoU ${v}`);
    }
    let area = 0;
    let first = -1;
    for (let i = 0; i < m.length; i++) {
      if (!m[i]) continue;
      assert.equal(data[i], a.category_id, `map ${t}: annotation ${k} covers a pixel of another class`);
      assert.equal(owner[i], -1, `map ${t}: two annotations share a pixel`);
      owner[i] = k;
      area++;
      if (first < 0) first = i;
    }
    assert.equal(area, a.area, `map ${t}: area`);
    // Connected: a flood from its first pixel reaches all of it.
    const seen = new Uint8Array(w * h);
    const stack = [first];
    seen[first] = 1;
    let reached = 0;
    while (stack.length) {
      const q = stack.pop()!;
      reached++;
      const x = q % w, y = Math.floor(q / w);
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx, ny = y + dy;
        const n = ny * w + nx;
        if (nx >= 0 && ny >= 0 && nx < w && ny < h && m[n] && !seen[n]) { seen[n] = 1; stack.push(n); }
      }
    }
    assert.equal(reached, area, `map ${t}: annotation ${k} is not one 8-connected piece`);
  });
  for (let i = 0; i < w * h; i++) {
    if (data[i] === 0) assert.equal(owner[i], -1, 'background annotated');
    else assert.notEqual(owner[i], -1, `map ${t}: pixel ${i} of class ${data[i]} not annotated`);
    const x = i % w, y = Math.floor(i / w);
    for (const [dx, dy] of [[1, 0], [0, 1], [1, 1], [-1, 1]]) {
      const nx = x + dx, ny = y + dy;
      if (nx < 0 || nx >= w || ny >= h) continue;
      const n = ny * w + nx;
      if (data[n] === data[i] && data[i] !== 0) assert.equal(owner[n], owner[i], `map ${t}: touching pixels of one class in two annotations`);
    }
  }
}

describe('labels file and class plan', () => {
  test('facade-style lines, extra columns ignored, background found by name', () => {
    const c = parseLabels('1 background 1\r\n2 facade 2\n\n3 window 10\n', 'l.txt');
    assert.deepEqual(c, [{ index: 1, name: 'background' }, { index: 2, name: 'facade' }, { index: 3, name: 'window' }]);
    assert.equal(planClasses(c, {}, 'l.txt').background, 1);
    assert.equal(planClasses(c, { background: 2 }, 'l.txt').background, 2);
    assert.deepEqual([...planClasses(c, { stuff: ['3', 'facade'] }, 'l.txt').stuff], [3, 2]);
  });

  test('malformed lines, twins and unknown classes are errors naming the file and line', () => {
    assert.throws(() => parseLabels('1 background\nwindow 3\n', 'l.txt'), /l\.txt line 2: expected "<index> <name>".*got "window 3"/);
    assert.throws(() => parseLabels('1 a\n1 b\n', 'l.txt'), /line 2: class index 1 given twice/);
    assert.throws(() => parseLabels('\n', 'l.txt'), /no classes/);
    const c = parseLabels('0 background\n1 a\n', 'l.txt');
    assert.throws(() => planClasses(c, { background: 5 }, 'l.txt'), /--background 5: not a class index/);
    assert.throws(() => planClasses(c, { stuff: ['sky'] }, 'l.txt'), /--stuff sky: no class with that name/);
    assert.throws(() => planClasses(c, { stuff: ['0'] }, 'l.txt'), /background class/);
  });
});
