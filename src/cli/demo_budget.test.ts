import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AVX2_COSTS, AVX512_COSTS, evalCostsFor, evalSeconds, formatDuration, INCV3_MAX, INCV3_MIN, incv3SamplesFor, StageClock, trainingDeadline } from './demo_budget.js';

const MIN = 60_000;

test('a fast machine trains until the full evaluation just fits, and then gets full InceptionV3 samples', () => {
  const rate = 2000;
  const start = 0;
  const end = 20 * MIN;
  const stop = trainingDeadline(end, start, rate);
  assert.ok(stop > start + 0.6 * (end - start), 'most of the budget goes to training');
  assert.ok(Math.abs(end - stop - evalSeconds(rate, INCV3_MAX) * 1000) < 1, 'what is left is the full evaluation');
  assert.equal(incv3SamplesFor((end - stop) / 1000, rate), INCV3_MAX);
});

test('a slow machine keeps 60 % of the budget for training and sizes InceptionV3 down or skips it', () => {
  const start = 0;
  const end = 20 * MIN;
  for (const rate of [150, 300, 450]) {
    const stop = trainingDeadline(end, start, rate);
    const left = (end - stop) / 1000;
    assert.ok(left >= evalSeconds(rate, 0) - 1e-6, `rate ${rate}: the bare evaluation always fits`);
    const n = incv3SamplesFor(left, rate);
    assert.ok(n === 0 || (n >= INCV3_MIN && n <= INCV3_MAX), `rate ${rate}: ${n}`);
    assert.ok(evalSeconds(rate, n) <= left + 1e-6, `rate ${rate}: the chosen size fits what is left`);
  }
  // So slow that even the bare evaluation eats most of the budget: training gets what is left, never negative.
  assert.equal(trainingDeadline(end, start, 50), Math.max(start, end - evalSeconds(50, 0) * 1000));
  assert.equal(trainingDeadline(end, start, 1), start);
});

test('more time or a faster machine never means fewer InceptionV3 samples', () => {
  let last = 0;
  for (let s = 0; s < 2000; s += 50) {
    const n = incv3SamplesFor(s, 400);
    assert.ok(n >= last);
    last = n;
  }
  assert.equal(last, INCV3_MAX);
  assert.equal(incv3SamplesFor(10, 400), 0);
});

test('the stage clock adds up re-entered stages in first-seen order', () => {
  const c = new StageClock();
  c.enter('training', 0);
  c.enter('generate', 90_000);
  c.enter('generate', 95_000);
  c.enter('tstr', 100_000);
  c.enter('generate', 130_000);
  c.leave(131_000);
  assert.equal(c.summary(), 'training 1 min 30 s, generate 11 s, tstr 30 s');
  assert.equal(c.totalMs(), 131_000);
  assert.equal(formatDuration(5_400), '5 s');
});

test('per-CPU costs: on an AVX2-only CPU the same training speed buys a longer evaluation and fewer InceptionV3 images', () => {
  assert.equal(evalCostsFor('avx512_core_amx'), AVX512_COSTS);
  assert.equal(evalCostsFor('avx2'), AVX2_COSTS);
  assert.equal(evalCostsFor('sse41'), AVX2_COSTS);
  // ~395 img/s of the old batch-32 recipe there is ~237 of the batch-16 one (x 0.60, measured under the AVX2 cap).
  const rate = 237, end = 20 * MIN;
  assert.ok(evalSeconds(rate, 0, AVX2_COSTS) > evalSeconds(rate, 0, AVX512_COSTS));
  // The run that overran on AVX2 (2026-12-02): 13.4 min of training then 900 images per set. With its
  // own costs (the filtered TSTR included) the demo trains until the bare evaluation just fits, under
  // 60 % of the budget, and leaves InceptionV3 out rather than overrun.
  const stop = trainingDeadline(end, 0, rate, AVX2_COSTS);
  assert.ok(Math.abs(end - stop - evalSeconds(rate, 0, AVX2_COSTS) * 1000) < 1);
  assert.ok(stop < 0.6 * end && stop > 0.45 * end, `training ${stop / MIN} min`);
  assert.equal(incv3SamplesFor((end - stop) / 1000, rate, AVX2_COSTS), 0);
  assert.ok(evalSeconds(rate, 0, AVX2_COSTS) <= (end - stop) / 1000 + 1e-9);
  // A faster machine: the AVX-512 costs buy the full InceptionV3 sample, the AVX2 ones fewer images.
  const fast = 500;
  const incv3 = (c: typeof AVX2_COSTS) => incv3SamplesFor((end - trainingDeadline(end, 0, fast, c)) / 1000, fast, c);
  assert.equal(incv3(AVX512_COSTS), INCV3_MAX);
  assert.ok(incv3(AVX2_COSTS) < INCV3_MAX);
});
