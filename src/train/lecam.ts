// LeCam regularisation (Tseng et al., CVPR 2021, "Regularizing Generative Adversarial Networks under
// Limited Data"; google/lecam-gan): D's outputs on real images are pulled towards the moving average
// of its outputs on fakes and vice versa, R = E[relu(D(x) - a_F)^2] + E[relu(a_R - D(G(z)))^2].
// It bounds how far D can separate the few real images it has seen from fakes, which is what
// overfitting on a small set looks like, without touching G's loss.
import * as tf from '@tensorflow/tfjs';

export interface LeCamSettings {
  /** λ, the weight of R in D's loss (the paper: 0.3 for BigGAN on CIFAR). */
  weight: number;
  /** Decay of the anchors' moving averages (the reference's 0.99). */
  decay: number;
  /** Steps before the term is applied; until then the anchors just follow the latest means. */
  start: number;
}

export interface LeCamState { real: number; fake: number; seen: number }

export class LeCam {
  private real = 0;
  private fake = 0;
  private seen = 0;

  constructor(readonly settings: LeCamSettings) {}

  /** The anchors a_R and a_F: moving averages of D's mean output on real and on fake images. */
  anchors(): { real: number; fake: number } {
    return { real: this.real, fake: this.fake };
  }

  /** λR for one D update's raw outputs, or null before `start` (or before the anchors have a value). */
  term(real: tf.Tensor, fake: tf.Tensor, step: number): tf.Scalar | null {
    if (step <= this.settings.start || this.seen === 0) return null;
    return tf.tidy(() => {
      const r = tf.mean(tf.square(tf.relu(tf.sub(real, this.fake))));
      const f = tf.mean(tf.square(tf.relu(tf.sub(this.real, fake))));
      return tf.mul(tf.add(r, f), this.settings.weight) as tf.Scalar;
    });
  }

  /** Moves the anchors with one step's mean outputs (decay 0 until `start`, as in the reference). */
  observe(meanReal: number, meanFake: number, step: number): void {
    const d = step <= this.settings.start || this.seen === 0 ? 0 : this.settings.decay;
    this.real = d * this.real + (1 - d) * meanReal;
    this.fake = d * this.fake + (1 - d) * meanFake;
    this.seen++;
  }

  state(): LeCamState {
    return { real: this.real, fake: this.fake, seen: this.seen };
  }

  restore(s: LeCamState): void {
    this.real = s.real;
    this.fake = s.fake;
    this.seen = s.seen;
  }
}
