// Paired scores against values worked out by hand, and the baselines' ordering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../engine/index.js';
import { memorySet } from '../data/image_set.js';
import { getMetric } from './index.js';
import { pairedScores } from './paired.js';
import { rng } from '../util/random.js';

await initEngine();

const set = (name: string, bytes: Uint8Array, n: number) => memorySet({ name, size: 32, channels: 3, classes: [], labels: null, bytes: bytes.subarray(0, n * 32 * 32 * 3) });

test('paired: L1, PSNR and SSIM of outputs beside the input and mean-target baselines', async () => {
  const n = 6, px = 32 * 32 * 3, rand = rng(3);
  const target = new Uint8Array(n * px).map(() => 40 + Math.floor(rand() * 170));
  const output = target.map((v) => v + 10);
  const input = new Uint8Array(n * px).map(() => Math.floor(rand() * 256));
  const sets = { input: set('in', input, n), output: set('out', output, n), target: set('t', target, n), trainTargets: set('tt', target, n) };
  const r = pairedScores(sets);
  assert.ok(Math.abs(r.output.l1 - 10 / 255) < 1e-5, `L1 ${r.output.l1}`);
  assert.ok(Math.abs(r.output.psnr - 20 * Math.log10(255 / 10)) < 1e-3, `PSNR ${r.output.psnr}`);
  assert.ok(r.output.ssim > 0.95, `SSIM of a shifted copy ${r.output.ssim}`);
  assert.ok(r.identity!.l1 > 3 * r.output.l1 && r.identity!.ssim < 0.3, 'noise input is a poor translation');
  assert.ok(r.meanTarget.l1 > r.output.l1 && r.meanTarget.psnr < r.output.psnr);
  assert.equal(r.output.perImage.l1.length, n);
  const m = getMetric('paired');
  assert.match(m.applies!({} as never) ?? '', /needs held-out pairs/);
  assert.throws(() => pairedScores({ ...sets, output: set('short', output, n - 1) }), /one output and one target per input/);
});
