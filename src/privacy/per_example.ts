// Per-example clipped gradients of a whole batch in one pass (ghost clipping, Goodfellow 2015; Li et
// al. 2022; Opacus's grad samplers). The weight gradient of a dense or convolution layer for one
// example is Σ_t a_t ⊗ g_t over its output positions t, where a are the layer's input patches and g
// the loss's gradient at its output; so one forward pass (keeping each layer's input) and one
// backward pass to the layers' outputs give every example's gradient norm:
//   - dense: ‖a‖²·‖g‖² exactly;
//   - convolution: either ‖Pᵀg‖² from the explicit per-example gradient (T·K·C work), or the ghost
//     norm Σ (PPᵀ ⊙ ggᵀ) (T²·(K + C) work, never materialising the gradient), whichever is cheaper.
// The clipped sum is then one matmul per layer, Pᵀ (c ⊙ g), with c = min(1, C / ‖∇ᵢ‖): about one
// ordinary backward pass more, instead of one backward pass per example.
//
// Loss-weighted clipping (option `weighted`) bounds example i's contribution by C·wᵢ instead, with
// wᵢ = min(1, ‖∂ℓᵢ/∂outᵢ‖ / ‖∂ℓᵢ/∂out at 0‖) read off a probe at the model's outputs: c = min(1,
// C·wᵢ / ‖∇ᵢ‖). So a D whose examples are all clipped still weighs a confidently right example less
// than a wrong one (flat clipping makes every example count C, erasing what BCE's |σ(logit) − y|
// says). The reference is the same loss at an undecided D (all outputs 0: BCE's 0.5, hinge's and
// WGAN's 1), so an example D cannot yet judge counts C as under flat clipping: measured against the
// bare ‖ℓ'ᵢ‖ instead, BCE capped every example at C/2 and a private FMNIST run at ε = 1, whose
// gradients mostly sit below C, lost half its signal to the same noise (TSTR 68.6 % → 42.2 %).
// Each contribution stays within C and depends on its own example only, so the sensitivity and the
// accountant are unchanged.
//
// Only sound where examples never meet inside the network: every layer must be per-example (no
// batch norm, no minibatch statistics). Layers this file does not know make it return null, and the
// caller falls back to micro-batches of one.
import * as tf from '@tensorflow/tfjs';
import { im2col, type PatchGeometry } from '../engine/index.js';

/** Layers without weights that act on each example alone. */
const PER_EXAMPLE = new Set(['InputLayer', 'LeakyReLU', 'ReLU', 'Activation', 'Flatten', 'Reshape', 'Concatenate', 'SynthsetLabelPlanes']);

interface Site {
  layer: tf.layers.Layer;
  /** The convolution's geometry; undefined for a dense layer. */
  conv?: PatchGeometry;
  kernel: tf.Variable;
  bias: tf.Variable | null;
}

function siteOf(layer: tf.layers.Layer): Site | null | 'none' {
  const weights = layer.trainableWeights;
  if (!weights.length) return PER_EXAMPLE.has(layer.getClassName()) ? 'none' : null;
  const vars = weights.map((w) => w.read() as tf.Variable);
  const kernel = vars.find((v) => v.rank >= 2), bias = vars.find((v) => v.rank === 1) ?? null;
  if (!kernel || vars.length !== (bias ? 2 : 1)) return null;
  const cfg = layer.getConfig();
  const inRank = layer.inboundNodes[0]?.inputTensors[0]?.shape.length;
  if (layer.getClassName() === 'Dense' && kernel.rank === 2 && inRank === 2 && (cfg.activation ?? 'linear') === 'linear') return { layer, kernel, bias };
  if (layer.getClassName() === 'SynthsetConv2D' && kernel.rank === 4) {
    return { layer, kernel, bias, conv: { k: cfg.kernelSize as number, stride: cfg.strides as number, padding: cfg.padding as 'same' | 'valid' } };
  }
  return null;
}

/** Whether `model` is one that clippedGradients can handle. */
export function supportsBatchedClipping(model: tf.LayersModel): boolean {
  return plan(model) !== null;
}

type Plan = { layer: tf.layers.Layer; site: Site | null }[] | null;
// A built model's layers do not change, and a private run asks once per D update.
const plans = new WeakMap<tf.LayersModel, Plan>();

function plan(model: tf.LayersModel): Plan {
  if (plans.has(model)) return plans.get(model)!;
  let steps: Plan = [];
  for (const layer of model.layers) {
    const s = layer.inboundNodes.length === 1 ? siteOf(layer) : null;
    if (s === null) { steps = null; break; }
    steps.push({ layer, site: s === 'none' ? null : s });
  }
  plans.set(model, steps);
  return steps;
}

export interface ClippedGradients {
  /** Σᵢ min(1, C/‖∇ᵢ‖)·∇ᵢ per variable name (C·wᵢ in place of C when weighted). */
  sums: tf.NamedTensorMap;
  /** ‖∇ᵢ‖ over all of the model's variables. */
  norms: tf.Tensor1D;
  /** The total loss. */
  loss: tf.Scalar;
  /** The model's outputs on `inputs`. */
  outputs: tf.Tensor[];
}

/**
 * The per-example clipped gradient sum of `totalLoss`, which must be a sum of one term per example
 * (example i's term may read only row i of the outputs), over the trainable variables of `model`.
 * Null when the model has a layer this cannot handle. The caller owns the result.
 */
