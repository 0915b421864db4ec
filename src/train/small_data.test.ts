import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { tempDir } from '../data/test_images.js';
import { initEngine } from '../engine/index.js';
import { readMetrics } from '../run/metrics.js';
import { resolveConfig, resumeConfig, validateConfig } from '../run/config.js';
import { loadCheckpoint } from '../run/checkpoint.js';
import { AdaStrength } from './ada.js';
import { diffAugment } from './augment.js';
import { LeCam } from './lecam.js';
import { SmallData } from './small_data.js';
import { train } from './loop.js';
import { tinyConfig, tinyData } from './test_helpers.js';

let data: { dir: string; done: () => void };
const runs = tempDir('synthset-smalldata-');
before(async () => {
  await initEngine();
  data = await tinyData();
});
after(() => {
  data.done();
  runs.done();
});

test('LeCam: the term is the paper\'s R against the anchors, pushes only outputs past them, and starts at `start`', () => {
  const l = new LeCam({ weight: 0.5, decay: 0.9, start: 2 });
  const real = tf.tensor1d([2, -1, 0.5]), fake = tf.tensor1d([-3, 1, 0]);
  assert.equal(l.term(real, fake, 1), null, 'nothing before any anchor');
  l.observe(1, -1, 1);
  assert.deepEqual(l.anchors(), { real: 1, fake: -1 }, 'before start the anchors are the latest means');
  assert.equal(l.term(real, fake, 2), null, 'not applied up to start');
  l.observe(3, 1, 3);
  // decay 0.9 from step start + 1: a_R = 0.9*1 + 0.1*3, a_F = 0.9*-1 + 0.1*1
  const a = l.anchors();
  assert.ok(Math.abs(a.real - 1.2) < 1e-12 && Math.abs(a.fake + 0.8) < 1e-12, JSON.stringify(a));
  const [t, gReal, gFake] = tf.tidy(() => {
    const f = (r: tf.Tensor, q: tf.Tensor) => l.term(r, q, 3)!;
    const g = tf.grads(f)([real, fake]);
    return [f(real, fake).dataSync()[0], g[0].arraySync() as number[], g[1].arraySync() as number[]];
  });
  const relu2 = (v: number) => Math.max(0, v) ** 2;
  const want = 0.5 * ([2, -1, 0.5].reduce((s, r) => s + relu2(r - a.fake), 0) / 3 + [-3, 1, 0].reduce((s, q) => s + relu2(a.real - q), 0) / 3);
  assert.ok(Math.abs(t - want) < 1e-5, `${t} vs ${want}`);
  // Real outputs above a_F are pushed down, those below it left alone; fakes below a_R pushed up.
  assert.ok(gReal[0] > 0 && gReal[1] === 0 && gReal[2] > 0, `${gReal}`);
  assert.ok(gFake[0] < 0 && gFake[1] < 0 && gFake[2] < 0, `${gFake}`);
  tf.dispose([real, fake]);
});

test('ADA: p moves by batch*interval/(kimg*1000) towards the side the overfitting heuristic says, within [0, 1]', () => {
  const a = new AdaStrength({ target: 0.6, kimg: 1, interval: 2, initial: 0 });
  a.observe(1, 100);
  assert.equal(a.strength(), 0, 'only every `interval` steps');
  a.observe(0.8, 100);
  assert.ok(Math.abs(a.strength() - 0.2) < 1e-12, `${a.strength()}`);
  for (let i = 0; i < 20; i++) a.observe(1, 100);
  assert.equal(a.strength(), 1, 'clamped at 1');
  a.observe(0.2, 100);
  a.observe(0.4, 100);
  assert.ok(Math.abs(a.strength() - 0.8) < 1e-12, 'r_t below the target lowers p');
  const b = new AdaStrength(a.settings);
  b.restore(a.state());
  a.observe(1, 50);
  b.observe(1, 50);
  assert.deepEqual(b.state(), a.state());
});

test('DiffAugment with a strength: p = 0 is the identity, p = 1 changes every image, p = 0.5 about half', () => {
  const x = tf.randomUniform([200, 8, 8, 1], 0.5, 1, 'float32', 3) as tf.Tensor4D;
  const changed = (p: number) => tf.tidy(() => {
    const y = diffAugment({ policy: ['cutout'] }, () => p)(x, 11);
    const d = tf.max(tf.abs(tf.sub(y, x)), [1, 2, 3]).dataSync();
    return d.filter((v) => v > 0).length;
  });
  assert.equal(changed(0), 0);
  assert.equal(changed(1), 200);
  const half = changed(0.5);
  assert.ok(half > 70 && half < 130, `${half} of 200 at p = 0.5`);
  x.dispose();
});

