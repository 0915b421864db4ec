import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../engine/index.js';
import { buildDiscriminator } from '../models/dcgan_nets.js';
import { variablesOf } from '../models/step.js';
import { clippedGradients, supportsBatchedClipping } from './per_example.js';
import { privateBatchGradients, privateGradients } from './dpsgd.js';

await initEngine();

const flat = (g: tf.NamedTensorMap, vars: tf.Variable[]) => vars.flatMap((v) => Array.from(g[v.name].dataSync()));

/** A cgan-style D (label planes, three k4 s2 convs, dense) or an AC-GAN one (two dense heads). */
function disc(aux: boolean) {
  const d = buildDiscriminator({ size: 32, channels: 1, zDim: 8, numClasses: 4, width: 6, dBatchNorm: false, auxClassifier: aux, seed: 5 });
  const n = 6;
  // Example 3 is scaled up so that its gradient is far past C, the others straddle it.
  const x = tf.tidy(() => tf.mul(tf.randomNormal([n, 32, 32, 1], 0, 1, 'float32', 7), tf.tensor4d([1, 0.2, 3, 40, 0.5, 1], [n, 1, 1, 1])));
  const hot = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1], 'int32'), 4).toFloat() as tf.Tensor2D;
  const inputs = aux ? [x] : [x, hot];
  const loss = (out: tf.Tensor | tf.Tensor[], h: tf.Tensor2D) => {
    const [logit, cls] = Array.isArray(out) ? out : [out, null];
    const adv = tf.sum(tf.softplus(tf.neg(logit)));
    return (cls ? tf.add(adv, tf.sum(tf.mul(tf.neg(tf.logSoftmax(cls)), h))) : adv) as tf.Scalar;
  };
  return { d, vars: variablesOf(d), inputs, x, hot, loss, n, dispose: () => { tf.dispose([x, hot]); d.dispose(); } };
}

for (const aux of [false, true]) {
  test(`one batched pass gives each example's clipped gradient as micro-batches of one do (${aux ? 'two heads' : 'label planes'})`, () => {
    const m = disc(aux);
    try {
      assert.ok(supportsBatchedClipping(m.d));
      // C between the examples' norms, so that some are clipped and some not.
      const first = clippedGradients(m.d, m.inputs, (out) => m.loss(out.length === 1 ? out[0] : out, m.hot), 1)!;
      const sorted = Array.from(first.norms.dataSync()).sort((a, b) => a - b);
      tf.dispose([first.norms, first.loss, ...first.outputs, ...Object.values(first.sums)]);
      const C = (sorted[2] + sorted[3]) / 2;
      const row = (t: tf.Tensor, i: number) => tf.slice(t, [i, ...t.shape.slice(1).map(() => 0)], [1, ...t.shape.slice(1)]);
      const micro = privateGradients(m.vars, m.n, (i) => {
        const ins = m.inputs.map((t) => row(t, i));
        return m.loss(m.d.apply(ins.length === 1 ? ins[0] : ins, { training: true }) as tf.Tensor, row(m.hot, i) as tf.Tensor2D);
      }, { clip: C, noiseMultiplier: 0, expectedBatch: 1, seed: 1 });
      const r = clippedGradients(m.d, m.inputs, (out) => m.loss(out.length === 1 ? out[0] : out, m.hot), C)!;
      // Per-example norms against the variables' own gradients, one example at a time.
      const norms = Array.from(r.norms.dataSync());
      for (let i = 0; i < m.n; i++) {
        const { value, grads } = tf.variableGrads(() => {
          const ins = m.inputs.map((t) => row(t, i));
          return m.loss(m.d.apply(ins.length === 1 ? ins[0] : ins, { training: true }) as tf.Tensor, row(m.hot, i) as tf.Tensor2D);
        }, m.vars);
        const want = Math.sqrt(flat(grads, m.vars).reduce((s, v) => s + v * v, 0));
        assert.ok(Math.abs(norms[i] - want) <= 1e-4 * want + 1e-7, `example ${i}: norm ${norms[i]} vs ${want}`);
        tf.dispose([value, ...Object.values(grads)]);
      }
      assert.ok(norms.some((v) => v > C) && norms.some((v) => v < C), `norms straddle C: ${norms}`);
      const got = flat(r.sums, m.vars), want = flat(micro.grads, m.vars);
      const scale = Math.max(...want.map(Math.abs));
      for (let k = 0; k < got.length; k++) assert.ok(Math.abs(got[k] - want[k]) <= 1e-4 * scale, `coordinate ${k}: ${got[k]} vs ${want[k]}`);
      tf.dispose([r.norms, r.loss, ...r.outputs, ...Object.values(r.sums), micro.loss, micro.clippedShare, ...Object.values(micro.grads)]);
    } finally {
      m.dispose();
    }
  });
}

