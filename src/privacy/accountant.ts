// The accountant a DP training loop keeps: the history of (σ, q, steps) it ran, ε on demand, a JSON
// form for checkpoints so a resumed run keeps counting from where it stopped, and how many more
// steps a budget allows so the loop can stop before crossing it. The history and its merging of
// equal consecutive steps are Opacus's RDPAccountant's.
import {
  checkDelta, checkNoiseMultiplier, checkOrders, checkSampleRate, checkSteps, CONVERSIONS, DEFAULT_ORDERS,
  privacySpent, rdpAtOrder, type PrivacySpent, type RdpConversion,
} from './rdp.js';

export interface HistoryEntry {
  noiseMultiplier: number;
  sampleRate: number;
  steps: number;
}

export interface AccountantOptions {
  orders?: readonly number[];
  conversion?: RdpConversion;
}

export interface PrivacyBudget {
  epsilon: number;
  delta: number;
  noiseMultiplier: number;
  sampleRate: number;
}

/** What toJSON() writes and fromJSON() reads back. */
export interface RdpAccountantJSON {
  kind: 'rdp';
  version: 1;
  orders: number[];
  conversion: RdpConversion;
  history: HistoryEntry[];
}

// Past 2^52 steps the count itself stops being exact; a budget that allows that many allows any.
const MAX_COUNT = 2 ** 52;

export class RdpAccountant {
  readonly orders: readonly number[];
  readonly conversion: RdpConversion;
  private readonly entries: HistoryEntry[] = [];
  // one-step RDP per (σ, q): the fractional-order series is the costly part and a run has few
  private readonly perStep = new Map<string, number[]>();

  constructor(opts: AccountantOptions = {}) {
    const orders = opts.orders ?? DEFAULT_ORDERS;
    // JSON cannot hold Infinity, and an infinite order never gives the smallest ε anyway
    checkOrders(orders, false);
    const conversion = opts.conversion ?? 'improved';
    if (!CONVERSIONS.includes(conversion)) {
      throw new RangeError(`conversion '${conversion}' is not one of ${CONVERSIONS.join(', ')}.`);
    }
    this.orders = Object.freeze([...orders]);
    this.conversion = conversion;
  }

  /** The (σ, q, steps) runs so far, oldest first, equal consecutive ones merged. */
  get history(): readonly Readonly<HistoryEntry>[] {
    return this.entries.map((e) => ({ ...e }));
  }

  /** Records `steps` (default 1) noisy steps at noise multiplier σ and sampling rate q. */
  step({ noiseMultiplier, sampleRate, steps = 1 }: { noiseMultiplier: number; sampleRate: number; steps?: number }): void {
    checkNoiseMultiplier(noiseMultiplier);
    checkSampleRate(sampleRate);
    checkSteps(steps, 'steps', 1);
    merge(this.entries, { noiseMultiplier, sampleRate, steps });
  }

  /** ε and the best order for δ; ε = 0 before any step (Opacus's accountant does the same). */
  getPrivacySpent(delta: number): PrivacySpent {
    checkDelta(delta);
    return this.spentBy(this.entries, delta);
  }

  getEpsilon(delta: number): number {
    return this.getPrivacySpent(delta).epsilon;
  }

