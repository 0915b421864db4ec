import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { rng } from '../util/random.js';
import { tempDir } from '../data/test_images.js';
import { FusedAdamOptimizer, initEngine } from '../engine/index.js';
import { diffAugment } from './augment.js';
import { loadCheckpoint, saveCheckpoint, type LoopState } from '../run/checkpoint.js';
import { parseSet, resolveConfig } from '../run/config.js';
import { EmaGenerator } from './ema.js';
import { ImagePool } from './pool.js';

before(async () => {
  await initEngine();
});

test('pool returns stored images with p=0.5', () => {
  const pool = new ImagePool({ size: 50, p: 0.5 });
  const old = tf.fill([50, 2, 2, 1], 1) as tf.Tensor4D;
  tf.dispose(pool.query(old, 1)); // fills the pool
  let fromPool = 0, total = 0;
  for (let s = 0; s < 40; s++) {
    // Every image has its own value, so a returned image is recognised as this one or another.
    const own = (i: number) => 2 + s * 50 + i;
    const fresh = tf.tensor4d(Float32Array.from({ length: 200 }, (_, k) => own(Math.floor(k / 4))), [50, 2, 2, 1]);
    const out = pool.query(fresh, 100 + s);
    const v = out.dataSync();
    for (let i = 0; i < 50; i++) {
      total++;
      if (v[i * 4] !== own(i)) fromPool++;
    }
    tf.dispose([fresh, out]);
  }
  old.dispose();
  // 2000 Bernoulli(0.5) draws: 4 standard deviations is about +-0.045.
  assert.ok(Math.abs(fromPool / total - 0.5) < 0.045, `share from the pool ${fromPool / total}`);
  assert.equal(pool.images.length, 50);
  // Same seed, same pool: same output.
  const copy = new ImagePool({ size: 50, p: 0.5 });
  copy.restore(pool.state());
  const x = tf.fill([50, 2, 2, 1], -1) as tf.Tensor4D;
  const [a, b] = [pool.query(x, 5), copy.query(x, 5)];
  assert.deepEqual(a.dataSync(), b.dataSync());
  tf.dispose([x, a, b]);
});

test('DiffAugment is differentiable, seeded and keeps shapes', () => {
  const aug = diffAugment({ policy: ['color', 'translation', 'cutout'] });
  const x = tf.randomUniform([3, 16, 16, 3], -1, 1, 'float32', 1) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  const a = aug(x, 7), b = aug(x, 7), c = aug(x, 8);
  assert.deepEqual(a.shape, x.shape);
  assert.deepEqual(a.dataSync(), b.dataSync(), 'same seed, same augmentation');
  assert.notDeepEqual(a.dataSync(), c.dataSync(), 'other seed, other augmentation');
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.square(aug(t as tf.Tensor4D, 7))))(x);
  const gv = g.dataSync();
  assert.ok(gv.every(Number.isFinite) && gv.some((v) => v !== 0), 'gradients reach the input');
  // Cutout alone zeroes up to a quarter of each image: those input pixels get no gradient.
  const cut = diffAugment({ policy: ['cutout'] });
  const gc = tf.grad((t: tf.Tensor) => tf.sum(cut(t as tf.Tensor4D, 3)))(x);
  const zeros = gc.dataSync().filter((v) => v === 0).length / gv.length;
  assert.ok(zeros > 0.1 && zeros <= 0.25, `share of zero gradients ${zeros}`);
  tf.dispose([a, b, c, g, gc]);
  assert.equal(tf.memory().numTensors, before);
  const id = diffAugment({ policy: [] });
  assert.equal(id(x, 1), x);
  x.dispose();
});

test('DiffAugment translation shifts each image by whole pixels with zero fill, as pad + crop would', () => {
  const x = tf.randomUniform([4, 8, 8, 2], -1, 1, 'float32', 2) as tf.Tensor4D;
  const y = diffAugment({ policy: ['translation'], translation: 0.25 })(x, 11).arraySync();
  const xs = x.arraySync();
  // Same draws as the augmentation: per image, a row offset then a column offset in [-2, 2].
  const rand = rng(11);
  for (let n = 0; n < 4; n++) {
    const dy = Math.floor(rand() * 5) - 2, dx = Math.floor(rand() * 5) - 2;
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 8; j++) {
        const inside = i + dy >= 0 && i + dy < 8 && j + dx >= 0 && j + dx < 8;
        assert.deepEqual(y[n][i][j], inside ? xs[n][i + dy][j + dx] : [0, 0], `image ${n} pixel ${i},${j} (shift ${dy},${dx})`);
      }
    }
  }
  x.dispose();
});

const tinyNet = () => {
  const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 }), tf.layers.batchNormalization()] });
  return m;
};

test('EMA follows the generator with the given decay', () => {
  const g = tinyNet(), e = tinyNet();
  const ema = new EmaGenerator(e, g, 0.9);
  assert.deepEqual(e.weights[0].read().dataSync(), g.weights[0].read().dataSync(), 'starts as a copy');
  const w0 = g.weights[0].read().dataSync().slice();
  g.weights[0].write(tf.add(g.weights[0].read(), 1));
  ema.update(1000);
  const we = e.weights[0].read().dataSync();
  w0.forEach((v, i) => assert.ok(Math.abs(we[i] - (v + 0.1)) < 1e-5));
  ema.dispose();
  g.dispose();
});

