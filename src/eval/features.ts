// Feature spaces for the distribution metrics (fd, kid, prdc). Each space maps images to vectors;
// the metrics compare the clouds of real and synthetic vectors.
//   incv3-nsfwjs  the 2048-d global-average-pool features of the Keras ImageNet InceptionV3 that
//                 nsfwjs@4.4.0 ships (frozen base under its NSFW head, weights 8-bit quantised) at
//                 299 px. It is NOT the TF-slim graph behind published FID numbers (those weights
//                 are not available offline), so results are named FD_/KID_incv3-nsfwjs, never FID.
//   domain        the pooled features of the fixed classifier trained on the real train split:
//                 small, fast, and tuned to this dataset's classes.
// Features are computed once per (space, set, sample size) within one evaluation, so fd, kid and
// prdc share them, on a seeded subsample: InceptionV3 costs ~6 GFLOP per image.
import * as tf from '@tensorflow/tfjs';
import { rng, shuffle } from '../util/random.js';
import { embed } from './classifier.js';
import { chunks, imagesOf, subset, type ImageSet } from '../data/image_set.js';
import type { EvalContext } from './registry.js';

/** Row-major [count x dims] vectors. */
export interface Features { data: Float32Array; dims: number; count: number }

export type SpaceName = 'incv3-nsfwjs' | 'domain';

export interface FeatureOptions {
  /** Feature spaces to use (default: every one available). */
  spaces?: SpaceName[];
  /** At most this many images per set and space (seeded subsample). */
  samples?: Partial<Record<SpaceName, number>>;
  /** Images per forward pass. */
  batch?: Partial<Record<SpaceName, number>>;
  /** Module exporting `InceptionV3Model` in the nsfwjs@4.4.0 layout (default: nsfwjs's own). */
  inceptionModule?: string;
  /**
   * Epoch ms by which a space's three sets should be embedded (per space). Two probe batches of the train set time
   * the space on this machine (the first pays its load and kernel set-up); where `samples` would not fit,
   * each set gets the whole hundreds that do, and the space is skipped below MIN_TIMED_SAMPLES.
   */
  deadline?: Partial<Record<SpaceName, number>>;
}

/** Fewer images than this per set make FD/KID too noisy to be worth their time. */
export const MIN_TIMED_SAMPLES = 200;

/** Images per set (three sets) that fit in `msLeft` at `msPerImage`: `requested`, else whole hundreds; 0 below `min`. */
export function samplesWithin(msLeft: number, msPerImage: number, requested: number, min = MIN_TIMED_SAMPLES): number {
  const n = Math.floor(msLeft / (3 * msPerImage));
  if (n >= requested) return requested;
  const r = Math.floor(n / 100) * 100;
  return r >= min ? r : 0;
}

/** Evaluations pass options by adding `features` to their context. */
export type FeatureContext = EvalContext & { features?: FeatureOptions };

export interface FeatureSpace {
  description: string;
  defaultSamples: number;
  defaultBatch: number;
  /** null when usable with this context, else why not (the metrics report it and go on). */
  unavailable(ctx: FeatureContext): Promise<string | null>;
  extract(ctx: FeatureContext, set: ImageSet, opts: { batch: number; stage: string }): Promise<Features>;
}

// ---- InceptionV3 from the nsfwjs package -------------------------------------------------------

const NSFWJS_MODEL = 'nsfwjs/models/inception_v3';
export const INCEPTION_SIZE = 299;

interface KerasLayer { class_name: string; name: string; config: Record<string, unknown>; inbound_nodes: [string, number, number, unknown][][] }
interface NsfwjsModel { modelJson(): Promise<{ default: tf.io.ModelJSON }>; weightBundles: (() => Promise<{ default: string }>)[] }

