// The demo's time budget. The training speed measured after 100 steps predicts how long evaluation
// will take on this machine: training stops early enough that evaluation fits, and the costliest
// evaluation part (InceptionV3 features) takes as many images as the remaining time allows. Costs are
// evaluation work in "training-image equivalents" (a stage's wall time times the demo's training
// speed on the same machine, from measured demo runs), one set per kind of CPU.
import { MIN_TIMED_SAMPLES } from '../eval/index.js';

/**
 * What evaluation costs in training images on one kind of CPU. The ratio is not the same everywhere:
 * InceptionV3's large convolutions gain more from AVX-512 than the demo's small GAN does.
 */
export interface EvalCosts {
  /** Evaluation work other than InceptionV3 (generation, classifiers, raw and filtered TSTR, SSIM, privacy, domain features). */
  fixed: number;
  /** InceptionV3 features for one image (three sets are embedded: train, test, synthetic). */
  incv3Image: number;
  /** InceptionV3 compiles ~100 convolution shapes on first use. */
  incv3Setup: number;
}

// The costs are in images of the demo's recipe. They were measured with batch 32; the recipe trains
// batch 16 now, which moves fewer images per second on the same machine (32 px width 32, 2 threads,
// median img/s: Intel family 6 model 167 native 363 vs 484 = 0.75; the same under
// ONEDNN_MAX_CPU_ISA=AVX2 242 vs 401 = 0.60), so each set is scaled by its ratio, plus ~3 % for the
// 63k extra fakes TSTR generates. TSTR on the classifier-filtered set (~150k candidates for 63k kept
// at p >= 0.7, one more classifier) is in `fixed`, at 50k images: under ONEDNN_MAX_CPU_ISA=AVX2 it
// took 3 min on the Intel VM at 242 img/s (43k) and ~105 s beside another demo at 482 img/s on one
// Zen 5 thread (50k). It takes ~15 % of the training on an AVX2 machine, where training is on its
// plateau (8,200-16,000 steps of batch 16: raw TSTR 81.3-82.4 %).

/**
 * Measured on the AVX-512 development VM (Intel family 6 model 167), `npm run demo` 2026-12-03 with
 * the batch-16 recipe at 214 img/s: the evaluation without InceptionV3 377 s (TSTR's 63k fakes
 * included), InceptionV3 on 500 images per set 197 s; the filtered TSTR at the AVX2 share of `fixed`.
 */
export const AVX512_COSTS: EvalCosts = { fixed: 118_000, incv3Image: 16, incv3Setup: 14_000 };
/**
 * Measured on an AVX2-only AMD EPYC (Zen 3): ~395 batch-32 img/s, InceptionV3 ~6.9 img/s, the rest of
 * the evaluation 331 s (`npm run demo`, 2026-12-02). Setup scaled from the AVX-512 figure by the same
 * ratio; x 0.60 for batch 16; + 50k for the filtered TSTR.
 */
export const AVX2_COSTS: EvalCosts = { fixed: 131_000, incv3Image: 34, incv3Setup: 34_000 };

/** The costs for the ISA oneDNN reports (`info().isa`): AVX-512 or AMX, or anything less. */
export function evalCostsFor(isa: string): EvalCosts {
  return /avx512|amx/i.test(isa) ? AVX512_COSTS : AVX2_COSTS;
}

export const INCV3_MAX = 1000;
/** Below this many images per set the InceptionV3 statistics are too noisy to be worth their time. */
export const INCV3_MIN = MIN_TIMED_SAMPLES;
/** Margin for what the estimate does not see (start-up, report writing). */
const SLACK = 1.1;

export function evalSeconds(trainImgPerSec: number, incv3Samples: number, c: EvalCosts = AVX512_COSTS): number {
  const work = c.fixed + (incv3Samples > 0 ? c.incv3Setup + 3 * incv3Samples * c.incv3Image : 0);
  return (SLACK * work) / trainImgPerSec;
}

/** InceptionV3 images per set that fit in `seconds` at this machine's speed: 0 (skip the space) when fewer than INCV3_MIN fit. */
export function incv3SamplesFor(seconds: number, trainImgPerSec: number, c: EvalCosts = AVX512_COSTS): number {
  const left = (seconds * trainImgPerSec) / SLACK - c.fixed - c.incv3Setup;
  // The epsilon: a time computed by evalSeconds for n images must buy n again despite rounding.
  const n = Math.floor(left / (3 * c.incv3Image) + 1e-6);
  if (n < INCV3_MIN) return 0;
  return Math.min(INCV3_MAX, Math.floor(n / 100) * 100);
}

/**
 * When training must stop (ms since the epoch) for the whole demo to end by `endMs`: early enough for
 * the full evaluation, but training keeps at least 60 % of the budget when only a smaller InceptionV3
 * sample (or none) fits after it, and the bare evaluation always fits.
 */
export function trainingDeadline(endMs: number, startMs: number, trainImgPerSec: number, c: EvalCosts = AVX512_COSTS): number {
  const withFull = endMs - evalSeconds(trainImgPerSec, INCV3_MAX, c) * 1000;
  const bare = endMs - evalSeconds(trainImgPerSec, 0, c) * 1000;
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
