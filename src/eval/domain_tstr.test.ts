// Domain TSTR/TRTR: a translator that makes real B images scores like the real pair; one that
// returns its input unchanged scores at chance on real B.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../engine/index.js';
import { memorySet } from '../data/image_set.js';
import { domainTstr } from './domain_tstr.js';
import { rng } from '../util/random.js';
import { SKIP_NATIVE } from '../engine/test_util.js';

await initEngine();

/** n 32 px images: a random rectangle of colour fg on grey. */
function shapes(name: string, n: number, fg: number[], seed: number) {
  const rand = rng(seed), s = 32, bytes = new Uint8Array(n * s * s * 3).fill(128);
  for (let i = 0; i < n; i++) {
    const w = 8 + Math.floor(rand() * 12), x0 = Math.floor(rand() * (s - w)), y0 = Math.floor(rand() * (s - w));
    for (let y = y0; y < y0 + w; y++) for (let x = x0; x < x0 + w; x++) bytes.set(fg, ((i * s + y) * s + x) * 3);
  }
  return memorySet({ name, size: s, channels: 3, classes: [], labels: null, bytes });
}

// Three classifiers train here: minutes on the pure-JS backend, so only with the addon (the classifier
// itself is covered on both backends by classifier.test.ts and tstr.test.ts).
test('domain TSTR: a faithful translator matches TRTR, an identity one falls to chance', { skip: SKIP_NATIVE }, () => {
  const red = [220, 30, 30], green = [30, 200, 40];
  const trainA = shapes('A', 64, red, 1), trainB = shapes('B', 64, green, 2);
  const testA = shapes('A test', 32, red, 3), testB = shapes('B test', 32, green, 4);
  const opts = { images: 3000, seed: 1 };
  const good = domainTstr({ trainA, trainB, translated: shapes('G(A)', 32, green, 5), testA, testB }, opts);
  assert.ok(good.trtr > 0.95 && good.tstr > 0.95, `TSTR ${good.tstr} TRTR ${good.trtr}`);
  assert.equal(good.testCount, 64);
  const idle = domainTstr({ trainA, trainB, translated: testA, testA, testB }, opts);
  assert.ok(idle.tstr < 0.75, `an identity translator should not tell real B apart: TSTR ${idle.tstr}`);
});
