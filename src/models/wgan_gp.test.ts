import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../engine/index.js';
import './wgan_gp.js';
import { getFamily } from './family.js';
import { checkFamily } from './gan_family_checks.js';

await initEngine();
const base = { size: 32 as const, channels: 3 as const, zDim: 16, seed: 5 };

test('wgan-gp, conditional (projection critic, layer norm): steps, leaks nothing, reloads', async () => {
  await checkFamily('wgan-gp', { ...base, numClasses: 3, options: { width: 4 } }, ['gp']);
});

test('wgan-gp, unconditional without critic norm, one critic update', async () => {
  await checkFamily('wgan-gp', { ...base, channels: 1, numClasses: 0, options: { width: 2, norm: 'none', ndis: 1 } }, ['gp']);
});

test('wgan-gp: labels ignored when conditional is false; clear option errors', () => {
  const fam = getFamily('wgan-gp');
  const build = (options: Record<string, unknown>, numClasses = 0) => fam.build({ ...base, numClasses, options: { ...fam.defaults, width: 2, ...options } });
  const m = build({ conditional: false }, 3);
  assert.equal(m.generator.inputs.length, 1);
  assert.equal(m.ndis, 5);
  m.dispose();
  assert.throws(() => build({ norm: 'batch' }), /norm/);
  assert.throws(() => build({ lambda: -1 }), /lambda/);
});
