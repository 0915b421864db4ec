import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { tempDir } from '../data/test_images.js';
import { initEngine } from '../engine/index.js';
import { loadCheckpoint } from '../run/checkpoint.js';
import { readMetrics } from '../run/metrics.js';
import { epsilonFor } from '../privacy/index.js';
import { train } from './loop.js';
import { resumeConfig } from '../run/config.js';
import { PrivateSession, privateSettings } from './private.js';
import { tinyConfig, tinyData } from './test_helpers.js';
import { parseDp } from '../cli/train.js';
import { exportBundle } from '../io/bundle.js';

let data: { dir: string; done: () => void };
const runs = tempDir('synthset-dp-');

before(async () => {
  await initEngine();
  data = await tinyData();
});
after(() => {
  data.done();
  runs.done();
});

const DP = { epsilon: 8, delta: 1e-5, clip: 1 };

test('a private run solves σ for its ε before training, logs ε spent, keeps its secret out of config and metrics, and resumes exactly', async () => {
  const a = join(runs.dir, 'straight'), b = join(runs.dir, 'resumed');
  const extra = { family: 'cgan', steps: 6, checkpointEvery: 3, logEvery: 1, dp: DP, options: { width: 4 } };
  const ra = await train(tinyConfig(data.dir, a, extra));
  assert.equal(ra.stopped, 'done');
  const cfg = JSON.parse(readFileSync(join(a, 'config.json'), 'utf8'));
  const n = JSON.parse(readFileSync(join(a, 'data.json'), 'utf8')).trainImages;
  const q = 4 / n;
  assert.ok(cfg.dp.noise > 0.5, `σ ${cfg.dp.noise} was solved and saved`);
  const spent = epsilonFor({ noiseMultiplier: cfg.dp.noise, sampleRate: q, steps: 6, delta: DP.delta }).epsilon;
  assert.ok(spent <= DP.epsilon && spent > 0.97 * DP.epsilon, `σ ${cfg.dp.noise} spends ε ${spent} of ${DP.epsilon} over the planned steps`);
  const m = readMetrics(join(a, 'metrics.jsonl'));
  assert.deepEqual(m.map((r) => r.step), [1, 2, 3, 4, 5, 6]);
  for (let i = 1; i < m.length; i++) assert.ok((m[i].epsilon as number) > (m[i - 1].epsilon as number), 'ε grows with every step');
  assert.ok(Math.abs((m[5].epsilon as number) - spent) < 1e-9);
  assert.ok(m.every((r) => Number.isFinite(r.dClipped as number)), 'the share of clipped examples is logged');
  const secret = (loadCheckpoint(a)!.state.privacy as { secret: string }).secret;
  assert.match(secret, /^[0-9a-f]{64}$/);
  for (const f of ['config.json', 'metrics.jsonl', 'data.json']) assert.ok(!readFileSync(join(a, f), 'utf8').includes(secret), `${f} does not hold the secret`);

  // The bundle's model card states the guarantee; nothing in the bundle holds the secret.
  const bundle = join(runs.dir, 'bundle');
  await exportBundle(a, bundle);
  const card = readFileSync(join(bundle, 'MODEL_CARD.md'), 'utf8');
  assert.match(card, new RegExp(`\\(ε = ${spent.toPrecision(4)}, δ = 0.00001\\)\\*\\* spent of a budget of ε = 8`));
  assert.match(card, new RegExp(`noise multiplier σ \\| ${cfg.dp.noise.toPrecision(4)}`));
  assert.match(card, /6 training steps, 6 private discriminator updates/);
  for (const f of readdirSync(bundle)) assert.ok(!readFileSync(join(bundle, f)).includes(secret), `${f} does not hold the secret`);

  // Interrupted in step 5 (checkpoint at 3, step 4 logged), resumed: the replayed step 4 draws the
  // same sample and noise from the saved secret, so it logs the same losses.
  await assert.rejects(train(tinyConfig(data.dir, b, extra), { onStep: (e) => { if (e.step === 5) throw new Error('crash'); } }), /crash/);
  const strip = (xs: typeof m) => xs.map(({ imgPerSec: _, ...rest }) => rest);
  const before = strip(readMetrics(join(b, 'metrics.jsonl')));
  assert.deepEqual(before.map((r) => r.step), [1, 2, 3, 4]);
  await train(resumeConfig(b, 6), {}, { resume: true });
  const resumed = strip(readMetrics(join(b, 'metrics.jsonl')));
  assert.deepEqual(resumed.slice(0, 4), before, 'step 4 replayed exactly');
  assert.notDeepEqual(resumed.map((r) => r.lossD), strip(m).map((r) => r.lossD), 'another run has another secret');
  const cb = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
  assert.equal(cb.dp.noise, cfg.dp.noise);
  assert.ok(Math.abs((readMetrics(join(b, 'metrics.jsonl')).at(-1)!.epsilon as number) - spent) < 1e-9, 'the resumed run kept its accounting');
});

test('a private run stops at its budget with a checkpoint, and a resume cannot extend it', async () => {
  const dir = join(runs.dir, 'budget');
  const notes: string[] = [];
  // σ fixed small: the budget runs out after a few steps.
  const r = await train(tinyConfig(data.dir, dir, { family: 'cgan', steps: 50, dp: { ...DP, epsilon: 3, noise: 2 }, options: { width: 4 } }), { onNote: (s) => notes.push(s) });
  assert.equal(r.stopped, 'budget');
  assert.ok(r.step >= 1 && r.step < 50, `stopped at step ${r.step}`);
  assert.equal(loadCheckpoint(dir)!.state.step, r.step, 'the checkpoint is the last step');
  assert.match(notes.join('\n'), /privacy budget: one more step would spend more than ε = 3 \(δ = 0.00001\); stopping at step \d+ with ε = 2\.\d+ spent/);
  const again = await train(resumeConfig(dir, 100), {}, { resume: true });
  assert.equal(again.stopped, 'budget');
  assert.equal(again.step, r.step);
});

