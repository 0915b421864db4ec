// The loss registry, kept apart from index.ts so that loss files can register themselves without
// an import cycle (index.ts imports every loss file).
import type * as tf from '@tensorflow/tfjs';

export type LossName = 'bce' | 'hinge' | 'wasserstein' | 'lsgan';

export interface GanLossOptions {
  /** One-sided label smoothing: real targets become 1 - smoothing. Only for losses with targets. */
  smoothing?: number;
}

export interface GanLoss {
  name: string;
  /** The discriminator's (critic's) loss from its raw outputs on real and fake images. */
  d(realLogits: tf.Tensor, fakeLogits: tf.Tensor, opts?: GanLossOptions): tf.Scalar;
  /** The generator's loss from D's raw outputs on fakes. */
  g(fakeLogits: tf.Tensor): tf.Scalar;
}

const losses = new Map<string, GanLoss>();

export function registerLoss(loss: GanLoss): void {
  if (losses.has(loss.name)) throw new Error(`GAN loss "${loss.name}" is registered twice.`);
  losses.set(loss.name, loss);
}

export function getLoss(name: LossName): GanLoss {
  const loss = losses.get(name);
  if (!loss) throw new Error(`Unknown GAN loss "${String(name)}": use one of ${lossNames().join(', ')}.`);
  return loss;
}

export const lossNames = (): string[] => [...losses.keys()];

export function isLossName(name: unknown): name is LossName {
  return typeof name === 'string' && losses.has(name);
}

/** Validates a smoothing value and rejects it for losses that have no targets to smooth. */
export function smoothingOf(loss: string, opts: GanLossOptions | undefined, allowed: boolean): number {
  const s = opts?.smoothing ?? 0;
  if (!Number.isFinite(s) || s < 0 || s >= 1) throw new Error(`Label smoothing must be in [0, 1), got ${s}.`);
  if (s > 0 && !allowed) throw new Error(`The "${loss}" loss has no labels to smooth: set label smoothing to 0 or use bce/lsgan.`);
  return s;
}
