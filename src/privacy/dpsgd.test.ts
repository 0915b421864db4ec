import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../engine/index.js';
import { privateGradients } from './dpsgd.js';

await initEngine();

/** A two-layer net on 6 inputs and its per-example squared loss. */
function net(seed: number) {
  const w1 = tf.variable(tf.randomNormal([6, 5], 0, 0.5, 'float32', seed), true, `dp-w1-${seed}`);
  const w2 = tf.variable(tf.randomNormal([5, 1], 0, 0.5, 'float32', seed + 1), true, `dp-w2-${seed}`);
  const x = tf.randomNormal([8, 6], 0, 1, 'float32', seed + 2) as tf.Tensor2D;
  const loss = (i: number, scale = 1) => tf.tidy(() => {
    const xi = tf.mul(tf.slice(x, [i, 0], [1, 6]), scale) as tf.Tensor2D;
    return tf.sum(tf.square(tf.matMul(tf.tanh(tf.matMul(xi, w1)), w2))) as tf.Scalar;
  });
  return { vars: [w1, w2], x, loss, dispose: () => tf.dispose([w1, w2, x]) };
}

const flat = (g: tf.NamedTensorMap, vars: tf.Variable[]) => vars.flatMap((v) => Array.from(g[v.name].dataSync()));
const norm = (a: number[]) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));

test('without noise the private gradient is the mean of the per-example gradients, each clipped to norm C', () => {
  const m = net(1);
  try {
    const C = 2.2, n = 8;
    const per = Array.from({ length: n }, (_, i) => {
      const { value, grads } = tf.variableGrads(() => m.loss(i), m.vars);
      const g = flat(grads, m.vars);
      tf.dispose([value, ...Object.values(grads)]);
      return g;
    });
    const expected = per[0].map((_, k) => per.reduce((s, g) => s + g[k] * Math.min(1, C / (norm(g) + 1e-6)), 0) / n);
    assert.ok(per.some((g) => norm(g) > C) && per.some((g) => norm(g) < C), `the example norms straddle C: ${per.map(norm)}`);
    const r = privateGradients(m.vars, n, (i) => m.loss(i), { clip: C, noiseMultiplier: 0, expectedBatch: n, seed: 1 });
    const got = flat(r.grads, m.vars);
    for (let k = 0; k < got.length; k++) assert.ok(Math.abs(got[k] - expected[k]) < 1e-5, `coordinate ${k}: ${got[k]} vs ${expected[k]}`);
    assert.equal(r.clippedShare.dataSync()[0], per.filter((g) => norm(g) > C).length / n);
    tf.dispose([r.loss, r.clippedShare, ...Object.values(r.grads)]);
  } finally {
    m.dispose();
  }
});

test('one planted example with a huge gradient moves the summed update by at most C', () => {
  const m = net(2);
  try {
    const C = 1, o = { clip: C, noiseMultiplier: 0, expectedBatch: 1, seed: 3 };
    const without = privateGradients(m.vars, 7, (i) => m.loss(i), o);
    const withHuge = privateGradients(m.vars, 8, (i) => (i === 7 ? m.loss(7, 1e4) : m.loss(i)), o);
    const a = flat(without.grads, m.vars), b = flat(withHuge.grads, m.vars);
    const moved = norm(a.map((v, k) => b[k] - v));
    assert.ok(moved <= C * (1 + 1e-5) && moved > 0.5 * C, `the planted example moved the sum by ${moved} (C = ${C})`);
    tf.dispose([without.loss, without.clippedShare, withHuge.loss, withHuge.clippedShare, ...Object.values(without.grads), ...Object.values(withHuge.grads)]);
  } finally {
    m.dispose();
  }
});

test('the noise has standard deviation σ·C / expected batch, is seeded, and an empty batch still gets it', () => {
  const big = tf.variable(tf.zeros([200, 250]), true, 'dp-noise');
  try {
    const o = { clip: 2, noiseMultiplier: 1.5, expectedBatch: 4, seed: 11 };
    const r = privateGradients([big], 0, () => tf.scalar(0), o);
    const v = Array.from(r.grads['dp-noise'].dataSync());
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - 1));
    const want = (o.noiseMultiplier * o.clip) / o.expectedBatch;
    // 50,000 draws: the sample sd is within ~0.3 % of sigma (1 sd), the mean within sigma / 224.
    assert.ok(Math.abs(sd / want - 1) < 0.02, `noise sd ${sd}, expected ${want}`);
    assert.ok(Math.abs(mean) < (5 * want) / Math.sqrt(v.length), `noise mean ${mean}`);
    const again = privateGradients([big], 0, () => tf.scalar(0), o);
    assert.deepEqual(Array.from(again.grads['dp-noise'].dataSync()), v, 'same seed, same noise');
    const other = privateGradients([big], 0, () => tf.scalar(0), { ...o, seed: 12 });
    assert.notDeepEqual(Array.from(other.grads['dp-noise'].dataSync().subarray(0, 10)), v.slice(0, 10));
    // A loss-weighted run's empty batch (its examples go through the batched pass, which has none to
    // take) is the same noise, not an error: a private run on a small set meets one now and then.
    const weighted = privateGradients([big], 0, () => tf.scalar(0), { ...o, weighted: true });
    assert.deepEqual(Array.from(weighted.grads['dp-noise'].dataSync()), v);
    assert.throws(() => privateGradients([big], 1, () => tf.scalar(0), { ...o, weighted: true }), /loss-weighted clipping .* use dp\.clipping: flat/);
    tf.dispose([r, again, other, weighted].flatMap((x) => [x.loss, x.clippedShare, ...Object.values(x.grads)]));
  } finally {
    big.dispose();
  }
});

test('DP-SGD refuses settings that would void or break the mechanism', () => {
  const v = [tf.variable(tf.zeros([2]), true, 'dp-bad')];
  const ok = { clip: 1, noiseMultiplier: 1, expectedBatch: 4, seed: 1 };
  try {
    assert.throws(() => privateGradients(v, 1, () => tf.scalar(0), { ...ok, clip: 0 }), /clipping norm C must be a positive number, got 0/);
    assert.throws(() => privateGradients(v, 1, () => tf.scalar(0), { ...ok, noiseMultiplier: -1 }), /noise multiplier σ must be a number ≥ 0, got -1/);
    assert.throws(() => privateGradients(v, 1, () => tf.scalar(0), { ...ok, expectedBatch: 0 }), /expected batch size must be a positive number, got 0/);
    assert.throws(() => privateGradients(v, 1.5, () => tf.scalar(0), ok), /number of examples must be a whole number, got 1.5/);
  } finally {
    tf.dispose(v);
  }
});
