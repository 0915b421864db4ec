import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { initEngine } from '../engine/index.js';
import { augment, decide, flatNames, sortFolder, UNKNOWN } from './sort.js';
import { rng as mulberry } from '../util/random.js';

const SIDE = 48;
const CLASSES = { circle: [220, 40, 40], square: [40, 200, 60], triangle: [50, 70, 230] } as const;
type Cls = keyof typeof CLASSES;

/** A jittered coloured shape on a dark, slightly varying background. */
async function shape(file: string, cls: Cls, r: () => number): Promise<void> {
  const j = (v: number) => Math.max(0, Math.min(255, Math.round(v + (r() - 0.5) * 60)));
  const [cr, cg, cb] = CLASSES[cls].map(j);
  const bg = Math.round(r() * 50);
  const cx = SIDE / 2 + (r() - 0.5) * 12, cy = SIDE / 2 + (r() - 0.5) * 12, s = 10 + r() * 8;
  const fill = `rgb(${cr},${cg},${cb})`;
  const body = cls === 'circle' ? `<circle cx="${cx}" cy="${cy}" r="${s}" fill="${fill}"/>`
    : cls === 'square' ? `<rect x="${cx - s}" y="${cy - s}" width="${2 * s}" height="${2 * s}" fill="${fill}"/>`
      : `<polygon points="${cx},${cy - s} ${cx - s},${cy + s} ${cx + s},${cy + s}" fill="${fill}"/>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${SIDE}" height="${SIDE}"><rect width="100%" height="100%" fill="rgb(${bg},${bg},${bg})"/>${body}</svg>`;
  await sharp(Buffer.from(svg)).png().toFile(file);
}

/** Grey noise: belongs to no class. */
async function noise(file: string, r: () => number): Promise<void> {
  const px = Buffer.alloc(SIDE * SIDE * 3);
  for (let i = 0; i < SIDE * SIDE; i++) px.fill(Math.round(60 + r() * 140), i * 3, i * 3 + 3);
  await sharp(px, { raw: { width: SIDE, height: SIDE, channels: 3 } }).png().toFile(file);
}

async function makeData(dir: string): Promise<{ labelled: string; raw: string }> {
  const r = mulberry(7);
  const labelled = join(dir, 'labelled'), raw = join(dir, 'raw');
  mkdirSync(raw, { recursive: true });
  for (const cls of Object.keys(CLASSES) as Cls[]) {
    mkdirSync(join(labelled, cls), { recursive: true });
    for (let i = 0; i < 8; i++) await shape(join(labelled, cls, `${i}.png`), cls, r);
    for (let i = 0; i < 5; i++) await shape(join(raw, `${cls}_${i}.png`), cls, r);
  }
  for (let i = 0; i < 5; i++) await noise(join(raw, `noise_${i}.png`), r);
  writeFileSync(join(raw, 'broken.png'), Buffer.from('not an image'));
  return { labelled, raw };
}

const truth = (name: string) => name.split('_')[0];

test('decide picks the top class, or unknown below the threshold', () => {
  assert.deepEqual(decide([0.1, 0.7, 0.2], ['a', 'b', 'c'], 0.6), { cls: 'b', top: 1, confidence: 0.7 });
  assert.equal(decide([0.1, 0.5, 0.4], ['a', 'b', 'c'], 0.6).cls, UNKNOWN);
  assert.equal(decide([0.1, 0.5, 0.4], ['a', 'b', 'c'], 0).cls, 'b');
});

test('flatNames keeps base names unless two files share one', () => {
  assert.deepEqual(flatNames(['/r/a.png', '/r/x/a.png', '/r/b.png'], '/r'), ['a.png', 'x_a.png', 'b.png']);
});

