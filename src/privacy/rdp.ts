// Rényi-DP accounting of the sampled Gaussian mechanism, the noise DP-SGD adds to a Poisson-sampled
// batch of clipped per-example gradients. The formulas and their order of evaluation follow
// Opacus's opacus/accountants/analysis/rdp.py (itself TF Privacy's rdp_accountant.py), so an ε
// printed here is the ε those libraries print for the same run; see rdp.test.ts for the published
// values it reproduces. Derivations: arXiv:1908.10530 §3.3 (log A_α), arXiv:2004.00010 Prop. 12
// (the RDP → (ε, δ) conversion).
import { logErfc } from './erfc.js';

/** Opacus's RDPAccountant.DEFAULT_ALPHAS: 1.1, 1.2, …, 10.9, then 12, 13, …, 63. */
export const DEFAULT_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, k) => 1 + (k + 1) / 10.0),
  ...Array.from({ length: 52 }, (_, k) => 12 + k),
]);

/**
 * How RDP turns into (ε, δ)-DP. 'improved' (the default) is Opacus's get_privacy_spent,
 * ε = rdp − (log δ + log α)/(α − 1) + log((α − 1)/α) (arXiv:2004.00010 Prop. 12). 'classic' is
 * ε = rdp − log δ/(α − 1) (arXiv:1702.07476 Prop. 3), what TF Privacy used until Dec 2020 and
 * Opacus until Apr 2021: the tutorials' published ε were made with it, and it is always larger.
 */
export type RdpConversion = 'improved' | 'classic';
export const CONVERSIONS: readonly RdpConversion[] = ['improved', 'classic'];

export interface PrivacySpent {
  epsilon: number;
  /** The RDP order that gave the smallest ε (NaN when no order gave a number). */
  order: number;
  /** The best order is the grid's first or last: a wider grid could give a smaller ε. */
  orderAtEdge: boolean;
}

// ---- validation: every message names the value and what to pass instead ----

export function checkSampleRate(q: number, name = 'sample rate'): void {
  if (typeof q !== 'number' || !(q >= 0 && q <= 1)) {
    throw new RangeError(`${name} q = ${q} is outside [0, 1]: pass the probability that one example is in a batch (batch size / dataset size).`);
  }
}

export function checkNoiseMultiplier(sigma: number, name = 'noise multiplier'): void {
  if (typeof sigma !== 'number' || !(sigma >= 0) || !Number.isFinite(sigma)) {
    throw new RangeError(`${name} σ = ${sigma} must be a finite number >= 0: pass the noise std divided by the clipping norm (0 means no privacy).`);
  }
}

export function checkDelta(delta: number): void {
  if (typeof delta !== 'number' || !(delta > 0 && delta < 1)) {
    throw new RangeError(`δ = ${delta} must be in (0, 1): pass a small probability, below 1 / dataset size (e.g. 1e-5).`);
  }
}

export function checkSteps(steps: number, name = 'steps', min = 0): void {
  if (typeof steps !== 'number' || !Number.isSafeInteger(steps) || steps < min) {
    throw new RangeError(`${name} = ${steps} must be an integer >= ${min}: pass the number of noisy optimizer steps.`);
  }
}

export function checkOrders(orders: readonly number[], allowInfinity = true): void {
  if (!Array.isArray(orders) || orders.length === 0) {
    throw new RangeError(`RDP orders ${JSON.stringify(orders)} must be a non-empty array of numbers > 1 (e.g. DEFAULT_ORDERS).`);
  }
  for (const a of orders) {
    if (typeof a !== 'number' || !(a > 1) || (!allowInfinity && !Number.isFinite(a))) {
      throw new RangeError(`RDP order ${a} must be a ${allowInfinity ? '' : 'finite '}number > 1: order 1 and below give no (ε, δ) bound.`);
    }
  }
}

// ---- log-space arithmetic ----

/** log(e^x + e^y). */
export function logAdd(x: number, y: number): number {
  const a = Math.min(x, y);
  const b = Math.max(x, y);
  if (a === -Infinity || b === Infinity) return b;
  return Math.log1p(Math.exp(a - b)) + b;
}

/** log(e^x − e^y) for x >= y; NaN when the difference would be negative. */
export function logSub(x: number, y: number): number {
  if (x < y) return NaN;
  if (y === -Infinity) return x;
  if (x === y) return -Infinity;
  const d = Math.expm1(x - y);
  // as the Python's OverflowError branch: e^y is negligible beside e^x
  return d === Infinity ? x : Math.log(d) + y;
}

