// `synthset coco` as outside scripts see it: the real command on a folder of tiny PNGs, then the
// JSON read back and checked against the masks, and the one-line errors for bad input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { CocoJson } from './index.js';
import { segmentationMask } from './test_raster.js';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'synthset.js');

function synthset(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'coco', ...args], {
    encoding: 'utf8',
    env: { ...process.env, SYNTHSET_NO_REEXEC: '1', SYNTHSET_NATIVE: '0' },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, errors: r.stderr.split('\n').filter((l) => l.startsWith('synthset: error: ')) };
}

const W = 12;
const H = 10;

/** A mask: background 0, a class-1 square, a class-2 ring (holes: RLE), class 3 (sky, stuff) on the top row. */
function maskData(shift: number): Buffer {
  const m = Buffer.alloc(W * H);
  for (let y = 2; y < 5; y++) for (let x = 1 + shift; x < 4 + shift; x++) m[y * W + x] = 1;
  for (let y = 4; y < 9; y++) for (let x = 6; x < 11; x++) m[y * W + x] = y === 6 && x === 8 ? 0 : 2;
  for (let x = 0; x < W; x++) m[x] = 3;
  return m;
}

const grey = (data: Buffer, w = W, h = H) => sharp(data, { raw: { width: w, height: h, channels: 1 } }).toColourspace('b-w').png();
const photo = (seed: number, w = W, h = H) => sharp(Buffer.from(Array.from({ length: w * h * 3 }, (_, i) => (i * seed * 31) % 256)), { raw: { width: w, height: h, channels: 3 } });

let root: string;
const LABELS = '0 background\n1 cat 5 extra\n2 dog\n3 sky\n';

async function dataset(name: string, edit?: (dir: string) => Promise<void>): Promise<{ images: string; masks: string; labels: string; out: string }> {
  const dir = join(root, name);
  const images = join(dir, 'photos');
  const masks = join(dir, 'labels');
  mkdirSync(join(images, 'sub'), { recursive: true });
  mkdirSync(join(masks, 'sub'), { recursive: true });
  await photo(1).png().toFile(join(images, 'a.png'));
  await photo(2).jpeg().toFile(join(images, 'b.jpg'));
  await photo(3).png().toFile(join(images, 'sub', 'c.png'));
  await photo(4).jpeg().toFile(join(images, 'd.jpg'));
  await grey(maskData(0)).toFile(join(masks, 'a.png'));
  await grey(maskData(1)).toFile(join(masks, 'b.png'));
  await grey(maskData(2)).toFile(join(masks, 'sub', 'c.png'));
  await grey(maskData(0)).toFile(join(masks, 'e.png'));
  writeFileSync(join(dir, 'labels.txt'), LABELS);
  await edit?.(dir);
  return { images, masks, labels: join(dir, 'labels.txt'), out: join(dir, 'out', 'annotations.json') };
}

const args = (d: { images: string; masks: string; labels: string; out: string }, ...more: string[]) =>
  ['--images', d.images, '--masks', d.masks, '--labels', d.labels, '--out', d.out, '--quiet', ...more];

