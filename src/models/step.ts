// The one adversarial update every family runs. `update` is one optimizer step on a loss, with
// named statistics kept past the tape's scope; `adversarialUpdate` is the last D update and the G
// update sharing one G forward: G's outputs are made inside G's tape, D learns from them (detached,
// through the pool, as the family's `dStep` decides), then G is judged by the freshly updated D
// (the tape keys tensors by id, so G's gradient flows through D's new weights). `readStats` turns
// the kept scalars into numbers for the log. dcgan/cgan, sngan/wgan-gp, pix2pix and cyclegan all
// use these; only their losses and networks differ.
import * as tf from '@tensorflow/tfjs';

export interface Update { opt: tf.Optimizer; vars: tf.Variable[] }

/** Records a named scalar for the log (kept: it outlives the tape's scope). */
export type Stat = (name: string, x: tf.Scalar) => void;

export type Scalars = Record<string, tf.Scalar>;

/** One update of `u.vars` on `loss()`; returns `{ loss, ...stats }`, all kept (the caller disposes them). */
export function update(u: Update, loss: (stat: Stat) => tf.Scalar): Scalars {
  const stats: Scalars = {};
  const { value, grads } = tf.variableGrads(() => loss((k, x) => {
    stats[k] = tf.keep(x);
  }), u.vars);
  u.opt.applyGradients(grads);
  tf.dispose(Object.values(grads));
  return { loss: tf.keep(value), ...stats };
}

/**
 * One G forward shared by the last D update and the G update. `dStep` runs `update` for D (or
 * several Ds under one optimizer) on the forward's outputs and returns its scalars; `gLoss` is G's
 * loss on the same outputs with D already updated. Returns `{ lossD, ...dStats, lossG, ...gStats }`, kept.
 */
export function adversarialUpdate<F>(g: Update, forward: () => F, dStep: (f: F) => Scalars, gLoss: (f: F, stat: Stat) => tf.Scalar): Scalars {
  let dOut: Scalars = {};
  const gStats: Scalars = {};
  const { value, grads } = tf.variableGrads(() => {
    const f = forward();
    dOut = dStep(f);
    return gLoss(f, (k, x) => {
      gStats[k] = tf.keep(x);
    });
  }, g.vars);
  g.opt.applyGradients(grads);
  tf.dispose(Object.values(grads));
  const { loss: lossD, ...dStats } = dOut;
  return { lossD, lossG: tf.keep(value), ...dStats, ...gStats };
}

/** Runs a step that returns kept scalars inside one scope and reads them all with one download. */
export function readStats(step: () => Scalars): Record<string, number> {
  let keys: string[] = [];
  const out = tf.tidy(() => {
    const s = step();
    keys = Object.keys(s);
    const all = tf.stack(keys.map((k) => s[k]));
    tf.dispose(Object.values(s));
    return all;
  });
  const v = out.dataSync();
  out.dispose();
  return Object.fromEntries(keys.map((k, i) => [k, v[i]]));
}

export const variablesOf = (m: tf.LayersModel): tf.Variable[] => m.trainableWeights.map((w) => w.read() as tf.Variable);