export function clippedGradients(model: tf.LayersModel, inputs: tf.Tensor[], totalLoss: (outputs: tf.Tensor[]) => tf.Scalar, clip: number, weighted = false): ClippedGradients | null {
  const steps = plan(model);
  if (!steps) return null;
  const n = inputs[0].shape[0];
  const sites = steps.filter((s) => s.site).map((s) => s.site!);
  const acts: tf.Tensor[] = [];
  let outputs: tf.Tensor[] = [];
  const shapeOf = (s: tf.Shape | tf.Shape[]) => [n, ...(s as number[]).slice(1)];
  const probes = sites.map((s) => tf.zeros(shapeOf(s.layer.outputShape)));
  if (weighted) probes.push(...model.outputs.map((o) => tf.zeros(shapeOf(o.shape))));
  const forward = (...p: tf.Tensor[]): tf.Scalar => {
    const values = new Map<number, tf.Tensor>(model.inputs.map((x, i) => [x.id, inputs[i]]));
    let site = 0;
    for (const { layer, site: s } of steps) {
      const node = layer.inboundNodes[0];
      if (layer.getClassName() === 'InputLayer') continue;
      const ins = node.inputTensors.map((t) => values.get(t.id)!);
      let out = layer.apply(ins.length === 1 ? ins[0] : ins, { training: true }) as tf.Tensor;
      if (s) {
        acts.push(tf.keep(ins[0]));
        out = tf.add(out, p[site++]);
      }
      values.set(node.outputTensors[0].id, out);
    }
    outputs = model.outputs.map((o, j) => tf.keep(weighted ? tf.add(values.get(o.id)!, p[site + j]) : values.get(o.id)!));
    return totalLoss(outputs);
  };
  const { value, grads } = tf.valueAndGrads(forward)(probes);
  const own = acts.filter((a) => !inputs.includes(a));
  try {
    return tf.tidy(() => {
      const rowsIn = sites.map((s, l) => (s.conv ? im2col(acts[l] as tf.Tensor4D, s.conv) : acts[l]));
      const norms = tf.sqrt(tf.addN(sites.map((s, l) => layerNormsSq(s, rowsIn[l], grads[l])))) as tf.Tensor1D;
      const bound = weighted ? tf.mul(clip, lossWeights(outputs, grads.slice(sites.length), totalLoss)) : tf.scalar(clip);
      const factor = tf.minimum(1, tf.div(bound, tf.add(norms, 1e-6))) as tf.Tensor1D;
      const sums: tf.NamedTensorMap = {};
      sites.forEach((s, l) => Object.assign(sums, clippedSum(s, rowsIn[l], grads[l], factor)));
      return { sums, norms, loss: tf.keep(value) as tf.Scalar, outputs };
    });
  } finally {
    tf.dispose([...grads, ...probes, ...own]);
  }
}

/**
 * wᵢ = min(1, ‖ℓ'ᵢ(outᵢ)‖ / ‖ℓ'ᵢ(0)‖) per example [n]. A loss flat at 0 gives 1 (flat clipping) unless
 * ℓ'ᵢ(outᵢ) is 0 too, and then ∇ᵢ is 0 and its weight moves nothing.
 */
function lossWeights(outputs: tf.Tensor[], gs: tf.Tensor[], totalLoss: (outputs: tf.Tensor[]) => tf.Scalar): tf.Tensor1D {
  const ref = outputGradNorms(tf.grads((...o: tf.Tensor[]) => totalLoss(o))(outputs.map((o) => tf.zerosLike(o))));
  return tf.minimum(1, tf.div(outputGradNorms(gs), tf.maximum(ref, 1e-12))) as tf.Tensor1D;
}

/** ‖∂ℓᵢ/∂outᵢ‖ over all of the model's outputs, per example [n]. */
function outputGradNorms(gs: tf.Tensor[]): tf.Tensor1D {
  return tf.sqrt(tf.addN(gs.map((g) => tf.sum(tf.square(tf.reshape(g, [g.shape[0], -1])), 1)))) as tf.Tensor1D;
}

function flatRows(g: tf.Tensor): tf.Tensor3D {
  return tf.reshape(g, [g.shape[0], -1, g.shape[g.rank - 1]]);
}

/** ‖∇ᵢ‖² of one layer's variables, per example [n]; `a` is its input, as patches [n, T, K] for a convolution. */
function layerNormsSq(s: Site, a: tf.Tensor, g: tf.Tensor): tf.Tensor1D {
  const gr = flatRows(g);
  const bias = s.bias ? tf.sum(tf.square(tf.sum(gr, 1)), 1) : null;
  let kernel: tf.Tensor1D;
  if (!s.conv) {
    kernel = tf.mul(tf.sum(tf.square(a), 1), tf.sum(tf.square(gr), [1, 2]));
  } else {
    const p = a as tf.Tensor3D;
    const [, t, k] = p.shape, c = gr.shape[2];
    kernel = t * (k + c) < k * c
      ? tf.sum(tf.mul(tf.matMul(p, p, false, true), tf.matMul(gr, gr, false, true)), [1, 2])
      : tf.sum(tf.square(tf.matMul(p, gr, true, false)), [1, 2]);
  }
  return (bias ? tf.add(kernel, bias) : kernel) as tf.Tensor1D;
}

/** Σᵢ cᵢ·∇ᵢ of one layer's variables (`a` as for layerNormsSq). */
function clippedSum(s: Site, a: tf.Tensor, g: tf.Tensor, factor: tf.Tensor1D): tf.NamedTensorMap {
  const n = g.shape[0];
  const cg = tf.mul(g, tf.reshape(factor, [n, ...g.shape.slice(1).map(() => 1)]));
  const rows = tf.reshape(cg, [-1, g.shape[g.rank - 1]]) as tf.Tensor2D;
  const input = tf.reshape(a, [rows.shape[0], -1]) as tf.Tensor2D;
  const out: tf.NamedTensorMap = { [s.kernel.name]: tf.reshape(tf.matMul(input, rows, true, false), s.kernel.shape) };
  if (s.bias) out[s.bias.name] = tf.sum(rows, 0);
  return out;
}