  /**
   * How many more steps at (σ, q) keep ε <= budget.epsilon at budget.delta, counting what this
   * accountant has already spent: 0 if even one more would cross it (or it is already crossed),
   * Infinity if no number of steps would (q = 0). The count is exact: after that many step()
   * calls getEpsilon(δ) <= ε, after one more it is > ε.
   */
  stepsWithin(budget: PrivacyBudget): number {
    const { epsilon, delta, noiseMultiplier, sampleRate } = budget;
    if (typeof epsilon !== 'number' || Number.isNaN(epsilon)) {
      throw new RangeError(`budget ε = ${epsilon} must be a number: pass the privacy budget's ε (e.g. 8).`);
    }
    checkDelta(delta);
    checkNoiseMultiplier(noiseMultiplier);
    checkSampleRate(sampleRate);
    const fits = (n: number) => {
      if (n === 0) return this.spentBy(this.entries, delta).epsilon <= epsilon;
      const h = this.entries.map((e) => ({ ...e }));
      merge(h, { noiseMultiplier, sampleRate, steps: n });
      return this.spentBy(h, delta).epsilon <= epsilon;
    };
    // ε grows with the step count, so: double until it no longer fits, then bisect
    if (!fits(0)) return 0;
    let lo = 0;
    let hi = 1;
    while (fits(hi)) {
      lo = hi;
      if (hi >= MAX_COUNT) return Infinity;
      hi *= 2;
    }
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (fits(mid)) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  toJSON(): RdpAccountantJSON {
    return { kind: 'rdp', version: 1, orders: [...this.orders], conversion: this.conversion, history: this.entries.map((e) => ({ ...e })) };
  }

  /** An accountant from toJSON()'s output (the object or its JSON text); throws on a corrupt one. */
  static fromJSON(json: unknown): RdpAccountant {
    const bad = (what: string) => new Error(
      `RdpAccountant.fromJSON: ${what}. The saved privacy state is corrupt: restore it from an intact checkpoint, or restart accounting from zero (its ε would then be too low).`);
    let v = json;
    if (typeof v === 'string') {
      try {
        v = JSON.parse(v);
      } catch (err) {
        throw bad(`the text is not JSON (${(err as Error).message})`);
      }
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`expected an object, got ${describe(v)}`);
    const o = v as Record<string, unknown>;
    if (o.kind !== 'rdp') throw bad(`kind is ${describe(o.kind)}, not 'rdp'`);
    if (o.version !== 1) throw bad(`version ${describe(o.version)} is not 1, the one this code reads`);
    if (!Array.isArray(o.orders) || o.orders.length === 0 || !o.orders.every((a) => typeof a === 'number' && a > 1 && Number.isFinite(a))) {
      throw bad(`orders ${describe(o.orders)} is not a non-empty array of finite numbers > 1`);
    }
    if (!CONVERSIONS.includes(o.conversion as RdpConversion)) throw bad(`conversion ${describe(o.conversion)} is not one of ${CONVERSIONS.join(', ')}`);
    if (!Array.isArray(o.history)) throw bad(`history ${describe(o.history)} is not an array`);
    const acc = new RdpAccountant({ orders: o.orders as number[], conversion: o.conversion as RdpConversion });
    o.history.forEach((e: unknown, i) => {
      const r = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
      const ok = typeof r.noiseMultiplier === 'number' && r.noiseMultiplier >= 0 && Number.isFinite(r.noiseMultiplier)
        && typeof r.sampleRate === 'number' && r.sampleRate >= 0 && r.sampleRate <= 1
        && typeof r.steps === 'number' && Number.isSafeInteger(r.steps) && r.steps >= 1;
      if (!ok) throw bad(`history[${i}] ${describe(e)} is not {noiseMultiplier >= 0, sampleRate in [0, 1], steps an integer >= 1}`);
      // pushed as stored, not merged: the JSON is the history as it was
      acc.entries.push({ noiseMultiplier: r.noiseMultiplier as number, sampleRate: r.sampleRate as number, steps: r.steps as number });
    });
    return acc;
  }

  private oneStep(sigma: number, q: number): number[] {
    const key = `${sigma}|${q}`;
    let r = this.perStep.get(key);
    if (!r) {
      r = this.orders.map((a) => rdpAtOrder(q, sigma, a));
      this.perStep.set(key, r);
    }
    return r;
  }

  private spentBy(history: readonly HistoryEntry[], delta: number): PrivacySpent {
    if (history.length === 0) return { epsilon: 0, order: 0, orderAtEdge: false };
    const total = this.orders.map(() => 0);
    for (const e of history) {
      const r = this.oneStep(e.noiseMultiplier, e.sampleRate);
      for (let i = 0; i < total.length; i++) total[i] += r[i] * e.steps;
    }
    return privacySpent(this.orders, total, delta, this.conversion);
  }
}

/** How many steps at (σ, q) fit a budget from scratch: new RdpAccountant(opts).stepsWithin(budget). */
export function stepsWithin(budget: PrivacyBudget, opts: AccountantOptions = {}): number {
  return new RdpAccountant(opts).stepsWithin(budget);
}

/** Appends a run to a history, adding its steps to the last entry when σ and q are the same. */
function merge(history: HistoryEntry[], run: HistoryEntry): void {
  const last = history.at(-1);
  if (last && last.noiseMultiplier === run.noiseMultiplier && last.sampleRate === run.sampleRate) last.steps += run.steps;
  else history.push({ ...run });
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
