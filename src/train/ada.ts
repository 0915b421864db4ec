// Adaptive augmentation strength (Karras et al. 2020, StyleGAN2-ADA): the probability p with which
// each DiffAugment op is applied to an image follows D's overfitting heuristic
// r_t = E[sign(D(x_real))]. A D that calls nearly every real training image real (r_t above the
// target, 0.6 in the paper) is memorising them, so p rises; when r_t falls below the target, p
// falls. Adjusted every `interval` steps by batch·interval / (kimg·1000), so p can cross 0..1 in
// `kimg` thousand real images.

export interface AdaSettings {
  target: number;
  /** Thousands of real images for p to move from 0 to 1 (the paper: 500; shorter runs need faster). */
  kimg: number;
  /** Steps between adjustments (the paper: 4). */
  interval: number;
  /** p at the first step. */
  initial: number;
}

export interface AdaState { p: number; sum: number; count: number }

export class AdaStrength {
  private p: number;
  private sum = 0;
  private count = 0;

  constructor(readonly settings: AdaSettings) {
    this.p = settings.initial;
  }

  /** The current augmentation probability. */
  strength(): number {
    return this.p;
  }

  /** One step's mean sign of D's real outputs; `images` real images were used in it. */
  observe(meanSign: number, images: number): void {
    this.sum += meanSign;
    this.count++;
    if (this.count < this.settings.interval) return;
    const rt = this.sum / this.count;
    const delta = (Math.sign(rt - this.settings.target) * images * this.count) / (this.settings.kimg * 1000);
    this.p = Math.min(1, Math.max(0, this.p + delta));
    this.sum = 0;
    this.count = 0;
  }

  state(): AdaState {
    return { p: this.p, sum: this.sum, count: this.count };
  }

  restore(s: AdaState): void {
    this.p = s.p;
    this.sum = s.sum;
    this.count = s.count;
  }
}
