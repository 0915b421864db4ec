import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../engine/index.js';
import './sngan.js';
import { getFamily } from './family.js';
import { checkFamily } from './gan_family_checks.js';

await initEngine();
// Five ResNet D updates per step take ~20 s on the pure-JS backend; one (the other test) ~10 s.
const slow = tf.getBackend() === 'cpu' ? 'five ResNet D updates per step are too slow on the pure-JS cpu backend' : false;
const base = { size: 32 as const, channels: 3 as const, zDim: 16, seed: 5 };

test('sngan, conditional (projection D, conditional batch-norm G): steps, leaks nothing, reloads', async () => {
  await checkFamily('sngan', { ...base, numClasses: 3, options: { gWidth: 8, dWidth: 8 } });
});

test('sngan, unconditional, paper preset (ndis 5)', { skip: slow }, async () => {
  await checkFamily('sngan', { ...base, channels: 1, numClasses: 0, options: { gWidth: 8, dWidth: 8, preset: 'paper' } });
});

test('sngan options: presets and clear errors', () => {
  const fam = getFamily('sngan');
  const build = (options: Record<string, unknown>, numClasses = 0) => fam.build({ ...base, numClasses, options: { ...fam.defaults, gWidth: 2, dWidth: 2, ...options } });
  const m = build({ preset: 'paper' });
  assert.equal(m.ndis, 5);
  const adam = m.optimizers.d as unknown as { beta1: number; beta2: number; learningRate: number };
  assert.deepEqual([adam.learningRate, adam.beta1, adam.beta2], [2e-4, 0, 0.9]);
  m.dispose();
  const d = build({});
  assert.equal(d.ndis, 1);
  d.dispose();
  assert.throws(() => build({ preset: 'fast' }), /preset/);
  assert.throws(() => build({ conditional: true }), /at least 2 classes/);
  assert.throws(() => build({ gWidth: 0 }), /gWidth/);
  const cond = fam.conditional as (o: Record<string, unknown>, dataClasses: number) => boolean;
  assert.equal(cond({ conditional: true }, 0), true);
  assert.equal(cond({ conditional: null }, 10), true, 'automatic: conditional when the data has classes');
  assert.equal(cond({ conditional: null }, 0), false);
  assert.equal(cond({ conditional: false }, 10), false);
});