test('the batched mechanism: clipped share, noise of sd σC/B, and the outputs of the pass', () => {
  const m = disc(false);
  try {
    const o = { clip: 0.525, noiseMultiplier: 2, expectedBatch: 3, seed: 9 };
    const r = privateBatchGradients(m.d, m.vars, m.inputs, (out) => m.loss(out[0], m.hot), o)!;
    const quiet = privateBatchGradients(m.d, m.vars, m.inputs, (out) => m.loss(out[0], m.hot), { ...o, noiseMultiplier: 0 })!;
    const diff = flat(r.grads, m.vars).map((v, k) => v - flat(quiet.grads, m.vars)[k]);
    const sd = Math.sqrt(diff.reduce((s, v) => s + v * v, 0) / diff.length);
    const want = (o.noiseMultiplier * o.clip) / o.expectedBatch;
    assert.ok(Math.abs(sd / want - 1) < 0.05, `noise sd ${sd} vs ${want} over ${diff.length} coordinates`);
    const logits = m.d.apply(m.inputs, { training: true }) as tf.Tensor;
    assert.deepEqual(Array.from(r.outputs[0].dataSync()).map((v) => v.toFixed(4)), Array.from(logits.dataSync()).map((v) => v.toFixed(4)));
    const share = r.clippedShare.dataSync()[0];
    assert.ok(share > 0 && share < 1, `clipped share ${share}`);
    tf.dispose([logits, ...[r, quiet].flatMap((x) => [x.loss, x.clippedShare, ...x.outputs, ...Object.values(x.grads)])]);
  } finally {
    m.dispose();
  }
});

test('a network whose layers mix examples (batch norm) is not handled in one pass', () => {
  const d = buildDiscriminator({ size: 32, channels: 1, zDim: 8, numClasses: 0, width: 4, dBatchNorm: true, seed: 2 });
  const x = tf.zeros([2, 32, 32, 1]);
  try {
    assert.equal(supportsBatchedClipping(d), false);
    assert.equal(clippedGradients(d, [x], (o) => tf.sum(o[0]) as tf.Scalar, 1), null);
  } finally {
    x.dispose();
    d.dispose();
  }
});

