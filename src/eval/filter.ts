// Selection of synthetic images by a classifier trained on the real training images: an image is
// kept when that classifier gives the class it was generated for a probability of at least the
// threshold (the seeds kept fakes a 70 %-confident classifier agreed with). The selected set stays
// balanced: each class keeps at most an equal share, and a generator is asked for more images
// until every class has its share (or the cap on candidates is reached), because a filter that
// rejects more shirts than trousers would otherwise teach the next classifier that shirts are rare.
// What it releases is still synthetic: the filter reads real images only through the classifier.
import { predict, type Classifier } from './classifier.js';
import { subset, type ImageSet } from '../data/image_set.js';

export interface FilterOptions {
  /** Probability of the requested class an image needs to be kept, in (0, 1). */
  threshold: number;
  /** Images the selected set should hold (split evenly over the classes the generator draws). */
  want: number;
  /** At most this many times `want` candidates are drawn (default 4). */
  maxFactor?: number;
}

export interface Filtered {
  set: ImageSet;
  /** Images looked at. */
  candidates: number;
  /** Images kept per class id (0 for classes the generator does not draw). */
  keptPerClass: number[];
  /** Images each class may keep. */
  quota: number;
  threshold: number;
}

/**
 * Keeps the images of `draw(n)` (the first n images of a generator, or a fixed set: draw ignores n
 * and returns what there is) that `c` assigns to their own class with probability ≥ threshold.
 */
export function classifierFilter(c: Classifier, draw: (n: number) => ImageSet, o: FilterOptions): Filtered {
  if (!(o.threshold > 0 && o.threshold < 1)) throw new Error(`The TSTR filter threshold must be a probability in (0, 1), got ${o.threshold}.`);
  if (!(Number.isInteger(o.want) && o.want >= 1)) throw new Error(`The filtered set's size must be a positive integer, got ${o.want}.`);
  const cap = Math.ceil((o.maxFactor ?? 4) * o.want);
  let set = draw(o.want);
  if (!set.labels) throw new Error(`${set.name}: filtering by class needs a labelled (conditional) synthetic set.`);
  const k = c.classes.length;
  const drawn = new Set(set.labels);
  const quota = Math.ceil(o.want / drawn.size);
  const kept: number[] = [], keptPerClass = new Array<number>(k).fill(0), seenPerClass = new Array<number>(k).fill(0);
  let seen = 0;
  for (;;) {
    const fresh = subset(set, Array.from({ length: set.count - seen }, (_, i) => seen + i));
    const p = predict(c, fresh);
    for (let i = 0; i < fresh.count; i++) {
      const label = fresh.labels![i];
      seenPerClass[label]++;
      if (keptPerClass[label] < quota && keeps(p, i * k, k, label, o.threshold)) {
        keptPerClass[label]++;
        kept.push(seen + i);
      }
    }
    seen = set.count;
    const short = [...drawn].filter((l) => keptPerClass[l] < quota);
    if (!short.length || seen >= cap) break;
    // Labels cycle through the drawn classes, so a class's keep rate so far predicts how many more
    // images it needs; 5 % extra for the estimate's noise.
    const more = Math.max(...short.map((l) => (quota - keptPerClass[l]) / Math.max(keptPerClass[l] / seenPerClass[l], 0.02)));
    const next = Math.min(cap, seen + Math.ceil(1.05 * more * drawn.size) + 64);
    const grown = draw(next);
    if (grown.count <= seen) break;
    set = grown;
  }
  return { set: subset(set, kept, `${set.name}, kept by the real-data classifier at p ≥ ${o.threshold}`), candidates: seen, keptPerClass, quota, threshold: o.threshold };
}

/** The rule: probabilities p[at .. at + k) give `label` at least `threshold` and no class more. */
export function keeps(p: Float32Array, at: number, k: number, label: number, threshold: number): boolean {
  if (p[at + label] < threshold) return false;
  for (let j = 0; j < k; j++) if (p[at + j] > p[at + label]) return false;
  return true;
}