describe('synthset coco', () => {
  before(() => { root = mkdtempSync(join(tmpdir(), 'synthset-coco-')); });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('writes instances JSON for the images with masks; reports the unmatched ones', async () => {
    const d = await dataset('ok');
    const r = synthset(...args(d, '--stuff', 'sky'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /synthset: 1 image without a mask, skipped: d\.jpg/);
    assert.match(r.stderr, /synthset: 1 mask without an image, skipped: e\.png/);
    assert.match(r.stdout, /3 images, 3 categories, 9 annotations \(3 polygon, 3 RLE with holes, 3 stuff\)/);
    const j = JSON.parse(readFileSync(d.out, 'utf8')) as CocoJson;
    assert.deepEqual(Object.keys(j).sort(), ['annotations', 'categories', 'images', 'info', 'licenses']);
    for (const k of ['description', 'version', 'date_created'] as const) assert.ok(j.info[k], `info.${k}`);
    assert.deepEqual(j.licenses, []);
    assert.deepEqual(j.images.map((i) => [i.id, i.file_name, i.width, i.height]), [[1, 'a.png', W, H], [2, 'b.jpg', W, H], [3, 'sub/c.png', W, H]]);
    assert.deepEqual(j.categories, [{ id: 1, name: 'cat', supercategory: 'thing' }, { id: 2, name: 'dog', supercategory: 'thing' }, { id: 3, name: 'sky', supercategory: 'stuff' }]);
    assert.deepEqual(j.annotations.map((a) => a.id), j.annotations.map((_, k) => k + 1), 'ids unique, from 1');
    const shifts = [0, 1, 2];
    for (const a of j.annotations) {
      const img = j.images.find((i) => i.id === a.image_id)!;
      assert.ok(j.categories.some((c) => c.id === a.category_id), 'category exists');
      const [x, y, w, h] = a.bbox;
      assert.ok(x >= 0 && y >= 0 && w >= 1 && h >= 1 && x + w <= img.width && y + h <= img.height, `bbox ${a.bbox} inside the image`);
      // Decoded, each annotation is exactly the class's pixels in that image (one component per class here).
      const mask = maskData(shifts[img.id - 1]);
      const want = Uint8Array.from(mask, (v) => (v === a.category_id ? 1 : 0));
      assert.deepEqual(segmentationMask(a.segmentation, H, W, 'pycocotools'), want, `image ${img.id} class ${a.category_id}`);
      assert.equal(a.area, want.reduce((s, v) => s + v, 0));
      assert.equal(a.iscrowd, a.category_id === 3 ? 1 : 0);
      assert.equal(Array.isArray(a.segmentation), a.category_id === 1, 'square as polygon; ring and stuff as RLE');
    }
    assert.equal(j.annotations.filter((a) => a.category_id === 3).length, 3, 'stuff: one per image');
  });

  test('errors: one line naming the file and what is wrong, no output file', async () => {
    const cases: [string, (dir: string) => Promise<void>, RegExp, string[]?][] = [
      ['missing-masks', async (dir) => rmSync(join(dir, 'labels'), { recursive: true }), /labels: no such folder \(the masks folder\)/],
      ['bad-labels', async (dir) => writeFileSync(join(dir, 'labels.txt'), '0 background\ncat\n'), /labels\.txt line 2: expected "<index> <name>".*got "cat"/],
      ['stray', async (dir) => {
        const m = maskData(1);
        m[50] = 9;
        m[51] = 7;
        await grey(m).toFile(join(dir, 'labels', 'b.png'));
      }, /labels\/b\.png: mask values 7, 9 are not class indices in .*labels\.txt \(it has 0, 1, 2, 3\)/],
      ['size', async (dir) => { await grey(Buffer.alloc((W + 1) * H), W + 1, H).toFile(join(dir, 'labels', 'a.png')); },
        /labels\/a\.png is 13x10 but its image .*photos\/a\.png is 12x10/],
      ['rgb', async (dir) => {
        const rgb = Buffer.alloc(W * H * 3);
        rgb[3 * 5] = 200;
        await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).png().toFile(join(dir, 'labels', 'a.png'));
      }, /labels\/a\.png: an RGB mask whose channels differ \(pixel 5,0 is 200,0,0\)/],
      ['stuff-name', async () => undefined, /--stuff tree: no class with that name/, ['--stuff', 'tree']],
    ];
    for (const [name, edit, message, extra] of cases) {
      const d = await dataset(name, edit);
      const r = synthset(...args(d, ...(extra ?? [])));
      assert.notEqual(r.code, 0, `${name}: exit code`);
      assert.equal(r.errors.length, 1, `${name}: ${r.stderr}`);
      assert.match(r.errors[0], message, name);
      assert.doesNotMatch(r.stderr, /^\s+at /m, `${name}: no stack trace`);
      assert.ok(!existsSync(d.out), `${name}: no output written`);
    }
  });
});