// ---- log A_α, the α-th moment of the privacy loss ----

/** log A_α for integer α, 0 < q < 1: log Σ_i C(α, i) q^i (1−q)^(α−i) e^((i²−i)/(2σ²)). */
function logAInt(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const twoVar = 2 * sigma * sigma;
  let logA = -Infinity;
  let logCoef = 0; // log C(α, i), built up term by term
  for (let i = 0; i <= alpha; i++) {
    if (i > 0) logCoef += Math.log((alpha - i + 1) / i);
    logA = logAdd(logA, logCoef + i * logQ + (alpha - i) * log1mQ + (i * i - i) / twoVar);
  }
  return logA;
}

// Far past any sane σ and α; a series still not converged there gives no usable bound.
const MAX_FRAC_TERMS = 100_000;

/**
 * log A_α for fractional α, 0 < q < 1: the integral split at z0 where the two mixture densities
 * cross, each half a series with alternating-sign binomial coefficients C(α, i) (TF Privacy's
 * _compute_log_a_frac, term for term). Infinity when the series fails: an order without a bound.
 */
function logAFrac(q: number, sigma: number, alpha: number): number {
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const twoVar = 2 * sigma * sigma;
  const scale = Math.SQRT2 * sigma;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  let logAbsCoef = 0;
  let positive = true;
  for (let i = 0; i < MAX_FRAC_TERMS; i++) {
    if (i > 0) {
      const ratio = (alpha - i + 1) / i;
      logAbsCoef += Math.log(Math.abs(ratio));
      if (ratio < 0) positive = !positive;
    }
    const j = alpha - i;
    const logT0 = logAbsCoef + i * logQ + j * log1mQ;
    const logT1 = logAbsCoef + j * logQ + i * log1mQ;
    const logE0 = Math.log(0.5) + logErfc((i - z0) / scale);
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / scale);
    const logS0 = logT0 + (i * i - i) / twoVar + logE0;
    const logS1 = logT1 + (j * j - j) / twoVar + logE1;
    if (positive) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
      // a partial sum gone negative is rounding swamping the series (Python raises here)
      if (Number.isNaN(logA0) || Number.isNaN(logA1)) return Infinity;
    }
    if (Math.max(logS0, logS1) < -30) return logAdd(logA0, logA1);
  }
  return Infinity;
}

/** RDP of one step of the sampled Gaussian mechanism at order α (can be Infinity). */
export function rdpAtOrder(q: number, sigma: number, alpha: number): number {
  if (q === 0) return 0;
  if (sigma === 0) return Infinity;
  if (q === 1) return alpha / (2 * sigma * sigma);
  if (alpha === Infinity) return Infinity;
  const logA = Number.isInteger(alpha) ? logAInt(q, sigma, alpha) : logAFrac(q, sigma, alpha);
  return logA / (alpha - 1);
}

/**
 * RDP at each order of `steps` compositions of the sampled Gaussian mechanism with sampling rate
 * q and noise multiplier σ. Composition adds RDP, so this is steps × the one-step value.
 */
export function computeRdp(q: number, sigma: number, steps: number, orders: readonly number[] = DEFAULT_ORDERS): number[] {
  checkSampleRate(q);
  checkNoiseMultiplier(sigma);
  checkSteps(steps);
  checkOrders(orders);
  // 0 × Infinity would be NaN; zero steps spend nothing whatever σ is
  if (steps === 0) return orders.map(() => 0);
  return orders.map((a) => rdpAtOrder(q, sigma, a) * steps);
}

/** ε at each order for target δ: the conversion's formula, before taking the minimum. */
function epsilonsAt(orders: readonly number[], rdp: readonly number[], delta: number, conversion: RdpConversion): number[] {
  const logDelta = Math.log(delta);
  return orders.map((a, i) => (conversion === 'classic'
    ? rdp[i] - logDelta / (a - 1)
    : rdp[i] - (logDelta + Math.log(a)) / (a - 1) + Math.log((a - 1) / a)));
}

/**
 * The (ε, δ)-DP guarantee implied by RDP values at the given orders: the smallest ε over orders,
 * NaNs skipped and ties to the first (numpy's nanargmin), as Opacus's get_privacy_spent.
 */
