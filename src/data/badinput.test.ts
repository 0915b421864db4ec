// Bad input through `inspectFolder`: every kind of broken file is named with its reason and skipped,
// or thrown in strict mode. Fixtures are generated into a temp folder; all images are tiny.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { hugePngHeader, noisePng } from './badinput_fixtures.js';
import { DataError } from './errors.js';
import { inspectFolder, requireClasses } from './inspect.js';
import { dhash, dhashFromGrey, forEachNearPair, hamming, parsePhashHex, phashHex } from './phash.js';

let root: string;
const reasonOf = (r: { problems: { file: string; reason: string }[] }, suffix: string) =>
  r.problems.find((p) => p.file.endsWith(suffix))?.reason;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'synthset-badinput-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('phash', () => {
  test('bit layout, hamming and hex round trip', () => {
    const grey = Array.from({ length: 72 }, (_, i) => (i % 9) * 10); // rising rows: every bit 0
    assert.deepEqual(dhashFromGrey(grey), { hi: 0, lo: 0 });
    const falling = grey.map((v) => 255 - v);
    const h = dhashFromGrey(falling);
    assert.equal(phashHex(h), 'ffffffffffffffff');
    assert.equal(hamming(h, { hi: 0, lo: 0 }), 64);
    assert.equal(hamming(parsePhashHex('00000000000000f1'), { hi: 0, lo: 0 }), 5);
    const pairs: number[][] = [];
    forEachNearPair([{ hi: 0, lo: 0 }, { hi: 0, lo: 3 }, { hi: 1, lo: 0xffffffff }], 2, (i, j, d) => pairs.push([i, j, d]));
    assert.deepEqual(pairs, [[0, 1, 2]]);
  });

  test('a re-encoded image stays near, a different one is far', async () => {
    const dir = join(root, 'phash');
    mkdirSync(dir);
    await noisePng(join(dir, 'a.png'), 1);
    await noisePng(join(dir, 'b.png'), 2);
    await sharp(join(dir, 'a.png')).resize(40, 40).jpeg({ quality: 75 }).toFile(join(dir, 'a.jpg'));
    const [a, b, a2] = await Promise.all(['a.png', 'b.png', 'a.jpg'].map((f) => dhash(join(dir, f), 1e6)));
    assert.ok(hamming(a, a2) <= 5, `re-encoded distance ${hamming(a, a2)}`);
    assert.ok(hamming(a, b) > 12, `unrelated distance ${hamming(a, b)}`);
  });
});