test('private training refuses what would break the guarantee', async () => {
  const cfg = (extra: object) => tinyConfig(data.dir, join(runs.dir, `bad-${Math.random()}`), { family: 'cgan', dp: DP, options: { width: 4 }, ...extra });
  await assert.rejects(train(cfg({ options: { width: 4, dBatchNorm: true } })), /a private run's D cannot use batch norm/);
  await assert.rejects(train(cfg({ family: 'wgan-gp', options: {} })), /Family wgan-gp cannot train privately \(dp\): use dcgan or cgan/);
  await assert.rejects(train(cfg({ batchSize: 64 })), /batch 64 is not below the \d+ training images/);
  assert.throws(() => parseDp('epsilon=10'), /needs at least epsilon and delta/);
  assert.throws(() => parseDp('epsilon=10,delta=1e-5,sigma=2'), /key=number pairs of epsilon, delta, clip, noise/);
  assert.deepEqual(parseDp('epsilon=10, delta=1e-5,clip=0.5'), { epsilon: 10, delta: 1e-5, clip: 0.5 });
  assert.deepEqual(parseDp('epsilon=1,delta=1e-5,clipping=loss'), { epsilon: 1, delta: 1e-5, clipping: 'loss' });
  assert.throws(() => parseDp('epsilon=1,delta=1e-5,clipping=soft'), /clipping=flat\|loss/);
  assert.throws(() => new PrivateSession(privateSettings(cfg({}), 1000, 1), { secret: 'nope', accountant: {}, generation: 0 }), /privacy secret is corrupt/);
});

test('Poisson sampling: each image joins a batch with probability q, batches differ per step, and a seeded session repeats them', async () => {
  const { openTrainData } = await import('../run/data.js');
  const c = tinyConfig(data.dir, join(runs.dir, 'poisson'), { dp: DP });
  const d = await openTrainData(c);
  try {
    const s = new PrivateSession(privateSettings(c, d.rows.length, 1));
    const sizes: number[] = [];
    for (let step = 1; step <= 400; step++) {
      const b = s.batch(d.cache, d.rows, step, 0, false);
      sizes.push(b.real.shape[0]);
      b.dispose();
    }
    const mean = sizes.reduce((a, x) => a + x, 0) / sizes.length, q = 4 / d.rows.length;
    const sd = Math.sqrt(d.rows.length * q * (1 - q) / sizes.length);
    assert.ok(Math.abs(mean - 4) < 4 * sd, `mean batch ${mean}, expected 4 ± ${sd.toFixed(3)}`);
    assert.ok(sizes.includes(0) || Math.min(...sizes) <= 1, 'sizes vary down to (nearly) empty batches');
    const twin = new PrivateSession(s.settings, s.state());
    for (const step of [1, 7]) {
      const x = s.batch(d.cache, d.rows, step, 0, true), y = twin.batch(d.cache, d.rows, step, 0, true);
      assert.deepEqual(Array.from(x.labels!.dataSync()), Array.from(y.labels!.dataSync()));
      x.dispose();
      y.dispose();
    }
  } finally {
    d.close();
  }
});

test('a D the batched pass cannot handle falls back to micro-batches with the same noise as if it had not been asked', async () => {
  const settings = { epsilon: 8, delta: 1e-5, clip: 1, noise: 1, sampleRate: 0.01, expectedBatch: 4 };
  const s = new PrivateSession(settings);
  const x = tf.input({ shape: [3] });
  const d = tf.model({ inputs: x, outputs: tf.layers.dense({ units: 1 }).apply(tf.layers.batchNormalization().apply(x)) as tf.SymbolicTensor });
  const vars = d.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const rows = tf.tensor2d([[1, 2, 3], [0, -1, 2]]);
  const loss = (i: number) => tf.sum(d.apply(tf.slice(rows, [i, 0], [1, -1]), { training: false }) as tf.Tensor) as tf.Scalar;
  const first = s.step(3), second = s.step(3);
  assert.equal(first.batchGradients!(d, vars, [rows], (o) => tf.sum(o[0]) as tf.Scalar), null);
  const a = first.gradients(vars, 2, loss), b = second.gradients(vars, 2, loss);
  for (const [k, g] of Object.entries(a.grads)) assert.deepEqual(Array.from(g.dataSync()), Array.from(b.grads[k].dataSync()), `${k}: same noise`);
  tf.dispose([rows, ...Object.values(a.grads), ...Object.values(b.grads), a.loss, b.loss, a.clippedShare, b.clippedShare]);
  d.dispose();
});

test('a loss-weighted private run trains, keeps the setting in its config and names it in the model card', async () => {
  const dir = join(runs.dir, 'weighted'), bundle = join(runs.dir, 'weighted-bundle');
  const r = await train(tinyConfig(data.dir, dir, { family: 'cgan', steps: 3, logEvery: 1, dp: { ...DP, clipping: 'loss' }, options: { width: 4 } }));
  assert.equal(r.stopped, 'done');
  assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).dp.clipping, 'loss');
  const m = readMetrics(join(dir, 'metrics.jsonl'));
  assert.ok(m.every((x) => Number.isFinite(x.lossD as number) && Number.isFinite(x.dClipped as number)), JSON.stringify(m));
  await exportBundle(dir, bundle);
  assert.match(readFileSync(join(bundle, 'MODEL_CARD.md'), 'utf8'), /clipping norm C \| 1 \(loss-weighted: each example held to C·min\(1, \|ℓ'\| \/ \|ℓ' of an undecided D\|\)\)/);
});