test('EMA warm-up: the decay ramps as min(decay, (1 + t) / (10 + t)), so early updates follow G closely', () => {
  const g = tinyNet(), e = tinyNet();
  const ema = new EmaGenerator(e, g, 0.999, true);
  assert.equal(ema.decayAt(0), 0.1);
  assert.equal(ema.decayAt(90), 91 / 100);
  assert.equal(ema.decayAt(1e6), 0.999);
  assert.equal(new EmaGenerator(tinyNet(), g, 0.999).decayAt(0), 0.999, 'no warm-up unless asked');
  const w0 = g.weights[0].read().dataSync().slice();
  g.weights[0].write(tf.add(g.weights[0].read(), 1));
  ema.update(0);
  const we = e.weights[0].read().dataSync();
  w0.forEach((v, i) => assert.ok(Math.abs(we[i] - (v + 0.9)) < 1e-5, 'first update moves 90 % of the way'));
  ema.dispose();
  g.dispose();
});

test('checkpoints round-trip FusedAdamOptimizer: the next update is identical', async () => {
  const t = tempDir('synthset-ckpt-');
  const make = () => {
    const net = tinyNet();
    const opt = new FusedAdamOptimizer(0.01, 0.5, 0.999);
    return { net, opt };
  };
  const x = tf.tensor2d([[1, 2, 3], [0, -1, 2], [3, 1, 0]]);
  const stepOn = (net: tf.LayersModel, opt: tf.Optimizer) => tf.tidy(() => {
    const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
    opt.minimize(() => tf.mean(tf.square(net.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, false, vars);
  });
  const a = make();
  for (let i = 0; i < 3; i++) stepOn(a.net, a.opt);
  const state: LoopState = { step: 3, epoch: 0, position: 0, lrScale: 1, rolledBack: false, dataHash: 'h', config: {} };
  await saveCheckpoint(t.dir, state, { nets: { g: a.net }, optimizers: { g: a.opt }, ema: null, pool: null });
  const b = make();
  const before = tf.memory().numTensors;
  await loadCheckpoint(t.dir)!.restore({ nets: { g: b.net }, optimizers: { g: b.opt }, ema: null, pool: null });
  stepOn(a.net, a.opt);
  stepOn(b.net, b.opt);
  a.net.weights.forEach((w, i) => assert.deepEqual(b.net.weights[i].read().dataSync(), w.read().dataSync(), w.name));
  assert.equal(b.opt.iterations, 4);
  // Restoring again replaces the state instead of adding to it.
  const n = tf.memory().numTensors;
  await loadCheckpoint(t.dir)!.restore({ nets: { g: b.net }, optimizers: { g: b.opt }, ema: null, pool: null });
  assert.equal(tf.memory().numTensors, n);
  assert.ok(n >= before);
  // A torn write (state.json missing in the newest dir) is never current.
  await assert.rejects(saveCheckpoint(t.dir, { ...state, step: 4 }, { nets: { g: a.net }, optimizers: { g: a.opt }, ema: null, pool: null },
    { midWrite: () => { throw new Error('kill'); } }), /kill/);
  assert.equal(loadCheckpoint(t.dir)?.state.step, 3);
  assert.ok(readdirSync(t.dir).some((f) => f.includes('.tmp-')));
  tf.dispose([x]);
  a.net.dispose();
  b.net.dispose();
  t.done();
});

test('config: presets, overrides and unknown keys', () => {
  const t = tempDir('synthset-cfg-');
  const base = { data: 'builtin:mnist', family: 'dcgan', size: 64 as const, steps: 500, out: 'run' };
  const c = resolveConfig({ flags: base, sets: ['lrG=1e-4', 'pool.p=0.25', 'augment={policy: [color]}', 'ema=null'] });
  assert.equal(c.batchSize, 32, 'the 64 px preset');
  assert.equal(c.options.lrG, 1e-4);
  assert.equal(c.options.lrD, 2e-4);
  assert.deepEqual(c.pool, { size: 50, p: 0.25 }, 'dcgan preset pool, p overridden');
  assert.deepEqual(c.augment, { policy: ['color'] });
  assert.equal(c.ema, null);
  assert.equal(c.logEvery, 10);
  assert.equal(resolveConfig({ flags: { ...base, steps: 50 } }).logEvery, 1, 'every step is logged when steps <= 100');
  assert.deepEqual(parseSet('pool.size=3'), { pool: { size: 3 } });
  assert.deepEqual(parseSet('width=8'), { options: { width: 8 } });
  const yaml = join(t.dir, 'c.yaml');
  writeFileSync(yaml, 'batchSize: 8\npool:\n  size: 4\n  p: 0.5\n  q: 1\n');
  assert.throws(() => resolveConfig({ flags: base, file: yaml }), /unknown key "pool\.q"/);
  writeFileSync(yaml, 'batchSize: 8\noptions:\n  widht: 8\n');
  assert.throws(() => resolveConfig({ flags: base, file: yaml }), /Unknown option "widht" for family dcgan/);
  writeFileSync(yaml, 'batchSize: 8\n');
  assert.equal(resolveConfig({ flags: base, file: yaml, sets: ['batchSize=16'] }).batchSize, 16, '--set beats the file');
  assert.throws(() => resolveConfig({ flags: { ...base, size: 48 as never } }), /Image size 48 is not supported/);
  assert.throws(() => resolveConfig({ flags: { ...base, data: undefined } }), /missing "data" \(--data\)/);
  assert.throws(() => resolveConfig({ flags: base, sets: ['width="wide"'] }), /must be a number/);
  t.done();
});