describe('inspectFolder on bad input', () => {
  let ds: string;
  before(async () => {
    ds = join(root, 'ds');
    for (const c of ['cat', 'dog', 'empty', 'chat noir 猫']) mkdirSync(join(ds, c), { recursive: true });
    for (let i = 0; i < 4; i++) await noisePng(join(ds, 'cat', `c${i}.png`), 10 + i);
    for (let i = 0; i < 3; i++) await noisePng(join(ds, 'dog', `d${i}.png`), 20 + i);
    await noisePng(join(ds, 'chat noir 猫', 'é t ü.png'), 30);
    copyFileSync(join(ds, 'cat', 'c0.png'), join(ds, 'dog', 'copy of c0.png'));
    await sharp(join(ds, 'cat', 'c1.png')).jpeg({ quality: 80 }).toFile(join(ds, 'cat', 'c1 again.jpg'));
    writeFileSync(join(ds, 'cat', 'zero.jpg'), '');
    writeFileSync(join(ds, 'dog', 'notes.png'), 'this is text, not a picture\n');
    const jpeg = await sharp(join(ds, 'cat', 'c2.png')).resize(64, 64).jpeg({ quality: 90 }).toBuffer();
    writeFileSync(join(ds, 'dog', 'truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length * 0.6)));
    writeFileSync(join(ds, 'dog', 'huge.png'), hugePngHeader(20000, 20000));
    symlinkSync('self.png', join(ds, 'cat', 'self.png')); // points at itself: ELOOP
    symlinkSync('.', join(ds, 'cat', 'again')); // a folder loop: must not be walked forever
  });

  test('counts readable images per class, unicode and spaces included', async () => {
    const r = await inspectFolder(ds);
    assert.equal(r.layout, 'imagefolder');
    assert.deepEqual(r.classes, { cat: 5, 'chat noir 猫': 1, dog: 4, empty: 0 });
    assert.equal(r.images, 10);
    assert.deepEqual(r.sizes, { '32x32': 10 });
    assert.deepEqual(r.formats, { png: 9, jpeg: 1 });
    assert.ok(!r.problems.some((p) => p.file.includes('é t ü')), 'the unicode file is fine');
  });

  test('each bad file is skipped with a reason naming it', async () => {
    const r = await inspectFolder(ds);
    assert.match(reasonOf(r, 'zero.jpg') ?? '', /empty file \(0 bytes\)/);
    assert.match(reasonOf(r, 'notes.png') ?? '', /not a readable image/);
    assert.match(reasonOf(r, 'truncated.jpg') ?? '', /cannot decode/);
    assert.match(reasonOf(r, 'empty') ?? '', /empty class folder/);
    assert.match(reasonOf(r, 'self.png') ?? '', /symlink loop/);
    const huge = reasonOf(r, 'huge.png') ?? '';
    assert.match(huge, /20000x20000/);
    assert.match(huge, /above the limit of 50000000/);
    assert.equal(r.problems.length, 6, JSON.stringify(r.problems));
  });

  test('the pixel limit is read from the header, before any decoding', async () => {
    const dir = join(root, 'huge');
    mkdirSync(dir);
    writeFileSync(join(dir, 'huge.png'), hugePngHeader(20000, 20000));
    const rss = process.memoryUsage().rss;
    const t = performance.now();
    const r = await inspectFolder(dir, { maxPixels: 1_000_000 });
    assert.match(r.problems[0].reason, /20000x20000 = 400000000 pixels, above the limit of 1000000/);
    assert.ok(performance.now() - t < 2000, 'no 400M-pixel decode');
    assert.ok(process.memoryUsage().rss - rss < 200e6, 'no 400M-pixel buffer');
  });

  test('duplicates, near duplicates and leaks across the split', async () => {
    const r = await inspectFolder(ds, { holdout: 0.5, seed: 3 });
    assert.deepEqual(r.exactDuplicates, [[join(ds, 'cat', 'c0.png'), join(ds, 'dog', 'copy of c0.png')]]);
    assert.equal(r.nearDuplicates.length, 1);
    assert.deepEqual(r.nearDuplicates[0].files, [join(ds, 'cat', 'c1 again.jpg'), join(ds, 'cat', 'c1.png')]);
    assert.equal(r.crossSplit.train + r.crossSplit.holdout, r.images);
    assert.ok(r.crossSplit.holdout > 0);
    assert.equal(r.crossSplit.leaks, r.crossSplit.pairs.length);
    for (const p of r.crossSplit.pairs) assert.ok(p.distance <= r.threshold);
  });

  test('strict mode throws the first bad file', async () => {
    await assert.rejects(inspectFolder(ds, { strict: true }), (e: unknown) =>
      e instanceof DataError && e.file.endsWith('self.png') && /symlink loop/.test(e.reason));
    const dir = join(root, 'strict');
    mkdirSync(join(dir, 'a'), { recursive: true });
    await noisePng(join(dir, 'a', '1.png'), 1);
    writeFileSync(join(dir, 'a', '2.png'), '');
    writeFileSync(join(dir, 'a', '3.png'), 'text');
    await assert.rejects(inspectFolder(dir, { strict: true }), (e: unknown) =>
      e instanceof DataError && e.file === join(dir, 'a', '2.png') && /0 bytes/.test(e.message));
  });

  test('progress reaches the total', async () => {
    const seen: number[] = [];
    await inspectFolder(ds, { onProgress: (e) => seen.push(e.done) });
    assert.equal(seen[0], 0);
    assert.equal(seen.at(-1), 14);
  });

  test('a flat folder, and folders that are not there', async () => {
    const flat = join(root, 'flat');
    mkdirSync(flat);
    await noisePng(join(flat, 'x.png'), 5);
    await noisePng(join(flat, 'y.png'), 6);
    const f = await inspectFolder(flat);
    assert.equal(f.layout, 'flat');
    assert.deepEqual(f.classes, {});
    assert.equal(f.images, 2);
    await assert.rejects(inspectFolder(join(root, 'nope')), /nope: no such folder/);
    await assert.rejects(inspectFolder(join(flat, 'x.png')), /not a folder/);
  });

  test('unreadable permissions', async (t) => {
    if (process.getuid?.() === 0) {
      t.skip('running as root: chmod 000 does not stop root from reading');
      return;
    }
    const dir = join(root, 'perm');
    mkdirSync(join(dir, 'a'), { recursive: true });
    await noisePng(join(dir, 'a', 'ok.png'), 1);
    await noisePng(join(dir, 'a', 'locked.png'), 2);
    mkdirSync(join(dir, 'b'));
    await noisePng(join(dir, 'b', 'hidden.png'), 3);
    chmodSync(join(dir, 'a', 'locked.png'), 0);
    chmodSync(join(dir, 'b'), 0);
    try {
      const r = await inspectFolder(dir);
      assert.equal(r.images, 1);
      assert.match(reasonOf(r, 'locked.png') ?? '', /permission denied/);
      assert.match(reasonOf(r, join(dir, 'b')) ?? '', /permission denied/);
    } finally {
      chmodSync(join(dir, 'a', 'locked.png'), 0o644);
      chmodSync(join(dir, 'b'), 0o755);
    }
  });
});

describe('requireClasses', () => {
  test('a single-class dataset is refused for a conditional model', async () => {
    const dir = join(root, 'single');
    mkdirSync(join(dir, 'only'), { recursive: true });
    await noisePng(join(dir, 'only', '1.png'), 1);
    const r = await inspectFolder(dir);
    assert.ok(r.warnings.some((w) => /only one class/.test(w)));
    assert.throws(() => requireClasses(2, r.classes, { dir }), (e: unknown) =>
      e instanceof DataError && e.file === dir && /a conditional model needs at least 2 classes with images, found 1 \(only\)/.test(e.message));
    assert.doesNotThrow(() => requireClasses(2, ['a', 'b']));
    assert.throws(() => requireClasses(2, { a: 3, b: 0 }), /found 1 \(a\)/);
  });
});
