// Label maps through the loop: the labelmap family (noise -> K-class maps) trains, resumes exactly
// and samples in palette colours; pix2pix on a label-map dataset takes one-hot maps, says so in its
// metadata and translates a folder of maps; the loop's jitter never blends class indices.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { tempDir } from '../data/test_images.js';
import { initEngine } from '../engine/index.js';
import { loadGenerator } from '../run/generator.js';
import { loadTranslator, translateFolder } from '../io/translate.js';
import { readMetrics } from '../run/metrics.js';
import { loadCheckpoint } from '../run/checkpoint.js';
import { train } from '../train/loop.js';
import { resolveConfig, resumeConfig } from '../run/config.js';
import { jitter, markLabelMaps } from '../train/jitter.js';
import { paletteColour } from '../util/palette.js';
import { makeLabelMapSet } from './labelmap_test_data.js';
import { getFamily } from './index.js';

await initEngine();
const t = tempDir('synthset-labelmap-');
const data = join(t.dir, 'maps');
before(() => makeLabelMapSet(data, 24, 1, 32));
after(() => t.done());

const cfg = (family: string, steps: number, out: string, sets: string[]) =>
  resolveConfig({ flags: { family, size: 32, steps, out, seed: 5, data }, sets: ['batchSize=4', 'zDim=8', ...sets] });

