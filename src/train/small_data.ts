// The loop's small-data regularisers on D, LeCam and ADA, behind one StepContext hook: each D update
// hands over its raw outputs on the real and the fake batch; LeCam returns its term for D's loss,
// and both record the means they follow. After the step the loop feeds those means back (anchors,
// augmentation strength), and their state rides in the checkpoint so a resume continues exactly.
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../run/config.js';
import type { Stat } from '../models/step.js';
import { AdaStrength, type AdaState } from './ada.js';
import { LeCam, type LeCamState } from './lecam.js';

export interface SmallDataState { lecam?: LeCamState; ada?: AdaState }

/** Keys the hook adds to a step's values (read back by `after`). */
const MEAN_REAL = 'lecamReal', MEAN_FAKE = 'lecamFake', SIGN = 'adaSign';

export class SmallData {
  readonly lecam: LeCam | null;
  readonly ada: AdaStrength | null;

  constructor(cfg: Pick<TrainConfig, 'lecam' | 'ada'>) {
    this.lecam = cfg.lecam ? new LeCam(cfg.lecam) : null;
    this.ada = cfg.ada ? new AdaStrength(cfg.ada) : null;
  }

  /** The StepContext hook for the D update of training step `step`. */
  hook(step: number): (real: tf.Tensor, fake: tf.Tensor, stat: Stat) => tf.Scalar | null {
    return (real, fake, stat) => {
      if (this.lecam) {
        stat(MEAN_REAL, tf.mean(real));
        stat(MEAN_FAKE, tf.mean(fake));
      }
      if (this.ada) stat(SIGN, tf.mean(tf.sign(real)));
      return this.lecam ? this.lecam.term(real, fake, step) : null;
    };
  }

  /**
   * Feeds a finished step's values back; adds what the log should show (`adaP`, LeCam's anchors).
   * Throws when a family ignored the hook: a regulariser silently off costs a whole run.
   */
  after(values: Record<string, number>, images: number, step: number, family: string): void {
    const need = [...(this.lecam ? [MEAN_REAL, MEAN_FAKE] : []), ...(this.ada ? [SIGN] : [])];
    const missing = need.filter((k) => !(k in values));
    if (missing.length) throw new Error(`Family ${family} does not report D's outputs to the small-data regularisers (${missing.join(', ')} missing): train it without lecam/ada.`);
    if (this.lecam) {
      this.lecam.observe(values[MEAN_REAL], values[MEAN_FAKE], step);
      const a = this.lecam.anchors();
      values.lecamAnchorReal = a.real;
      values.lecamAnchorFake = a.fake;
    }
    if (this.ada) {
      this.ada.observe(values[SIGN], images);
      values.adaP = this.ada.strength();
    }
  }

  state(): SmallDataState {
    return { ...(this.lecam ? { lecam: this.lecam.state() } : {}), ...(this.ada ? { ada: this.ada.state() } : {}) };
  }

  restore(s: SmallDataState | undefined): void {
    if (s?.lecam) this.lecam?.restore(s.lecam);
    if (s?.ada) this.ada?.restore(s.ada);
  }
}
