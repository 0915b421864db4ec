// The demo's time budget. Every stage is bound by the same convolutions, so one number measured
// while training (its images per second) predicts how long evaluation will take on this machine:
// training stops early enough that evaluation fits, and the costliest evaluation part (InceptionV3
// features) takes as many images as the remaining time allows. The constants are evaluation work
// in "training-image equivalents": each stage's wall time on the AVX-512 development VM times the
// demo's training speed there (~600 img/s), from the demo's measured per-stage times (README).

/** Evaluation work other than InceptionV3 (generation, classifiers, SSIM, privacy, domain features), in training images. */
export const EVAL_FIXED_IMAGES = 70_000;
/** InceptionV3 features for one image (three sets are embedded: train, test, synthetic), in training images. */
export const INCV3_IMAGE_COST = 18;
/** InceptionV3 compiles ~100 convolution shapes on first use, in training images. */
export const INCV3_SETUP_IMAGES = 18_000;
export const INCV3_MAX = 1000;
/** Below this many images per set the InceptionV3 statistics are too noisy to be worth their time. */
export const INCV3_MIN = 200;
/** Margin for what the estimate does not see (start-up, report writing). */
const SLACK = 1.1;

export function evalSeconds(trainImgPerSec: number, incv3Samples: number): number {
  const work = EVAL_FIXED_IMAGES + (incv3Samples > 0 ? INCV3_SETUP_IMAGES + 3 * incv3Samples * INCV3_IMAGE_COST : 0);
  return (SLACK * work) / trainImgPerSec;
}

/** InceptionV3 images per set that fit in `seconds` at this machine's speed: 0 (skip the space) when fewer than INCV3_MIN fit. */
export function incv3SamplesFor(seconds: number, trainImgPerSec: number): number {
  const left = (seconds * trainImgPerSec) / SLACK - EVAL_FIXED_IMAGES - INCV3_SETUP_IMAGES;
  const n = Math.floor(left / (3 * INCV3_IMAGE_COST));
  if (n < INCV3_MIN) return 0;
  return Math.min(INCV3_MAX, Math.floor(n / 100) * 100);
}

/**
 * When training must stop (ms since the epoch) for the whole demo to end by `endMs`: early enough for
 * the full evaluation, but training keeps at least 60 % of the budget when only a smaller InceptionV3
 * sample (or none) fits after it, and the bare evaluation always fits.
 */
export function trainingDeadline(endMs: number, startMs: number, trainImgPerSec: number): number {
  const withFull = endMs - evalSeconds(trainImgPerSec, INCV3_MAX) * 1000;
  const bare = endMs - evalSeconds(trainImgPerSec, 0) * 1000;
  return Math.max(startMs, withFull, Math.min(startMs + 0.6 * (endMs - startMs), bare));
}

/** Wall time per named stage, in the order first seen. */
export class StageClock {
  private readonly times = new Map<string, number>();
  private current: { name: string; t0: number } | null = null;

  enter(name: string, now = Date.now()): void {
    if (this.current?.name === name) return;
    this.leave(now);
    this.current = { name, t0: now };
  }

  leave(now = Date.now()): void {
    if (!this.current) return;
    this.times.set(this.current.name, (this.times.get(this.current.name) ?? 0) + now - this.current.t0);
    this.current = null;
  }

  /** "training 11 min 02 s, generate 21 s, …". */
  summary(): string {
    return [...this.times].map(([k, ms]) => `${k} ${formatDuration(ms)}`).join(', ');
  }

  totalMs(): number {
    return [...this.times.values()].reduce((a, b) => a + b, 0);
  }
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}
