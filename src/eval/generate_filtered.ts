// `generate --filter <p> --real <images>`: a released set of only the generated images that a
// classifier trained on the real ones gives their own class with probability >= p and as its top
// class (filter.ts's rule, the seeds' selection), exactly --per-class of each class. Candidates
// are the bundle's own deterministic stream (image i from (seed, i)); each class walks its indices
// until it has its share, so the set is balanced however differently the classes pass. The
// classifier is saved beside the images and the walk's position after every batch: a resumed run
// continues with the same classifier and the same candidates, and so makes the same set.
// Lives in eval/ (as generate_scored.ts): io generates, eval judges.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import * as tf from '@tensorflow/tfjs';
import { memorySet } from '../data/image_set.js';
import { checkClasses, classOf, generateBytes } from '../io/generator.js';
import { GENERATE_BATCH, imageFile, loadBundle, writeManifests, type Bundle, type ManifestRow } from '../io/generate.js';
import { writePng } from '../io/png.js';
import { syncDir, writeAtomic } from '../util/atomic.js';
import { classFolder } from '../util/text.js';
import { buildClassifier, CLASSIFIER_DEFAULTS, predict, trainClassifier, type Classifier } from './classifier.js';
import { keeps } from './filter.js';
import { openReal } from './sources.js';

export interface FilteredGenerateOptions {
  bundle: string | Bundle;
  perClass: number;
  /** Real images (ImageFolder or builtin:…) the filter's classifier learns the classes from. */
  real: string;
  /** Probability of its own class an image needs, in (0, 1). */
  threshold: number;
  seed?: number;
  out: string;
  batchSize?: number;
  /** Training images of the classifier (eval's budget by default). */
  classifierImages?: number;
  /** Candidates looked at per wanted image before a class is given up as short (default 20). */
  maxFactor?: number;
  onProgress?: (done: number, total: number, stage: 'classifier' | 'generate') => void;
  signal?: AbortSignal;
}

export interface FilteredGenerateResult {
  out: string;
  /** Kept images per class name. */
  kept: Record<string, number>;
  perClass: number;
  /** Candidates generated and classified, by this and earlier runs of the same folder. */
  candidates: number;
  /** Classes with fewer than perClass images after the cap on candidates. */
  short: string[];
  written: number;
  manifests: string[];
  stopped: boolean;
}

/** filter.json: the walk so far and what it depends on (a resume with other settings is refused). */
interface FilterState {
  format: 'synthset-filtered';
  bundleWeights: string; seed: number; threshold: number; real: string; classifierImages: number; batch: number; perClass: number; maxFactor: number;
  classifier: { shapes: number[][]; sha256: string };
  next: number;
  /** Per class id: the kept candidate indices and their probabilities. */
  kept: Record<number, { index: number[]; p: number[] }>;
}

const STATE = 'filter.json';
const WEIGHTS = 'filter-classifier.bin';