test('config: ada needs an augment policy, and neither regulariser goes with dp', () => {
  const base = { flags: { data: data.dir, family: 'cgan', size: 32 as const, steps: 5, out: join(runs.dir, 'x') } };
  assert.throws(() => resolveConfig({ ...base, sets: ['ada={}'] }), /"ada".*needs "augment.policy"/);
  assert.throws(() => resolveConfig({ ...base, sets: ['lecam={}', 'dp={epsilon: 1, delta: 1e-5}'] }), /"lecam" and "ada".*private run/);
  const ok = resolveConfig({ ...base, sets: ['lecam={}', 'augment.policy=[color]', 'ada={kimg: 10}'] });
  assert.deepEqual(ok.lecam, { weight: 0.3, decay: 0.99, start: 1000 });
  assert.deepEqual(ok.ada, { target: 0.6, kimg: 10, interval: 4, initial: 0 });
});

const REGS = {
  augment: { policy: ['color' as const, 'translation' as const, 'cutout' as const] },
  lecam: { weight: 0.3, decay: 0.5, start: 1 },
  ada: { target: 0.6, kimg: 0.01, interval: 1, initial: 0 },
};

for (const family of ['cgan', 'sngan'] as const) {
  test(`${family} on 16 images: ADA's strength rises as D overfits, LeCam's anchors follow D's outputs, and a resume repeats both`, async () => {
    const cfg = (out: string, steps: number) => family === 'sngan'
      ? validateConfig({ ...tinyConfig(data.dir, out, { steps, checkpointEvery: 4, ...REGS }), family, options: { gWidth: 4, dWidth: 4 } })
      : tinyConfig(data.dir, out, { family, steps, checkpointEvery: 4, ...REGS });
    const a = join(runs.dir, `${family}-straight`), b = join(runs.dir, `${family}-resumed`);
    await train(cfg(a, 40));
    const m = readMetrics(join(a, 'metrics.jsonl'));
    // 16 solid-colour images: D soon calls every real one real, so r_t > 0.6 and p climbs by 0.4 a step.
    assert.ok(m.some((r) => r.adaSign > 0.6), `r_t stayed ${Math.max(...m.map((r) => r.adaSign))}`);
    assert.ok(m.some((r) => r.adaP > 0), 'p rose from 0');
    for (const r of m) assert.ok(r.adaP >= 0 && r.adaP <= 1);
    // The anchors are the decay-0.5 moving averages of the logged means (decay 0 at the first step).
    let real = 0, fake = 0;
    m.forEach((r, i) => {
      const d = i === 0 ? 0 : 0.5;
      real = d * real + (1 - d) * r.lecamReal;
      fake = d * fake + (1 - d) * r.lecamFake;
      assert.ok(Math.abs(r.lecamAnchorReal - real) < 1e-5 && Math.abs(r.lecamAnchorFake - fake) < 1e-5, `step ${r.step}`);
    });
    await train(cfg(b, 6));
    await train(resumeConfig(b, 40), {}, { resume: true });
    const strip = (xs: typeof m) => xs.map(({ imgPerSec: _, ...rest }) => rest);
    assert.deepEqual(strip(readMetrics(join(b, 'metrics.jsonl'))), strip(m), 'the resumed run repeats losses, anchors and p');
    assert.ok((loadCheckpoint(b)?.state.smallData as { ada: { p: number } }).ada.p === m.at(-1)!.adaP);
  });
}

test('a family that ignores the hook is an error, not a silently unregularised run', () => {
  const s = new SmallData({ lecam: REGS.lecam, ada: null });
  assert.throws(() => s.after({ lossD: 1 }, 4, 1, 'pix2pix'), /pix2pix does not report D's outputs.*lecamReal, lecamFake missing/);
  const v: Record<string, number> = { lecamReal: 2, lecamFake: -2 };
  s.after(v, 4, 1, 'cgan');
  assert.deepEqual([v.lecamAnchorReal, v.lecamAnchorFake], [2, -2]);
});
