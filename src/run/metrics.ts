// metrics.jsonl: one JSON object per logged step, "step" first. Values of the steps in between are
// averaged into the next line, so a sparse log still reflects every step.
import { appendFileSync, readFileSync } from 'node:fs';
import { writeAtomic } from '../util/atomic.js';

export type MetricsRecord = { step: number } & Record<string, number>;

export class MetricsLog {
  private sums: Record<string, number> = {};
  private steps = 0;
  private images = 0;
  private seconds = 0;

  constructor(readonly file: string) {}

  /** Adds one trained step to the current window. */
  add(values: Record<string, number>, images: number, seconds: number): void {
    for (const [k, v] of Object.entries(values)) this.sums[k] = (this.sums[k] ?? 0) + v;
    this.steps++;
    this.images += images;
    this.seconds += seconds;
  }

  get pending(): boolean {
    return this.steps > 0;
  }

  /** Writes the window as the line of `step` and starts a new one. */
  flush(step: number, extra: Record<string, number> = {}): MetricsRecord | null {
    if (!this.steps) return null;
    const rec: MetricsRecord = { step };
    for (const [k, v] of Object.entries(this.sums)) rec[k] = v / this.steps;
    rec.imgPerSec = this.seconds > 0 ? this.images / this.seconds : 0;
    Object.assign(rec, extra);
    appendFileSync(this.file, `${JSON.stringify(rec)}\n`);
    this.reset();
    return rec;
  }

  reset(): void {
    this.sums = {};
    this.steps = this.images = this.seconds = 0;
  }

  /** Drops lines after `step` (and torn lines), for a resume or a rollback to that step. */
  truncate(step: number): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return;
    }
    const keep = text.split('\n').filter((line) => {
      try {
        const r = JSON.parse(line) as { step?: unknown };
        return typeof r.step === 'number' && r.step <= step;
      } catch {
        return false;
      }
    });
    writeAtomic(this.file, keep.map((l) => `${l}\n`).join(''));
  }
}

/** Every record of a metrics file. */
export function readMetrics(file: string): MetricsRecord[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as MetricsRecord);
}
