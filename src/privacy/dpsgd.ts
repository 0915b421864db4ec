// DP-SGD's gradient (Abadi et al. 2016, as Opacus computes it): each example's gradient over all the
// variables together is clipped to L2 norm C, the clipped gradients are summed, Gaussian noise of
// standard deviation σ·C is added to every coordinate, and the sum is divided by the *expected*
// batch size. Under Poisson sampling the batch's own size is random and data-dependent, so dividing
// by it would leak; the accountant (rdp.ts) charges exactly this mechanism.
//
// TF.js has no per-example gradients. For networks of dense and convolution layers they come from one
// batched pass (per_example.ts: per-layer norms from activations and output gradients); anything
// else uses micro-batches of one, n small backward passes (both costs in the DP bench rows).
// Everything stays on the device: no per-example norm is read back.
//
// The noise is seeded so that an interrupted run resumes to the same weights, which makes the seed
// part of the secret: whoever knows it can subtract the noise. A private run therefore draws its noise
// seed from crypto at start and keeps it only in the (private) checkpoint, never in config.json, the
// metrics or the released bundle.
import * as tf from '@tensorflow/tfjs';
import { clippedGradients } from './per_example.js';

export interface DpSgdOptions {
  /** Per-example L2 clipping norm C. */
  clip: number;
  /** σ: the noise's standard deviation is σ·C. */
  noiseMultiplier: number;
  /** Expected examples per batch (q·N under Poisson sampling): the divisor. */
  expectedBatch: number;
  /** Seed of this step's noise (secret; see above). */
  seed: number;
  /** Loss-weighted clipping (per_example.ts): example i's bound is C·min(1, ‖ℓ'ᵢ(outᵢ)‖ / ‖ℓ'ᵢ(0)‖). Batched pass only. */
  weighted?: boolean;
}

export interface PrivateGradients {
  /** The noisy mean clipped gradient per variable name. */
  grads: tf.NamedTensorMap;
  /** Mean of the examples' losses (for the log; not private by itself). */
  loss: tf.Scalar;
  /** Share of the examples whose gradient norm exceeded C. */
  clippedShare: tf.Scalar;
}

function check(o: DpSgdOptions): void {
  const bad = (what: string, v: number, rule: string) => new Error(`DP-SGD: ${what} must be ${rule}, got ${v}.`);
  if (!(Number.isFinite(o.clip) && o.clip > 0)) throw bad('the clipping norm C', o.clip, 'a positive number');
  if (!(Number.isFinite(o.noiseMultiplier) && o.noiseMultiplier >= 0)) throw bad('the noise multiplier σ', o.noiseMultiplier, 'a number ≥ 0');
  if (!(Number.isFinite(o.expectedBatch) && o.expectedBatch > 0)) throw bad('the expected batch size', o.expectedBatch, 'a positive number');
  if (!Number.isInteger(o.seed)) throw bad('the noise seed', o.seed, 'an integer');
}

/**
 * DP-SGD's gradient of `exampleLoss(i)` for i in 0..n-1 (n may be 0: an empty Poisson batch still
 * takes a noisy step). The caller owns the returned tensors.
 */
export function privateGradients(vars: tf.Variable[], n: number, exampleLoss: (i: number) => tf.Scalar, o: DpSgdOptions): PrivateGradients {
  check(o);
  // An empty Poisson batch is noise alone, the same under either clipping: only examples need the batched pass.
  if (o.weighted && n > 0) throw new Error('DP-SGD: loss-weighted clipping (dp.clipping: loss) needs a discriminator of dense and convolution layers only, which this one is not: use dp.clipping: flat.');
  if (!(Number.isInteger(n) && n >= 0)) throw new Error(`DP-SGD: the number of examples must be a whole number, got ${n}.`);
  let sum = vars.map((v) => tf.zerosLike(v) as tf.Tensor);
  let lossSum = tf.scalar(0), clipped = tf.scalar(0);
  for (let i = 0; i < n; i++) {
    const next = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => exampleLoss(i), vars);
      const g = vars.map((v) => grads[v.name]);
      const norm = tf.sqrt(tf.addN(g.map((x) => tf.sum(tf.square(x)))));
      // Opacus's factor: C / (norm + 1e-6), at most 1.
      const factor = tf.minimum(1, tf.div(o.clip, tf.add(norm, 1e-6)));
      return {
        sum: g.map((x, j) => tf.add(sum[j], tf.mul(x, factor))),
        loss: tf.add(lossSum, value) as tf.Scalar,
        clipped: tf.add(clipped, tf.cast(tf.greater(norm, o.clip), 'float32')) as tf.Scalar,
      };
    });
    tf.dispose([...sum, lossSum, clipped]);
    ({ sum, loss: lossSum, clipped } = next);
  }
  const grads = noisyMean(vars, sum, o);
  const loss = tf.tidy(() => tf.div(lossSum, Math.max(n, 1)) as tf.Scalar);
  const clippedShare = tf.tidy(() => tf.div(clipped, Math.max(n, 1)) as tf.Scalar);
  tf.dispose([...sum, lossSum, clipped]);
  return { grads, loss, clippedShare };
}

/** (Σ clipped + N(0, σ²C²)) / expected batch, per variable. */
function noisyMean(vars: tf.Variable[], sums: tf.Tensor[], o: DpSgdOptions): tf.NamedTensorMap {
  return tf.tidy(() => Object.fromEntries(vars.map((v, j) => {
    const noise = o.noiseMultiplier > 0 ? tf.randomNormal(v.shape, 0, o.noiseMultiplier * o.clip, 'float32', o.seed * 1009 + j) : tf.zerosLike(v);
    return [v.name, tf.div(tf.add(sums[j], noise), o.expectedBatch)];
  })));
}

/**
 * The same mechanism as privateGradients from one batched pass over `model` (per_example.ts), with
 * `totalLoss` the sum of the examples' losses; null when the model has a layer that pass cannot
 * handle. `outputs` are the model's outputs on the batch. The caller owns the result.
 */
export function privateBatchGradients(model: tf.LayersModel, vars: tf.Variable[], inputs: tf.Tensor[], totalLoss: (outputs: tf.Tensor[]) => tf.Scalar, o: DpSgdOptions): (PrivateGradients & { outputs: tf.Tensor[] }) | null {
  check(o);
  const n = inputs[0].shape[0];
  if (n === 0) return null;
  const r = clippedGradients(model, inputs, totalLoss, o.clip, o.weighted);
  if (!r) return null;
  const missing = vars.find((v) => !r.sums[v.name]);
  if (missing) {
    tf.dispose([r.norms, r.loss, ...r.outputs, ...Object.values(r.sums)]);
    throw new Error(`DP-SGD: variable ${missing.name} is not one of the model's trainable weights.`);
  }
  const grads = noisyMean(vars, vars.map((v) => r.sums[v.name]), o);
  const loss = tf.tidy(() => tf.div(r.loss, n) as tf.Scalar);
  const clippedShare = tf.tidy(() => tf.mean(tf.cast(tf.greater(r.norms, o.clip), 'float32')) as tf.Scalar);
  tf.dispose([r.norms, r.loss, ...Object.values(r.sums)]);
  return { grads, loss, clippedShare, outputs: r.outputs };
}