type Step =
  | { kind: 'conv'; src: string; w: tf.Tensor4D; b: tf.Tensor1D; strides: [number, number]; pad: 'same' | 'valid' }
  /** An average pool feeding a 1x1 conv: both are linear and per-pixel / per-channel, so the conv
   * runs first and the JS pooling kernel then sees 4-10x fewer channels. */
  | { kind: 'convThenAvgPool'; src: string; w: tf.Tensor4D; b: tf.Tensor1D; pool: [number, number] }
  | { kind: 'pool'; op: 'max' | 'avg'; src: string; pool: [number, number]; strides: [number, number]; pad: 'same' | 'valid' }
  | { kind: 'concat'; srcs: string[]; axis: number }
  | { kind: 'gap'; src: string };

export interface InceptionFeatures {
  /** float32 [n, 299, 299, 3] in [0, 1] → [n, 2048]. */
  apply(x: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

/** Builds the feature network: BatchNorm folded into each conv (fused bias + ReLU), head dropped. */
export async function loadInception(spec = NSFWJS_MODEL): Promise<InceptionFeatures> {
  // Imported by a variable name: a missing package is a run-time note, not a build error.
  const def = ((await import(spec)) as { InceptionV3Model?: NsfwjsModel }).InceptionV3Model;
  if (!def) throw new Error(`${spec} does not export InceptionV3Model.`);
  const json = (await def.modelJson()).default;
  const parts = await Promise.all(def.weightBundles.map(async (load) => Buffer.from((await load()).default, 'base64')));
  const bytes = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  parts.reduce((o, p) => (bytes.set(p, o), o + p.length), 0);
  const specs = (json.weightsManifest ?? []).flatMap((g) => g.weights);
  const weights = tf.io.decodeWeights(bytes.buffer, specs);
  const layers = (json.modelTopology as { model_config: { config: { layers: KerasLayer[] } } }).model_config.config.layers;
  const byName = new Map(layers.map((l) => [l.name, l]));
  const srcs = (l: KerasLayer) => l.inbound_nodes[0].map((n) => n[0]);
  const consumers = new Map<string, string[]>();
  for (const l of layers) for (const s of l.inbound_nodes.length ? srcs(l) : []) consumers.set(s, [...(consumers.get(s) ?? []), l.name]);
  const only = (name: string, cls: string) => {
    const c = consumers.get(name) ?? [];
    return c.length === 1 && byName.get(c[0])!.class_name === cls ? byName.get(c[0])! : null;
  };
  const unexpected = (why: string) => new Error(`${NSFWJS_MODEL}: unexpected model layout (${why}); synthset reads the InceptionV3 of nsfwjs@4.4.0, install that version.`);
  const pair = (v: unknown) => (Array.isArray(v) ? v : [v, v]) as [number, number];

  // Each Keras conv is conv → BatchNorm(scale=false) → ReLU; the step keeps the conv's name but
  // stands for the ReLU output, so later layers are re-pointed at it.
  const alias = new Map<string, string>();
  const folded = new Map<string, { w: tf.Tensor4D; b: tf.Tensor1D }>();
  for (const l of layers.filter((x) => x.class_name === 'Conv2D')) {
    const bn = only(l.name, 'BatchNormalization');
    const act = bn && only(bn.name, 'Activation');
    if (!bn || !act || act.config.activation !== 'relu' || l.config.use_bias || bn.config.scale) throw unexpected(`${l.name} is not conv → batch norm → relu`);
    const eps = bn.config.epsilon as number;
    const [mean, variance, beta] = ['moving_mean', 'moving_variance', 'beta'].map((k) => weights[`${bn.name}/${k}`]);
    const kernel = weights[`${l.name}/kernel`];
    if (!mean || !variance || !beta || !kernel) throw unexpected(`weights of ${l.name} missing`);
    folded.set(l.name, tf.tidy(() => {
      const inv = tf.rsqrt(tf.add(variance, eps));
      return { w: tf.mul(kernel, inv) as tf.Tensor4D, b: tf.sub(beta, tf.mul(mean, inv)) as tf.Tensor1D };
    }));
    alias.set(act.name, l.name);
  }
  Object.values(weights).forEach((t) => t.dispose());

  const src = (l: KerasLayer) => srcs(l).map((s) => alias.get(s) ?? s);
  const steps = new Map<string, Step>();
  let input = '', output = '';
  for (const l of layers) {
    const c = l.config;
    if (l.class_name === 'InputLayer') input = l.name;
    else if (l.class_name === 'Conv2D') {
      const from = byName.get(src(l)[0])!;
      const { w, b } = folded.get(l.name)!;
      const k = pair(c.kernel_size), s = pair(c.strides);
      if (from.class_name === 'AveragePooling2D' && k[0] === 1 && k[1] === 1 && s[0] === 1 && s[1] === 1 && consumers.get(from.name)!.length === 1 && from.config.padding === 'same' && pair(from.config.strides)[0] === 1) {
        steps.delete(from.name);
        steps.set(l.name, { kind: 'convThenAvgPool', src: src(from)[0], w, b, pool: pair(from.config.pool_size) });
      } else steps.set(l.name, { kind: 'conv', src: from.name, w, b, strides: s, pad: c.padding as 'same' | 'valid' });
    } else if (l.class_name === 'MaxPooling2D' || l.class_name === 'AveragePooling2D') {
      steps.set(l.name, { kind: 'pool', op: l.class_name === 'MaxPooling2D' ? 'max' : 'avg', src: src(l)[0], pool: pair(c.pool_size), strides: pair(c.strides), pad: c.padding as 'same' | 'valid' });
    } else if (l.class_name === 'Concatenate') steps.set(l.name, { kind: 'concat', srcs: src(l), axis: c.axis as number });
    else if (l.class_name === 'Flatten') {
      // The last pool is 8x8 valid over the 8x8 map at 299 px: a global average (native mean).
      const pool = byName.get(src(l)[0])!;
      if (pool.class_name !== 'AveragePooling2D' || pair(pool.config.pool_size)[0] !== 8) throw unexpected('no 8x8 average pool before the head');
      steps.delete(pool.name);
      steps.set(l.name, { kind: 'gap', src: src(pool)[0] });
      output = l.name;
      break;
    } else if (!['BatchNormalization', 'Activation'].includes(l.class_name)) throw unexpected(`layer ${l.name} of class ${l.class_name}`);
  }
  if (!input || !output) throw unexpected('no input or no pooled features');
  const order = [...steps.keys()];
  const inputsOf = (s: Step) => (s.kind === 'concat' ? s.srcs : [s.src]);
  const uses = new Map<string, number>();
  for (const s of steps.values()) for (const i of inputsOf(s)) uses.set(i, (uses.get(i) ?? 0) + 1);

  const run = (s: Step, ins: tf.Tensor4D[]): tf.Tensor => {
    switch (s.kind) {
      case 'conv': return tf.fused.conv2d({ x: ins[0], filter: s.w, bias: s.b, strides: s.strides, pad: s.pad, activation: 'relu' });
      case 'convThenAvgPool': return tf.tidy(() => tf.relu(tf.add(tf.avgPool(tf.conv2d(ins[0], s.w, 1, 'same'), s.pool, 1, 'same'), s.b)));
      case 'pool': return (s.op === 'max' ? tf.maxPool : tf.avgPool)(ins[0], s.pool, s.strides, s.pad);
      case 'concat': return tf.concat(ins, s.axis);
      case 'gap': return tf.mean(ins[0], [1, 2]);
    }
  };
  return {
    apply(x) {
      // Intermediates are freed as soon as their last reader ran: a whole batch's activations at
      // 299 px would not fit otherwise.
      const live = new Map<string, tf.Tensor>([[input, x]]);
      const left = new Map(uses);
      for (const name of order) {
        const s = steps.get(name)!;
        const ins = inputsOf(s);
        live.set(name, run(s, ins.map((i) => live.get(i) as tf.Tensor4D)));
        for (const i of ins) {
          const n = left.get(i)! - 1;
          left.set(i, n);
          if (n === 0 && i !== input) live.get(i)!.dispose();
        }
      }
      return live.get(output) as tf.Tensor2D;
    },
    dispose: () => folded.forEach(({ w, b }) => (w.dispose(), b.dispose())),
  };
}

let inception: { spec: string; net: Promise<InceptionFeatures> } | null = null;

/** The feature network, loaded once per process (~90 MB of float32 weights). */
export function inceptionModel(spec = NSFWJS_MODEL): Promise<InceptionFeatures> {
  if (inception?.spec !== spec) {
    void disposeInception();
    const net = loadInception(spec);
    inception = { spec, net };
    net.catch(() => {
      if (inception?.net === net) inception = null;
    });
  }
  return inception.net;
}

/** Frees the loaded network (a later call loads it again). */
export async function disposeInception(): Promise<void> {
  const m = inception?.net;
  inception = null;
  if (m) (await m.catch(() => null))?.dispose();
}

/** [out x in] weights of bilinear interpolation with corners aligned along one axis, as
 * tf.image.resizeBilinear(x, size, true) samples: output i reads input i·(in−1)/(out−1). */
export function alignedBilinearWeights(inSize: number, outSize: number): Float32Array {
  const w = new Float32Array(outSize * inSize);
  const scale = outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
  for (let i = 0; i < outSize; i++) {
    const src = i * scale, lo = Math.floor(src), hi = Math.min(lo + 1, inSize - 1), frac = src - lo;
    w[i * inSize + lo] += 1 - frac;
    w[i * inSize + hi] += frac;
  }
  return w;
}

/** 8-bit images → [n, 299, 299, 3] in [0, 1], resized as nsfwjs does (bilinear, corners aligned). */
export function inceptionInput(set: ImageSet, indices: ArrayLike<number>): tf.Tensor4D {
  return tf.tidy(() => {
    // Scaling and channel tiling commute with resizing, so both run on the small image.
    const x = tf.mul(tf.add(imagesOf(set, indices), 1), 0.5) as tf.Tensor4D;
    const rgb = set.channels === 1 ? tf.tile(x, [1, 1, 1, 3]) : x;
    // Bilinear resizing is separable: two matmuls with one interpolation matrix, along each image
    // row and then along its columns, instead of the cpu backend's scalar resize loop.
    const n = indices.length, s = set.size, S = INCEPTION_SIZE;
    const r = tf.tensor2d(alignedBilinearWeights(s, S), [S, s]);
    const rows = tf.matMul(r, tf.reshape(rgb, [n * s, s, 3])); // [n·s, S, 3]: each row widened
    return tf.reshape(tf.matMul(r, tf.reshape(rows, [n, s, S * 3])), [n, S, S, 3]);
  });
}

// ---- the registry ------------------------------------------------------------------------------

/** Runs `f` on full batches only: the last one is padded with repeats of its last image, because
 * each new batch shape makes the native conv re-time its implementations (~20 s for InceptionV3). */
async function fixedBatches(set: ImageSet, batch: number, stage: string, ctx: EvalContext, dims: number, f: (idx: number[]) => tf.Tensor2D): Promise<Features> {
  const data = new Float32Array(set.count * dims);
  for (const idx of chunks(set.count, batch)) {
    const padded = idx.concat(new Array<number>(batch - idx.length).fill(idx[idx.length - 1]));
    const y = f(padded);
    data.set((await y.data()).subarray(0, idx.length * dims), idx[0] * dims);
    y.dispose();
    ctx.progress(stage, idx[idx.length - 1] + 1, set.count);
  }
  return { data, dims, count: set.count };
}

export const featureSpaces: Record<SpaceName, FeatureSpace> = {
  'incv3-nsfwjs': {
    description: 'InceptionV3 (ImageNet, as shipped by nsfwjs@4.4.0) global-average-pool features, 2048-d at 299 px',
    // Measured ~35 img/s on onednn (2 cores; native pooling and concat, resize as matmuls), plus the first batch's
    // load and conv set-up: 1000 per set keeps the three sets near two minutes; KID (the estimate
    // that holds up at this size) is the figure to read, FD at n=1000 is above its large-sample value.
    defaultSamples: 1000,
    defaultBatch: 16,
    async unavailable(ctx) {
      const spec = ctx.features?.inceptionModule ?? NSFWJS_MODEL;
      try {
        await inceptionModel(spec);
        return null;
      } catch (err) {
        return `the InceptionV3 of ${spec} could not be loaded (${(err as Error).message.split('\n')[0]}); install nsfwjs@4.4.0 to get this feature space`;
      }
    },
    async extract(ctx, set, { batch, stage }) {
      const net = await inceptionModel(ctx.features?.inceptionModule ?? NSFWJS_MODEL);
      return fixedBatches(set, batch, stage, ctx, 2048, (idx) => {
        const x = inceptionInput(set, idx);
        try {
          return net.apply(x);
        } finally {
          x.dispose();
        }
      });
    },
  },
  domain: {
    description: 'pooled features of the fixed classifier trained on the real train split',
    defaultSamples: 5000,
    defaultBatch: 512,
    async unavailable(ctx) {
      return ctx.train.labels ? null : 'the domain classifier needs labelled real training images';
    },
    async extract(ctx, set, { batch, stage }) {
      const c = ctx.realClassifier();
      const dims = c.features.outputs[0].shape[1] as number;
      const data = new Float32Array(set.count * dims);
      for (const idx of chunks(set.count, batch)) {
        data.set(embed(c, subset(set, idx)).data, idx[0] * dims);
        ctx.progress(stage, idx[idx.length - 1] + 1, set.count);
      }
      return { data, dims, count: set.count };
    },
  },
};

export const spaceNames = Object.keys(featureSpaces) as SpaceName[];

/** min(count, samples) indices drawn without replacement, seeded, in ascending order. */
export function sampleIndices(count: number, samples: number, seed: number): number[] {
  if (!(Number.isInteger(samples) && samples >= 1)) throw new Error(`Feature samples must be a positive integer, got ${samples}.`);
  const all = Array.from({ length: count }, (_, i) => i);
  return samples >= count ? all : shuffle(all, rng(seed)).slice(0, samples).sort((a, b) => a - b);
}

const cache = new WeakMap<EvalContext, Map<string, Promise<Features>>>();
const availability = new WeakMap<EvalContext, Map<SpaceName, Promise<string | null>>>();

const timedSamples = new WeakMap<EvalContext, Map<SpaceName, number>>();

/** Under `features.deadline`: times `space` on two batches of the train set and fixes its images per set, or says why it is skipped. */
async function fitDeadline(ctx: FeatureContext, space: SpaceName, deadline: number): Promise<string | null> {
  const def = featureSpaces[space];
  const requested = ctx.features?.samples?.[space] ?? def.defaultSamples;
  const batch = Math.min(ctx.features?.batch?.[space] ?? def.defaultBatch, Math.max(1, Math.floor(ctx.train.count / 2)));
  const probe = (from: number) => subset(ctx.train, Array.from({ length: batch }, (_, i) => (from + i) % ctx.train.count));
  await def.extract(ctx, probe(0), { batch, stage: `features ${space} (timing)` });
  const t0 = performance.now();
  await def.extract(ctx, probe(batch), { batch, stage: `features ${space} (timing)` });
  const msPerImage = (performance.now() - t0) / batch;
  const left = deadline - Date.now();
  const n = samplesWithin(left, msPerImage, requested);
  if (!n) return `the time budget leaves room for fewer than ${MIN_TIMED_SAMPLES} images per set (${msPerImage.toFixed(1)} ms per image, ${Math.max(0, left / 1000).toFixed(0)} s left)`;
  let m = timedSamples.get(ctx);
  if (!m) timedSamples.set(ctx, (m = new Map()));
  m.set(space, n);
  return null;
}

/** Why `space` cannot be used in this evaluation, or null (checked once per context). */
export function spaceUnavailable(ctx: FeatureContext, space: SpaceName): Promise<string | null> {
  if (!featureSpaces[space]) throw new Error(`Unknown feature space "${space}": use one of ${spaceNames.join(', ')}.`);
  let m = availability.get(ctx);
  if (!m) availability.set(ctx, (m = new Map()));
  const deadline = ctx.features?.deadline?.[space];
  if (!m.has(space)) m.set(space, featureSpaces[space].unavailable(ctx).then((why) => why ?? (deadline === undefined ? null : fitDeadline(ctx, space, deadline))));
  return m.get(space)!;
}

export type SetRole = 'train' | 'test' | 'synthetic';

/** Features of one of the context's sets in `space`, subsampled and cached for the evaluation. */
export function featuresOf(ctx: FeatureContext, space: SpaceName, role: SetRole): Promise<Features> {
  const def = featureSpaces[space];
  if (!def) throw new Error(`Unknown feature space "${space}": use one of ${spaceNames.join(', ')}.`);
  const samples = timedSamples.get(ctx)?.get(space) ?? ctx.features?.samples?.[space] ?? def.defaultSamples;
  const batch = ctx.features?.batch?.[space] ?? def.defaultBatch;
  if (!(Number.isInteger(batch) && batch >= 1)) throw new Error(`Feature batch for ${space} must be a positive integer, got ${batch}.`);
  const set = ctx[role];
  const key = `${space}|${role}|${samples}`;
  let m = cache.get(ctx);
  if (!m) cache.set(ctx, (m = new Map()));
  if (!m.has(key)) {
    // Roles get distinct seeds so two roles that share images are not sampled identically.
    const idx = sampleIndices(set.count, samples, ctx.seed * 31 + ['train', 'test', 'synthetic'].indexOf(role) + 1);
    const part = idx.length === set.count ? set : subset(set, idx);
    const p = def.extract(ctx, part, { batch, stage: `features ${space} (${role}, ${idx.length} images)` });
    p.catch(() => m.delete(key));
    m.set(key, p);
  }
  return m.get(key)!;
}

/** Checks two feature sets can be compared and have at least `min` vectors each. */
export function assertFeaturePair(a: Features, b: Features, min: number, what: string): void {
  if (a.dims !== b.dims) throw new Error(`${what}: features of ${a.dims} and ${b.dims} dims cannot be compared; extract both sets in one feature space.`);
  if (a.data.length !== a.count * a.dims || b.data.length !== b.count * b.dims) throw new Error(`${what}: feature data does not hold count x dims values.`);
  if (a.count < min || b.count < min) throw new Error(`${what}: needs at least ${min} images per set, got ${a.count} and ${b.count}; give larger sets.`);
}

/** Per-space results of one pairwise statistic, the shape fd, kid and prdc report:
 *   "<PREFIX>_<space>"  synthetic vs real train (the usual reading),
 *   vsTest              synthetic vs real test (images the generator never saw),
 *   realTestVsTrain     real test vs real train: what a generator drawing fresh real images would
 *                       score at these sample sizes, the floor to read the others against,
 *   n                   images per set and space, skipped: spaces that could not be used and why. */
export async function compareSets<T>(ctx: FeatureContext, prefix: string, stat: (a: Features, b: Features, space: SpaceName) => T | Promise<T>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const vsTest: Record<string, T> = {}, floor: Record<string, T> = {};
  const n: Record<string, Record<SetRole, number>> = {}, skipped: Record<string, string> = {};
  for (const space of spaceNames) {
    const why = ctx.features?.spaces && !ctx.features.spaces.includes(space) ? 'not requested' : await spaceUnavailable(ctx, space);
    if (why) {
      skipped[space] = why;
      continue;
    }
    const train = await featuresOf(ctx, space, 'train');
    const test = await featuresOf(ctx, space, 'test');
    const synthetic = await featuresOf(ctx, space, 'synthetic');
    const key = `${prefix}_${space}`;
    out[key] = await stat(synthetic, train, space);
    vsTest[key] = await stat(synthetic, test, space);
    floor[key] = await stat(test, train, space);
    n[space] = { train: train.count, test: test.count, synthetic: synthetic.count };
  }
  return { ...out, vsTest, realTestVsTrain: floor, n, skipped };
}
