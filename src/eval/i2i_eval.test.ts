// synthset eval on image-to-image runs: a pix2pix run is scored on its own held-out pairs (paired),
// a CycleGAN run with the domain TSTR/TRTR pair, and both with the pixel metrics on their outputs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../data/test_images.js';
import { initEngine } from '../engine/index.js';
import { makeDomain, makePaired, type Rgb } from '../models/i2i_test_data.js';
import { makeLabelMapSet } from '../models/labelmap_test_data.js';
import { resolveConfig } from '../run/config.js';
import { train } from '../train/loop.js';
import { evaluate } from './index.js';

const engine = await initEngine();
// Domain TSTR trains two classifiers on 2000 images; on the pure-JS backend that took 44 min in CI.
const slow = engine.backend === 'cpu' ? 'pure-JS cpu backend is ~1000x slower than onednn' : false;
const RED: Rgb = [220, 30, 30], GREEN: Rgb = [30, 200, 40], BLUE: Rgb = [20, 40, 220], GREY: Rgb = [128, 128, 128];
const t = tempDir('synthset-i2i-eval-');
const run = (family: string, out: string, flags: Record<string, unknown>, sets: string[]) =>
  train(resolveConfig({ flags: { family, size: 32, steps: 2, out, seed: 1, ...flags }, sets: ['batchSize=2', 'sampleEvery=1000', 'checkpointEvery=1000', 'holdout=0.25', ...sets] }));

before(async () => {
  await makePaired(join(t.dir, 'paired'), 24, [RED, GREY], [BLUE, GREY], 1);
  await makeDomain(join(t.dir, 'A'), 24, RED, GREY, 2);
  await makeDomain(join(t.dir, 'B'), 24, GREEN, GREY, 3);
  await makeLabelMapSet(join(t.dir, 'maps'), 24, 4, 32);
  await makePaired(join(t.dir, 'paired-test'), 10, [RED, GREY], [BLUE, GREY], 5);
  await makeDomain(join(t.dir, 'testA'), 7, RED, GREY, 6);
  await makeDomain(join(t.dir, 'testB'), 9, GREEN, GREY, 7);
  await run('pix2pix', join(t.dir, 'p2p'), { data: join(t.dir, 'paired') }, ['ngf=4', 'ndf=4']);
  await run('cyclegan', join(t.dir, 'cyc'), { data: join(t.dir, 'A'), dataB: join(t.dir, 'B') }, ['ngf=4', 'ndf=4', 'blocks=1']);
  await run('pix2pix', join(t.dir, 'p2p-maps'), { data: join(t.dir, 'maps') }, ['ngf=4', 'ndf=4']);
});
after(() => t.done());

test('a pix2pix run: paired scores on its held-out pairs beside both baselines; ssim on the outputs; class metrics skipped', async () => {
  const r = await evaluate({ synthetic: join(t.dir, 'p2p'), out: join(t.dir, 'r1'), metrics: ['paired', 'ssim', 'tstr', 'domain-tstr'] });
  const p = r.paired as { count: number; output: { l1: number }; identity: { l1: number }; meanTarget: { l1: number } };
  assert.equal(p.count, 6, 'a quarter of 24 pairs held out');
  for (const k of ['output', 'identity', 'meanTarget'] as const) assert.ok(p[k].l1 > 0 && p[k].l1 < 1, `${k} l1 ${p[k].l1}`);
  assert.ok(r.ssim, 'pixel metrics on the translated held-out inputs');
  assert.match(r.skipped['domain-tstr'], /cyclegan/);
  assert.ok(r.skipped.tstr, 'no classes: TSTR does not apply');
});

test('a CycleGAN run: the domain TSTR/TRTR pair from its own splits', { skip: slow }, async () => {
  const r = await evaluate({ synthetic: join(t.dir, 'cyc'), out: join(t.dir, 'r2'), metrics: ['domain-tstr', 'paired'], classifier: { images: 2000 } });
  const d = r['domain-tstr'] as { tstr: number; trtr: number };
  assert.ok(d.tstr >= 0 && d.tstr <= 1 && d.trtr >= 0 && d.trtr <= 1, JSON.stringify(d));
  assert.match(r.skipped.paired, /pix2pix/);
});

test('a pix2pix run on label maps: no identity baseline (a map is not a photo), the other scores stay', async () => {
  const r = await evaluate({ synthetic: join(t.dir, 'p2p-maps'), out: join(t.dir, 'r3'), metrics: ['paired'] });
  const p = r.paired as { identity: unknown; output: { l1: number }; meanTarget: { l1: number } };
  assert.equal(p.identity, null);
  assert.ok(p.output.l1 > 0 && p.meanTarget.l1 > 0);
});

test('an outside test split (--real-test): every pair of it is scored instead of the run\'s holdout', async () => {
  const r = await evaluate({ synthetic: join(t.dir, 'p2p'), realTest: join(t.dir, 'paired-test'), out: join(t.dir, 'r4'), metrics: ['paired'] });
  const p = r.paired as { count: number; output: { l1: number }; identity: { l1: number } };
  assert.equal(p.count, 10);
  assert.match(r.sets.test.name, /paired-test/);
  assert.equal(r.sets.train.count, 18, 'B of the run\'s own train split');
  assert.ok(p.output.l1 > 0 && p.identity.l1 > 0);
});

test('an unpaired run takes its test domains as --real-test (A) and --real-test-b (B)', async () => {
  const r = await evaluate({ synthetic: join(t.dir, 'cyc'), realTest: join(t.dir, 'testA'), realTestB: join(t.dir, 'testB'), out: join(t.dir, 'r5'), metrics: ['ssim'] });
  assert.equal(r.sets.synthetic.count, 7, 'every test A image translated');
  assert.equal(r.sets.test.count, 9);
  assert.match(r.sets.test.name, /^test .*testB$/, 'each domain named by its own folder');
  assert.match(r.sets.train.name, /^train .*[/\\]B$/);
  await assert.rejects(evaluate({ synthetic: join(t.dir, 'cyc'), realTest: join(t.dir, 'testA'), out: join(t.dir, 'r6'), metrics: ['ssim'] }), /--real-test-b/);
  await assert.rejects(evaluate({ synthetic: join(t.dir, 'p2p'), realTest: join(t.dir, 'paired-test'), realTestB: join(t.dir, 'testB'), out: join(t.dir, 'r7'), metrics: ['paired'] }), /one folder holding A\/ and B\//);
  await assert.rejects(evaluate({ synthetic: join(t.dir, 'testA'), realTestB: join(t.dir, 'testB'), out: join(t.dir, 'r8') }), /--real-test-b gives the B-domain test images/);
});
