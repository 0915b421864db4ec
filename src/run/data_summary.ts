// What a run learnt about its training data, saved at training start as <run>/data.json so that
// exporting the generator (and writing its model card) works where the training data is absent.
// Counts only: no pixels, no file names.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from '../util/atomic.js';

export interface DataSummary {
  format: 'synthset-data-summary';
  version: 1;
  /** The --data argument as given (a path or builtin:…). */
  source: string;
  /** Every class name in label order (empty for unlabelled data). */
  classes: string[];
  /** Class ids with train images, ascending. */
  present: number[];
  /** Train-split images per class name. */
  counts: Record<string, number>;
  trainImages: number;
  holdoutImages: number;
  channels: 1 | 3;
  size: number;
  labelled: boolean;
  /** Cache key of the decoded pixels. */
  hash: string;
  /** Label-map data: K, the one-hot width of the maps (their class names are `classes`, by index). */
  labelClasses?: number;
}

export const DATA_SUMMARY = 'data.json';

export function writeDataSummary(runDir: string, s: DataSummary): void {
  writeAtomic(join(runDir, DATA_SUMMARY), `${JSON.stringify(s, null, 2)}\n`);
}

/** The run's saved data summary, or null for runs made before it existed. */
export function readDataSummary(runDir: string): DataSummary | null {
  const file = join(runDir, DATA_SUMMARY);
  if (!existsSync(file)) return null;
  const s = JSON.parse(readFileSync(file, 'utf8')) as DataSummary;
  if (s.format !== 'synthset-data-summary') throw new Error(`${file}: not a synthset data summary (format ${JSON.stringify(s.format)}).`);
  return s;
}
