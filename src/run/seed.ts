// Seeds for every random draw of training. Each draw takes its seed from (run seed, step, purpose),
// never from a running generator, so a run resumed at any step repeats the same draws.
import { mixSeed } from '../util/random.js';

/** Purposes, so the step seed, the sample z and the initial weights never share a stream. */
export const SEED = { step: 1, init: 2, samples: 3 } as const;

/** The seed handed to the family for step `step` (FamilyContext/StepContext `seed`). */
export const stepSeed = (runSeed: number, step: number): number => mixSeed(runSeed, SEED.step, step);