/** Every pixel of a PNG is one of `colours` (or the grid's black gaps). */
async function onlyColours(file: string, colours: number[][], x0 = 0, width = Infinity): Promise<void> {
  const { data: px, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const ok = new Set([...colours, [0, 0, 0]].map((c) => c.join(',')));
  for (let y = 0; y < info.height; y++) {
    for (let x = x0; x < Math.min(info.width, x0 + width); x++) {
      const i = (y * info.width + x) * 3;
      assert.ok(ok.has(`${px[i]},${px[i + 1]},${px[i + 2]}`), `${file} (${x}, ${y}) is ${px[i]},${px[i + 1]},${px[i + 2]}, not a palette colour`);
    }
  }
}

test('jitter resamples marked label maps by nearest neighbour (no new values) and images bilinearly', () => {
  const idx = tf.tensor4d(Float32Array.from({ length: 2 * 16 * 16 }, (_, i) => ((i >> 3) % 2 ? 3 : 1) / 127.5 - 1), [2, 16, 16, 1]);
  const img = idx.clone();
  markLabelMaps(idx);
  const [m, x] = jitter([idx, img], { scale: 1.3, flip: true }, 11);
  const values = (a: tf.Tensor) => new Set(Array.from(a.dataSync(), (v) => Math.round((v + 1) * 127.5 * 1000) / 1000));
  assert.deepEqual([...values(m)].sort(), [1, 3]);
  assert.ok([...values(x)].some((v) => v !== 1 && v !== 3), 'the image is resampled bilinearly');
  tf.dispose([idx, img, m, x]);
});

test('labelmap family: trains from noise to 4-class maps, resumes exactly, samples in palette colours, metadata says so', async () => {
  const a = join(t.dir, 'lm-straight'), b = join(t.dir, 'lm-crashed');
  const sets = ['width=4', 'checkpointEvery=3', 'sampleEvery=3', 'ema={decay: 0.9}', 'jitter={scale: 1.1, flip: true}'];
  await train(cfg('labelmap', 6, a, sets));
  await assert.rejects(train(cfg('labelmap', 6, b, sets), { onStep: (e) => { if (e.step === 5) throw new Error('simulated crash'); } }), /simulated crash/);
  assert.equal(loadCheckpoint(b)?.state.step, 3);
  await train(resumeConfig(b, 6), {}, { resume: true });
  const strip = (dir: string) => readMetrics(join(dir, 'metrics.jsonl')).map(({ imgPerSec: _, ...rest }) => rest);
  assert.equal(strip(a).length, 6);
  assert.deepEqual(strip(b), strip(a));
  for (const k of ['lossD', 'lossG', 'dReal', 'dFake']) assert.ok(Number.isFinite(strip(a)[5][k] as number), k);
  const grids = readdirSync(join(a, 'samples'));
  assert.deepEqual(grids, ['step-0000003.png', 'step-0000006.png']);
  await onlyColours(join(a, 'samples', grids[1]), [0, 1, 2, 3].map(paletteColour));
  assert.deepEqual(readFileSync(join(a, 'samples', grids[1])), readFileSync(join(b, 'samples', grids[1])), 'resumed samples differ');
  const g = await loadGenerator(join(a, 'generator'));
  assert.deepEqual(g.meta.output, { kind: 'labelmap', classes: 4 });
  assert.deepEqual(g.meta.classes, ['background', 'wall', 'window', 'door']);
  const p = g.model.predict(tf.randomNormal([2, 8])) as tf.Tensor4D;
  assert.deepEqual(p.shape, [2, 32, 32, 4]);
  const sums = tf.sum(p, 3).dataSync();
  assert.ok(sums.every((s) => Math.abs(s - 1) < 1e-4), 'per-pixel class probabilities');
  tf.dispose(p);
  g.model.dispose();
});

test('pix2pix on label maps: one-hot input, labelmap metadata, translates a folder of maps; grid is palette | output | target', async () => {
  const out = join(t.dir, 'p2p');
  // The preset's jitter is on: maps go through it by nearest neighbour.
  await train(cfg('pix2pix', 4, out, ['ngf=4', 'ndf=4', 'sampleEvery=4']));
  const g = await loadTranslator(out);
  assert.deepEqual(g.meta.input, { kind: 'labelmap', size: 32, classes: 4, channels: 3, directions: ['AtoB'] });
  assert.deepEqual(g.model.inputs[0].shape, [null, 32, 32, 4]);
  const r = await translateFolder(g, join(data, 'label'), join(t.dir, 'p2p-out'));
  g.model.dispose();
  assert.equal(r.written, 24);
  const meta = await sharp(join(t.dir, 'p2p-out', '0000.png')).metadata();
  assert.deepEqual([meta.width, meta.height, meta.channels], [32, 32, 3]);
  const grid = join(out, 'samples', 'step-0000004.png');
  assert.equal((await sharp(grid).metadata()).width, 3 * 32 + 2);
  await onlyColours(grid, [0, 1, 2, 3].map(paletteColour), 0, 32);
});

test('labelmap G loss: the diversity term subtracts λ x (map distance / z distance) of the batch halves; bad options are named', async () => {
  const family = getFamily('labelmap');
  const real = tf.tidy(() => tf.sub(tf.div(tf.randomUniform([8, 32, 32, 1], 0, 4, 'int32', 3).toFloat(), 127.5), 1) as tf.Tensor4D);
  const stats = (options: Record<string, unknown>) => {
    const m = family.build({ size: 32, channels: 1, numClasses: 0, labelClasses: 4, zDim: 8, seed: 2, options: { ...family.defaults, width: 4, ...options } } as never);
    try {
      return m.trainStep([{ real, labels: null }], { step: 0, seed: 11, augment: (x) => x, pool: (x) => x });
    } finally {
      m.dispose();
    }
  };
  const off = stats({ diversity: 0 }), on = stats({ diversity: 10 });
  assert.equal(off.diversity, undefined);
  assert.ok(on.diversity > 0, `diversity ${on.diversity}`);
  assert.ok(Math.abs(off.lossG - 10 * on.diversity - on.lossG) < 1e-4, `lossG ${on.lossG} vs ${off.lossG} - 10 x ${on.diversity}`);
  assert.ok(Math.abs(on.lossD - off.lossD) < 1e-6, 'D\'s update does not see the term');
  assert.throws(() => stats({ diversity: -1 }), /Option "diversity" must be a number >= 0/);
  assert.throws(() => stats({ minibatchStd: 'yes' }), /Option "minibatchStd" must be true or false/);
  assert.throws(() => stats({ output: 'argmax' }), /Option "output" must be one of straight-through, softmax, gumbel/);
  real.dispose();
});