export async function generateFiltered(o: FilteredGenerateOptions): Promise<FilteredGenerateResult> {
  if (!(Number.isInteger(o.perClass) && o.perClass >= 1)) throw new Error(`--per-class must be a positive integer, got ${o.perClass}.`);
  if (!(o.threshold > 0 && o.threshold < 1)) throw new Error(`--filter must be a probability in (0, 1), got ${o.threshold}.`);
  const seed = o.seed ?? 0, batch = o.batchSize ?? GENERATE_BATCH, maxFactor = o.maxFactor ?? 20;
  const classifierImages = o.classifierImages ?? CLASSIFIER_DEFAULTS.images;
  const bundle = typeof o.bundle === 'string' ? await loadBundle(o.bundle) : o.bundle;
  let classifier: Classifier | null = null;
  try {
    const g = bundle.generator, meta = g.meta;
    if (!meta.conditional) throw new Error(`${bundle.dir}: an unconditional generator; --filter keeps images a classifier gives their own class, so it needs a conditional one (cgan, sngan, --per-class runs).`);
    const classes = meta.present;
    checkClasses(meta, classes);
    const out = resolve(o.out);
    const weights = bundle.manifest.model.map((f) => f.sha256).join(',');
    const file = join(out, STATE);
    const want: Omit<FilterState, 'classifier' | 'next' | 'kept'> = {
      format: 'synthset-filtered', bundleWeights: weights, seed, threshold: o.threshold, real: o.real, classifierImages, batch, perClass: o.perClass, maxFactor,
    };
    let state = existsSync(file) ? checkState(file, want) : null;
    if (!state && existsSync(join(out, 'generate.json'))) throw new Error(`${out} holds an unfiltered set (generate.json): choose another --out for the filtered one.`);
    classifier = state ? openFilterClassifier(out, meta.size, meta.channels, meta.classes, state) : await trainFilterClassifier(o.real, meta, classifierImages, o.onProgress);
    if (!state) {
      mkdirSync(out, { recursive: true });
      const w = classifier.model.getWeights();
      const values = new Float32Array(w.reduce((a, t) => a + t.size, 0));
      w.reduce((at, t) => (values.set(t.dataSync() as Float32Array, at), at + t.size), 0);
      const bytes = new Uint8Array(values.buffer);
      writeAtomic(join(out, WEIGHTS), bytes);
      state = { ...want, classifier: { shapes: w.map((t) => t.shape), sha256: sha256(bytes) }, next: 0, kept: Object.fromEntries(classes.map((c) => [c, { index: [], p: [] }])) };
      writeAtomic(file, JSON.stringify(state));
    }
    for (const c of classes) mkdirSync(join(out, classFolder(meta.classes[c])), { recursive: true });

    const k = meta.classes.length, px = meta.size * meta.size * meta.channels;
    const cap = maxFactor * o.perClass * classes.length;
    const name = (i: number) => imageFile(meta.classes[classOf(i, classes)], i, cap);
    const total = o.perClass * classes.length;
    const count = () => classes.reduce((a, c) => a + state!.kept[c].index.length, 0);
    const short = () => classes.filter((c) => state!.kept[c].index.length < o.perClass);
    let written = 0, stopped = false;
    o.onProgress?.(count(), total, 'generate');
    while (short().length && state.next < cap) {
      // Synchronous work per batch: yield so a SIGINT/SIGTERM handler can abort between batches.
      await setImmediate();
      if (o.signal?.aborted) { stopped = true; break; }
      const idx: number[] = [];
      for (; idx.length < batch && state.next < cap; state.next++) if (state.kept[classOf(state.next, classes)].index.length < o.perClass) idx.push(state.next);
      if (!idx.length) continue;
      // One fixed batch shape, so an image's bytes do not depend on its neighbours (as generateFolder).
      const { bytes, labels } = generateBytes(g, seed, idx.concat(Array(batch - idx.length).fill(idx[0])), classes);
      const set = memorySet({ name: 'candidates', size: meta.size, channels: meta.channels, classes: meta.classes, labels: labels.slice(0, idx.length), bytes: bytes.subarray(0, idx.length * px) });
      const p = predict(classifier, set);
      idx.forEach((i, j) => {
        const c = labels[j], kept = state!.kept[c];
        if (kept.index.length >= o.perClass || !keeps(p, j * k, k, c, o.threshold)) return;
        writePng(join(out, name(i)), bytes.subarray(j * px, (j + 1) * px), meta.size, meta.size, meta.channels);
        kept.index.push(i);
        kept.p.push(Number(p[j * k + c].toFixed(6)));
        written++;
      });
      for (const c of new Set(idx.map((i) => classOf(i, classes)))) syncDir(join(out, classFolder(meta.classes[c])));
      // The images first, then the walk's position: a crash in between rewrites the same files.
      writeAtomic(file, JSON.stringify(state));
      o.onProgress?.(count(), total, 'generate');
    }
    const kept = Object.fromEntries(classes.map((c) => [meta.classes[c], state!.kept[c].index.length]));
    const result = { out, kept, perClass: o.perClass, candidates: state.next, short: stopped ? [] : short().map((c) => meta.classes[c]), written, stopped };
    if (stopped) return { ...result, manifests: [] };
    const rows: ManifestRow[] = classes.flatMap((c) => state!.kept[c].index.map((index, j) => ({ file: name(index), class: meta.classes[c], classId: c, seed, index, p_class: state!.kept[c].p[j] })))
      .sort((a, b) => a.index - b.index);
    return { ...result, manifests: writeManifests(out, 'manifest', rows, ['p_class']) };
  } finally {
    classifier?.dispose();
    if (typeof o.bundle === 'string') bundle.dispose();
  }
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function checkState(file: string, want: Omit<FilterState, 'classifier' | 'next' | 'kept'>): FilterState {
  let s: FilterState;
  try {
    s = JSON.parse(readFileSync(file, 'utf8')) as FilterState;
  } catch (err) {
    throw new Error(`${file}: cannot read the filtered set's state (${(err as Error).message.split('\n')[0]}): delete the folder to start over.`);
  }
  for (const key of Object.keys(want) as (keyof typeof want)[]) {
    if (s[key] !== want[key]) {
      const what = key === 'bundleWeights' ? 'another generator' : `${key} ${JSON.stringify(s[key])}, not ${JSON.stringify(want[key])}`;
      throw new Error(`${resolve(file, '..')} holds a filtered set made with ${what}: run with the same settings to continue it, or choose another --out.`);
    }
  }
  return s;
}

async function trainFilterClassifier(real: string, meta: Bundle['generator']['meta'], images: number, onProgress: FilteredGenerateOptions['onProgress']): Promise<Classifier> {
  const set = await openReal(real, { size: meta.size, channels: meta.channels }, 'real');
  try {
    if (set.value.classes.join('\n') !== meta.classes.join('\n')) {
      throw new Error(`${real}: classes [${set.value.classes.join(', ')}] differ from the generator's [${meta.classes.join(', ')}]; the filter needs real images of the same classes.`);
    }
    return trainClassifier(set.value, { images, onProgress: (e) => onProgress?.(e.done, e.total, 'classifier') });
  } finally {
    set.close();
  }
}

/** The classifier a filtered folder was made with, from its saved weights. */
export function openFilterClassifier(out: string, size: number, channels: 1 | 3, classes: string[], s: FilterState = JSON.parse(readFileSync(join(out, STATE), 'utf8'))): Classifier {
  const file = join(out, WEIGHTS);
  const bytes = existsSync(file) ? new Uint8Array(readFileSync(file)) : null;
  if (!bytes || sha256(bytes) !== s.classifier.sha256) throw new Error(`${file}: the filter's saved classifier is ${bytes ? 'damaged' : 'missing'}, so the set cannot be continued as it was begun: delete the folder to start over.`);
  const { model, features } = buildClassifier(size, channels, classes.length, CLASSIFIER_DEFAULTS.width, CLASSIFIER_DEFAULTS.seed);
  const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  let at = 0;
  const tensors = s.classifier.shapes.map((shape) => tf.tensor(values.slice(at, (at += shape.reduce((a, b) => a * b, 1))), shape));
  if (at !== values.length) throw new Error(`${file}: ${values.length} weights where the saved shapes need ${at}: delete the folder to start over.`);
  model.setWeights(tensors);
  tf.dispose(tensors);
  return { model, features, classes, size, channels, dispose: () => model.dispose() };
}