export function privacySpent(orders: readonly number[], rdp: readonly number[], delta: number, conversion: RdpConversion = 'improved'): PrivacySpent {
  checkDelta(delta);
  checkOrders(orders);
  if (orders.length !== rdp.length) {
    throw new RangeError(`${orders.length} RDP orders but ${rdp.length} RDP values: pass one value per order (computeRdp(q, σ, steps, orders)).`);
  }
  if (!CONVERSIONS.includes(conversion)) {
    throw new RangeError(`conversion '${conversion}' is not one of ${CONVERSIONS.join(', ')}.`);
  }
  const eps = epsilonsAt(orders, rdp, delta, conversion);
  let best = -1;
  for (let i = 0; i < eps.length; i++) {
    if (!Number.isNaN(eps[i]) && (best < 0 || eps[i] < eps[best])) best = i;
  }
  if (best < 0) return { epsilon: Infinity, order: NaN, orderAtEdge: false };
  return { epsilon: eps[best], order: orders[best], orderAtEdge: best === 0 || best === eps.length - 1 };
}

export interface SgmRun {
  /** Probability that one example is in a batch (Poisson sampling), in [0, 1]. */
  sampleRate: number;
  /** Number of noisy steps, an integer >= 0. */
  steps: number;
  delta: number;
  orders?: readonly number[];
  conversion?: RdpConversion;
}

/** ε spent by `steps` DP-SGD steps at sampling rate q with noise multiplier σ, for δ. */
export function epsilonFor(run: SgmRun & { noiseMultiplier: number }): PrivacySpent {
  const orders = run.orders ?? DEFAULT_ORDERS;
  const rdp = computeRdp(run.sampleRate, run.noiseMultiplier, run.steps, orders);
  return privacySpent(orders, rdp, run.delta, run.conversion);
}

// As Opacus's MAX_SIGMA: past it the budget is hopeless, not the search short.
const MAX_SIGMA = 1e6;
// The bisection halves [lo, hi] each time: after this many the interval is below one ulp.
const MAX_BISECTIONS = 200;

/**
 * The noise multiplier that keeps `steps` steps at sampling rate q within (targetEpsilon, δ):
 * Opacus's get_noise_multiplier: double σ from 20 until ε <= target, then bisect until ε is within
 * epsilonTolerance below the target. The σ returned always has ε <= targetEpsilon.
 */
export function noiseMultiplierFor(opts: SgmRun & { targetEpsilon: number; epsilonTolerance?: number }): number {
  const { targetEpsilon, delta, sampleRate, steps } = opts;
  const tolerance = opts.epsilonTolerance ?? 0.01;
  if (typeof targetEpsilon !== 'number' || !(targetEpsilon > 0) || !Number.isFinite(targetEpsilon)) {
    throw new RangeError(`target ε = ${targetEpsilon} must be a finite number > 0: pass the privacy budget's ε (e.g. 8).`);
  }
  if (typeof tolerance !== 'number' || !(tolerance > 0)) {
    throw new RangeError(`epsilonTolerance = ${tolerance} must be > 0: pass how far below the target ε the answer may land (e.g. 0.01).`);
  }
  checkDelta(delta);
  checkSampleRate(sampleRate);
  checkSteps(steps);
  const eps = (sigma: number) => epsilonFor({ ...opts, noiseMultiplier: sigma }).epsilon;
  const tooLow = (best: number) => new RangeError(
    `no noise multiplier up to ${MAX_SIGMA} keeps ${steps} steps at q = ${sampleRate} within ε = ${targetEpsilon}, δ = ${delta} `
    + `(the most noise still gives ε = ${best}): raise ε or δ, take fewer steps or a lower sample rate, or add larger RDP orders.`);
  // Nothing sampled or no steps: ε does not depend on σ, so the least noise is the answer.
  if (sampleRate === 0 || steps === 0) {
    const e = eps(0);
    if (e > targetEpsilon) throw tooLow(e);
    return 0;
  }
  let lo = 0;
  let hi = 10;
  let epsHi = Infinity;
  while (epsHi > targetEpsilon) {
    hi *= 2;
    epsHi = eps(hi);
    if (hi > MAX_SIGMA) throw tooLow(epsHi);
  }
  for (let k = 0; k < MAX_BISECTIONS && targetEpsilon - epsHi > tolerance; k++) {
    const sigma = (lo + hi) / 2;
    const e = eps(sigma);
    if (e < targetEpsilon) {
      hi = sigma;
      epsHi = e;
    } else {
      lo = sigma;
    }
  }
  return hi;
}
