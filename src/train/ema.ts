// The EMA generator: a second copy of G whose weights follow G's as an exponential moving average.
// It makes steadier samples than G itself, so samples and exports use it. Non-trainable weights
// (batch-norm statistics) are averaged the same way, which keeps them consistent with the weights.
import * as tf from '@tensorflow/tfjs';

export class EmaGenerator {
  constructor(readonly model: tf.LayersModel, readonly source: tf.LayersModel, readonly decay: number, readonly warmup = false) {
    if (!(decay >= 0 && decay < 1)) throw new Error(`EMA decay ${decay} must be in [0, 1).`);
    if (model.weights.length !== source.weights.length) {
      throw new Error(`The EMA generator has ${model.weights.length} weights but the generator ${source.weights.length}: buildGenerator() must build the same architecture.`);
    }
    this.copyFrom();
  }

  /** Starts the average at G's current weights. */
  copyFrom(): void {
    tf.tidy(() => this.model.weights.forEach((w, i) => w.write(this.source.weights[i].read().clone())));
  }

  /** The decay of update number `step` (0-based): with warm-up, min(decay, (1 + step) / (10 + step)). */
  decayAt(step: number): number {
    return this.warmup ? Math.min(this.decay, (1 + step) / (10 + step)) : this.decay;
  }

  /** ema = d * ema + (1 - d) * g, for every weight, with d = decayAt(step). */
  update(step: number): void {
    const d = this.decayAt(step);
    tf.tidy(() => this.model.weights.forEach((w, i) => {
      w.write(tf.add(tf.mul(w.read(), d), tf.mul(this.source.weights[i].read(), 1 - d)));
    }));
  }

  dispose(): void {
    this.model.dispose();
  }
}