for (const aux of [false, true]) {
  test(`loss-weighted clipping: example i held to C·min(1, ‖ℓ'ᵢ(outᵢ)‖ / ‖ℓ'ᵢ(0)‖), and removing any one example moves the sum by at most C (${aux ? 'two heads' : 'label planes'})`, () => {
    const m = disc(aux);
    const row = (t: tf.Tensor, i: number) => tf.slice(t, [i, ...t.shape.slice(1).map(() => 0)], [1, ...t.shape.slice(1)]);
    // A fresh D's outputs sit within 0.01 of 0, where every weight is 1: scaled outputs and a
    // real/fake target per class make some examples confidently right (weight < 1), some wrong.
    const target = tf.tensor2d([1, -1, 1, -1], [4, 1]);
    const lossOf = (out: tf.Tensor[], h: tf.Tensor2D) => {
      const adv = tf.sum(tf.softplus(tf.neg(tf.mul(tf.mul(out[0], 300), tf.matMul(h, target)))));
      return (out[1] ? tf.add(adv, tf.sum(tf.mul(tf.neg(tf.logSoftmax(tf.mul(out[1], 300))), h))) : adv) as tf.Scalar;
    };
    const normOf = (gs: tf.Tensor[]) => Math.sqrt(gs.reduce((s, g) => s + tf.sum(tf.square(g)).dataSync()[0], 0));
    try {
      const C = 0.05;
      const r = clippedGradients(m.d, m.inputs, (out) => lossOf(out, m.hot), C, true)!;
      const want = m.vars.map((v) => new Float32Array(v.size));
      const ws: number[] = [];
      for (let i = 0; i < m.n; i++) {
        const ins = m.inputs.map((t) => row(t, i));
        const outs = [m.d.apply(ins.length === 1 ? ins[0] : ins, { training: true })].flat() as tf.Tensor[];
        // ℓᵢ's gradient at D's outputs, straight from autograd on the outputs themselves.
        const gOut = tf.grads((...o: tf.Tensor[]) => lossOf(o, row(m.hot, i) as tf.Tensor2D))(outs);
        const gRef = tf.grads((...o: tf.Tensor[]) => lossOf(o, row(m.hot, i) as tf.Tensor2D))(outs.map((o) => tf.zerosLike(o)));
        const w = Math.min(1, normOf(gOut) / normOf(gRef));
        tf.dispose(gRef);
        const { value, grads } = tf.variableGrads(() => lossOf([m.d.apply(ins.length === 1 ? ins[0] : ins, { training: true })].flat() as tf.Tensor[], row(m.hot, i) as tf.Tensor2D), m.vars);
        const g = m.vars.map((v) => Array.from(grads[v.name].dataSync()));
        const norm = Math.sqrt(g.reduce((s, x) => s + x.reduce((t, v) => t + v * v, 0), 0));
        ws.push(w);
        const c = Math.min(1, (C * w) / (norm + 1e-6));
        g.forEach((x, j) => x.forEach((v, k) => { want[j][k] += c * v; }));
        tf.dispose([value, ...Object.values(grads), ...outs, ...gOut, ...ins]);
      }
      assert.ok(ws.some((w) => w < 0.9) && ws.some((w) => w === 1), `examples should weigh both below 1 and 1 here: ${ws}`);
      const got = flat(r.sums, m.vars), ref = want.flatMap((x) => Array.from(x));
      const scale = Math.max(...ref.map(Math.abs));
      for (let k = 0; k < got.length; k++) assert.ok(Math.abs(got[k] - ref[k]) <= 1e-4 * scale, `coordinate ${k}: ${got[k]} vs ${ref[k]}`);
      // Neighbouring data sets: the batch without example i.
      for (let i = 0; i < m.n; i++) {
        const keep = tf.tensor1d(Array.from({ length: m.n }, (_, j) => j).filter((j) => j !== i), 'int32');
        const ins = m.inputs.map((t) => tf.gather(t, keep));
        const hot = tf.gather(m.hot, keep) as tf.Tensor2D;
        const without = clippedGradients(m.d, ins, (out) => lossOf(out, hot), C, true)!;
        const moved = Math.sqrt(got.reduce((s, v, k) => s + (v - flat(without.sums, m.vars)[k]) ** 2, 0));
        assert.ok(moved <= C * (1 + 1e-3), `removing example ${i} moved the sum by ${moved} > C = ${C}`);
        tf.dispose([keep, hot, ...ins, without.norms, without.loss, ...without.outputs, ...Object.values(without.sums)]);
      }
      tf.dispose([r.norms, r.loss, ...r.outputs, ...Object.values(r.sums)]);
    } finally {
      target.dispose();
      m.dispose();
    }
  });
}

test('loss-weighted clipping needs the batched pass: micro-batches refuse it (an empty batch, noise alone, is not refused)', () => {
  const o = { clip: 1, noiseMultiplier: 0, expectedBatch: 1, seed: 1, weighted: true };
  assert.throws(() => privateGradients([], 2, () => tf.scalar(0), o), /loss-weighted clipping.*dp\.clipping: flat/);
  const empty = privateGradients([], 0, () => tf.scalar(0), o);
  tf.dispose([empty.loss, empty.clippedShare]);
});
