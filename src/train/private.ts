// A differentially-private run's side of the loop (config `dp`): Poisson sampling of the real
// images, DP-SGD on every D update (privacy/dpsgd.ts through StepContext.dp), and the RDP accountant
// that the budget is charged to. What is protected: each training image's influence on everything
// D learns from real data, hence on G, which only ever sees D; only G is released.
//
// Every draw of the mechanism (who is sampled, the noise) derives from a secret made at the run's
// start and kept only in the checkpoints: a resume repeats the same steps exactly (so the replayed
// steps cost no extra privacy), while nobody holding config.json, the metrics or the bundle can
// reproduce the noise. The accountant counts every D update ever taken, including those the NaN
// guard rolls back, since their outcome steered the run.
import { createHash, randomBytes } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { imagesFromBytes } from '../engine/index.js';
import type { ImageCache } from '../data/cache.js';
import type { PrivateStep, TrainBatch } from '../models/index.js';
import { clippedGradients, noiseMultiplierFor, privateBatchGradients, privateGradients, RdpAccountant, supportsBatchedClipping } from '../privacy/index.js';
import { rng } from '../util/random.js';
import type { TrainConfig } from '../run/config.js';

export interface PrivateState {
  /** Hex secret the sampling and noise derive from (never written outside checkpoints). */
  secret: string;
  /** The accountant's history (RdpAccountant.toJSON()). */
  accountant: unknown;
  /** NaN-guard rollbacks so far: a replayed step draws fresh noise, never the same noise twice on other weights. */
  generation: number;
}

export interface PrivateSettings { epsilon: number; delta: number; clip: number; noise: number; sampleRate: number; expectedBatch: number; weighted?: boolean }

/** q and σ of a private run on `trainImages` images: σ as configured, or solved for ε at the run's D updates. */
export function privateSettings(cfg: TrainConfig, trainImages: number, dUpdatesPerStep: number): PrivateSettings {
  const dp = cfg.dp;
  if (!dp) throw new Error('privateSettings: the run is not private.');
  if (cfg.batchSize >= trainImages) throw new Error(`A private run samples each image with probability batchSize / N; batch ${cfg.batchSize} is not below the ${trainImages} training images: use a smaller --batch-size.`);
  const sampleRate = cfg.batchSize / trainImages;
  const noise = dp.noise ?? noiseMultiplierFor({ targetEpsilon: dp.epsilon, delta: dp.delta, sampleRate, steps: cfg.steps * dUpdatesPerStep });
  return { epsilon: dp.epsilon, delta: dp.delta, clip: dp.clip, noise, sampleRate, expectedBatch: cfg.batchSize, weighted: dp.clipping === 'loss' };
}

export class PrivateSession {
  private readonly accountant: RdpAccountant;
  private readonly secret: string;

  constructor(readonly settings: PrivateSettings, saved?: PrivateState) {
    this.secret = saved?.secret ?? randomBytes(32).toString('hex');
    if (!/^[0-9a-f]{64}$/.test(this.secret)) throw new Error('The checkpoint\'s privacy secret is corrupt: a private run cannot resume without it (start a new run).');
    this.accountant = saved ? RdpAccountant.fromJSON(saved.accountant) : new RdpAccountant();
    this.generation = saved?.generation ?? 0;
  }

  private generation: number;

  /** After a rollback: the steps that follow draw new samples and noise. */
  rolledBack(): void {
    this.generation++;
  }

  private seed(...parts: (string | number)[]): number {
    return createHash('sha256').update([this.secret, this.generation, ...parts].join('|')).digest().readUInt32LE(0);
  }

  epsilon(): number {
    return this.accountant.getEpsilon(this.settings.delta);
  }

  /** Whether `k` more D updates keep ε within the budget. */
  canTake(k: number): boolean {
    const { epsilon, delta, noise: noiseMultiplier, sampleRate } = this.settings;
    return this.accountant.stepsWithin({ epsilon, delta, noiseMultiplier, sampleRate }) >= k;
  }

  took(k: number): void {
    this.accountant.step({ noiseMultiplier: this.settings.noise, sampleRate: this.settings.sampleRate, steps: k });
  }

  state(): PrivateState {
    return { secret: this.secret, accountant: this.accountant.toJSON(), generation: this.generation };
  }

  /** Update `i` of `step`: each train row joins independently with probability q. */
  batch(cache: ImageCache, rows: number[], step: number, i: number, labelled: boolean): TrainBatch & { dispose(): void } {
    const rand = rng(this.seed('sample', step, i));
    const q = this.settings.sampleRate;
    const picked = rows.filter(() => rand() < q);
    const shape = [picked.length, cache.size, cache.size, cache.channels] as [number, number, number, number];
    const real = picked.length ? imagesFromBytes<tf.Tensor4D>(cache.readRows(picked), shape) : tf.zeros(shape) as tf.Tensor4D;
    const labels = labelled && cache.labels ? tf.tensor1d(Int32Array.from(picked, (r) => cache.labels![r]), 'int32') : null;
    return { real, labels, b: null, dispose: () => tf.dispose([real, ...(labels ? [labels] : [])]) };
  }

  /** What the family's step gets: DP-SGD with this run's C, σ and expected batch, and secret noise. */
  step(step: number): PrivateStep {
    let call = 0;
    const options = () => ({
      clip: this.settings.clip, noiseMultiplier: this.settings.noise, expectedBatch: this.settings.expectedBatch, seed: this.seed('noise', step, call++),
      weighted: this.settings.weighted,
    });
    return {
      fakes: this.settings.expectedBatch,
      clip: this.settings.clip,
      gradients: (vars, n, exampleLoss) => privateGradients(vars, n, exampleLoss, options()),
      // Asked first so that a D it cannot handle falls back without spending a noise seed.
      batchGradients: (model, vars, inputs, totalLoss) =>
        (supportsBatchedClipping(model) ? privateBatchGradients(model, vars, inputs, totalLoss, options()) : null),
      clippedSum: (model, inputs, totalLoss) => {
        const r = clippedGradients(model, inputs, totalLoss, this.settings.clip, this.settings.weighted);
        if (!r) return null;
        tf.dispose([r.norms, r.loss]);
        return { sums: r.sums, outputs: r.outputs };
      },
    };
  }
}