test('augment keeps shape and range, is seeded, and changes the images', async () => {
  await initEngine();
  const x = tf.randomUniform([4, 8, 8, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
  const a = augment(x, mulberry(5)), b = augment(x, mulberry(5)), c = augment(x, mulberry(6));
  assert.deepEqual(a.shape, [4, 8, 8, 3]);
  const [av, bv, cv, xv] = [a.dataSync(), b.dataSync(), c.dataSync(), x.dataSync()];
  assert.ok(av.every((v) => v >= -1 && v <= 1));
  assert.deepEqual(av, bv);
  assert.ok(av.some((v, i) => v !== cv[i]) && av.some((v, i) => v !== xv[i]));
  tf.dispose([x, a, b, c]);
});

test('sortFolder learns three procedural classes from 8 examples each and parks noise in unknown', async () => {
  const { backend } = await initEngine();
  await tf.setBackend(backend);
  const dir = mkdtempSync(join(tmpdir(), 'synthset-sort-'));
  try {
    const { labelled, raw } = await makeData(dir);
    const before = tf.memory().numTensors;
    const stages = new Set<string>();
    const loose = await sortFolder({ raw, labelled, out: join(dir, 'out0'), threshold: 0, epochs: 25, seed: 3, onProgress: (e) => stages.add(e.stage) });
    assert.equal(tf.memory().numTensors, before, 'sortFolder leaked tensors');
    assert.deepEqual([...stages].sort(), ['classify', 'load', 'train']);
    assert.equal(loose.unknown, 0, 'threshold 0 must send nothing to unknown');
    assert.equal(loose.problems.length, 1);
    assert.match(loose.problems[0].file, /broken\.png$/);
    assert.equal(Object.values(loose.counts).reduce((a, b) => a + b, 0), 20);
    let right = 0;
    for (const cls of Object.keys(CLASSES)) {
      const got = readdirSync(join(dir, 'out0', cls));
      right += got.filter((f) => truth(f) === cls).length;
      assert.equal(got.length, loose.counts[cls]);
    }
    assert.ok(right >= 12, `only ${right} of 15 shapes sorted into the right class`);
    const rows = readFileSync(loose.csv, 'utf8').trim().split('\n');
    assert.equal(rows[0], 'file,predicted,confidence,circle,square,triangle');
    assert.equal(rows.length, 21);
    for (const row of rows.slice(1)) {
      const cells = row.split(',');
      const p = cells.slice(3).map(Number);
      assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-3, row);
      assert.equal(Number(cells[2]), Math.max(...p));
    }

    const strict = await sortFolder({ raw, labelled, out: join(dir, 'out99'), threshold: 0.99, epochs: 25, seed: 3 });
    assert.ok(strict.unknown > 0, 'nothing went to unknown at threshold 0.99');
    const unsure = readdirSync(join(dir, 'out99', UNKNOWN));
    assert.ok(unsure.some((f) => truth(f) === 'noise'), `no noise image in unknown (got ${unsure.join(', ')})`);
    assert.ok(!existsSync(join(dir, 'out0', UNKNOWN)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sortFolder explains a bad labelled folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'synthset-sort-'));
  try {
    mkdirSync(join(dir, 'labelled', 'only'), { recursive: true });
    mkdirSync(join(dir, 'raw'));
    await assert.rejects(sortFolder({ raw: join(dir, 'raw'), labelled: join(dir, 'labelled'), out: join(dir, 'out'), threshold: 0.5 }), /at least 2/);
    mkdirSync(join(dir, 'labelled', 'other'));
    await assert.rejects(sortFolder({ raw: join(dir, 'raw'), labelled: join(dir, 'labelled'), out: join(dir, 'out'), threshold: 0.5 }), /class folder has no images/);
    await assert.rejects(sortFolder({ raw: join(dir, 'nope'), labelled: join(dir, 'labelled'), out: join(dir, 'out'), threshold: 0.5 }), /not a folder/);
    await assert.rejects(sortFolder({ raw: join(dir, 'raw'), labelled: join(dir, 'labelled'), out: join(dir, 'out'), threshold: 1.5 }), /Invalid threshold/);
    await assert.rejects(sortFolder({ raw: join(dir, 'raw'), labelled: join(dir, 'labelled'), out: join(dir, 'out'), threshold: 0.5, size: 48 }), /Unsupported image size 48/);
    // Strict: the first bad file stops the run, named, before any training.
    const r = mulberry(3);
    await shape(join(dir, 'labelled', 'only', 'a.png'), 'circle', r);
    await shape(join(dir, 'labelled', 'other', 'b.png'), 'square', r);
    await shape(join(dir, 'raw', 'c.png'), 'square', r);
    writeFileSync(join(dir, 'labelled', 'other', 'broken.png'), 'not a png');
    await assert.rejects(sortFolder({ raw: join(dir, 'raw'), labelled: join(dir, 'labelled'), out: join(dir, 'out'), threshold: 0.5, strict: true }),
      /broken\.png: not a readable image/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
