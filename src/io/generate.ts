// `generate`: a bundle to an ImageFolder <out>/<class>/<index>.png with manifest.csv/.jsonl.
// Image i depends only on (seed, i), so shards (contiguous index ranges) merge by copying and a
// re-run rewrites identical bytes. Finished files are kept (each is written atomically), so an
// interrupted run resumes; manifests are rebuilt from the indices at the end.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import sharp from 'sharp';
import { memorySet, type ImageSet } from '../data/image_set.js';
import { writePng } from './png.js';
import { syncDir, writeAtomic } from '../util/atomic.js';
import { classFolder, csvField } from '../util/text.js';
import { checkClasses, generateBytes } from './generator.js';
import { loadGenerator, type LoadedGenerator } from '../run/generator.js';
import type { BundleManifest } from './manifest.js';
import { classOf } from './sampling.js';
import { shardRange, type Shard } from './shard.js';

export interface Bundle { dir: string; manifest: BundleManifest; generator: LoadedGenerator; dispose(): void }

/** Opens a bundle, checking every model file against the manifest's sha256. */
export async function loadBundle(dir: string): Promise<Bundle> {
  const root = resolve(dir);
  const file = join(root, 'manifest.json');
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8')) as BundleManifest;
  } catch (err) {
    throw new Error(`${file}: cannot read a bundle manifest (${(err as Error).message.split('\n')[0]}). Make a bundle with \`synthset export --run <run> --out <bundle>\`.`);
  }
  if (manifest.format !== 'synthset-bundle') throw new Error(`${file}: not a synthset bundle manifest (format ${JSON.stringify(manifest.format)}).`);
  for (const f of manifest.model) {
    const p = join(root, f.path);
    if (!existsSync(p)) throw new Error(`${root}: ${f.path} is missing; copy the whole bundle folder.`);
    const h = createHash('sha256').update(readFileSync(p)).digest('hex');
    if (h !== f.sha256) throw new Error(`${p}: sha256 ${h.slice(0, 12)}… differs from the manifest's ${f.sha256.slice(0, 12)}…: the file is damaged or was changed; copy the bundle again.`);
  }
  if (manifest.input.kind !== 'latent') throw new Error(`${root}: a ${manifest.family} bundle translates images (input kind "${manifest.input.kind}"); this synthset version generates from latent bundles only.`);
  const generator = await loadGenerator(root);
  return { dir: root, manifest, generator, dispose: () => generator.model.dispose() };
}

export interface GenerateFolderOptions {
  bundle: string | Bundle;
  perClass: number;
  seed?: number;
  out: string;
  shard?: Shard;
  batchSize?: number;
  /** Images done of the shard; with `score`, a second pass (stage 'score') counts the scored ones. */
  onProgress?: (done: number, total: number, stage?: 'generate' | 'score') => void;
  /** Stops after the current batch (finished files stay; a re-run continues). */
  signal?: AbortSignal;
  /**
   * Scores every image of the shard once all are written (kept ones too, read back from their PNGs,
   * so a resumed or merged folder scores what is on disk); the scores join the manifests as column
   * `name`. The score of image i must depend on that image alone (eval/ssim.ts: ssimScorer).
   */
  score?: ImageScorer;
}

export interface ImageScorer {
  name: string;
  score(set: ImageSet, onProgress?: (done: number, total: number) => void): Float32Array;
}

export interface ManifestRow { file: string; class: string; classId: number; seed: number; index: number; [score: string]: string | number }

export interface GenerateFolderResult {
  out: string; total: number; written: number; kept: number; shard: Shard; manifests: string[]; stopped: boolean;
}

export const UNLABELLED = 'unlabelled';
/** The forward-pass batch; keep it fixed across the shards and resumes of one set. */
export const GENERATE_BATCH = 128;

/** The file of image i (relative to the output folder). */
export function imageFile(name: string, i: number, total: number): string {
  return `${classFolder(name)}/${String(i).padStart(Math.max(6, String(total - 1).length), '0')}.png`;
}

export async function generateFolder(o: GenerateFolderOptions): Promise<GenerateFolderResult> {
  if (!(Number.isInteger(o.perClass) && o.perClass >= 1)) throw new Error(`--per-class must be a positive integer, got ${o.perClass}.`);
  const seed = o.seed ?? 0;
  if (!(Number.isInteger(seed) && seed >= 0)) throw new Error(`--seed must be a non-negative integer, got ${seed}.`);
  const bundle = typeof o.bundle === 'string' ? await loadBundle(o.bundle) : o.bundle;
  try {
    const g = bundle.generator, meta = g.meta;
    const classes = meta.conditional ? meta.present : [];
    checkClasses(meta, classes);
    const k = Math.max(1, classes.length), total = o.perClass * k;
    const shard = o.shard ?? { index: 0, count: 1 };
    const { first, end } = shardRange(total, shard);
    const out = resolve(o.out);
    const nameOf = (i: number) => (meta.conditional ? meta.classes[classOf(i, classes)] : UNLABELLED);
    checkOrWriteStamp(out, bundle, seed);
    for (const c of meta.conditional ? classes.map((c) => meta.classes[c]) : [UNLABELLED]) mkdirSync(join(out, classFolder(c)), { recursive: true });

    const rows: ManifestRow[] = [];
    const todo: number[] = [];
    for (let i = first; i < end; i++) {
      const file = imageFile(nameOf(i), i, total);
      rows.push({ file, class: nameOf(i), classId: meta.conditional ? classOf(i, classes) : -1, seed, index: i });
      if (!existsSync(join(out, file))) todo.push(i);
    }
    const kept = rows.length - todo.length;
    const batch = o.batchSize ?? GENERATE_BATCH;
    const px = meta.size * meta.size * meta.channels;
    let done = kept, stopped = false;
    o.onProgress?.(done, rows.length);
    for (let s = 0; s < todo.length; s += batch) {
      // The loop is synchronous: yield once per batch so a SIGINT/SIGTERM handler can abort it.
      await setImmediate();
      if (o.signal?.aborted) { stopped = true; break; }
      const idx = todo.slice(s, s + batch);
      // Padded to one fixed batch shape: the backend then runs the same kernels on every batch, so
      // an image's bytes do not depend on which others share its batch (shards, resumes).
      const padded = idx.concat(Array(batch - idx.length).fill(idx[0]));
      const { bytes } = generateBytes(g, seed, padded, classes);
      // No fsync per image, which would cost more than the encoding: the class folders are synced once per batch.
      idx.forEach((i, j) => writePng(join(out, imageFile(nameOf(i), i, total)), bytes.subarray(j * px, (j + 1) * px), meta.size, meta.size, meta.channels));
      for (const c of new Set(idx.map(nameOf))) syncDir(join(out, classFolder(c)));
      done += idx.length;
      o.onProgress?.(done, rows.length);
    }
    const written = done - kept;
    if (stopped) return { out, total, written, kept, shard, manifests: [], stopped };
    if (o.score) {
      const set = await readBack(out, rows, meta.size, meta.channels, meta.conditional ? meta.classes : []);
      const scores = o.score.score(set, o.onProgress && ((d, t) => o.onProgress!(d, t, 'score')));
      rows.forEach((r, j) => { r[o.score!.name] = Number(scores[j].toFixed(6)); });
    }
    const base = shard.count === 1 ? 'manifest' : `manifest.shard-${pad(shard.index, shard.count)}-of-${pad(shard.count, shard.count)}`;
    return { out, total, written, kept, shard, manifests: writeManifests(out, base, rows, o.score ? [o.score.name] : []), stopped };
  } finally {
    if (typeof o.bundle === 'string') bundle.dispose();
  }
}

/** `<base>.csv` and `<base>.jsonl` of `rows` (the columns of ManifestRow, then `extra`); returns their paths. */
export function writeManifests(out: string, base: string, rows: ManifestRow[], extra: string[]): string[] {
  const head = ['file', 'class', 'class_id', 'seed', 'index', ...extra].join(',');
  const csv = `${head}\n${rows.map((r) => [csvField(r.file), csvField(r.class), r.classId, r.seed, r.index, ...extra.map((k) => r[k])].join(',')).join('\n')}\n`;
  const jsonl = rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  writeAtomic(join(out, `${base}.csv`), csv);
  writeAtomic(join(out, `${base}.jsonl`), jsonl);
  return [join(out, `${base}.csv`), join(out, `${base}.jsonl`)];
}

/** The shard's images as written, in row order, labelled by class id (none for an unconditional set). */
async function readBack(out: string, rows: ManifestRow[], size: number, channels: 1 | 3, classes: string[]): Promise<ImageSet> {
  const px = size * size * channels;
  const bytes = new Uint8Array(rows.length * px);
  for (let j = 0; j < rows.length; j++) {
    const file = join(out, rows[j].file);
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    if (data.length !== px) throw new Error(`${file}: ${info.width}x${info.height}x${info.channels}, not the bundle's ${size}x${size}x${channels}: the folder holds a file this generator did not write; delete it and run again.`);
    bytes.set(data, j * px);
  }
  const labels = classes.length ? Int32Array.from(rows, (r) => r.classId) : null;
  return memorySet({ name: `generated images in ${out}`, size, channels, classes, labels, bytes });
}

const pad = (n: number, count: number) => String(n).padStart(Math.max(4, String(count).length), '0');

/** generate.json pins the folder to one bundle and seed, so a resume or merge never mixes sets. */
function checkOrWriteStamp(out: string, bundle: Bundle, seed: number): void {
  const weights = bundle.manifest.model.map((f) => f.sha256).join(',');
  const stamp = { format: 'synthset-generated', bundleWeights: weights, family: bundle.manifest.family, seed };
  const file = join(out, 'generate.json');
  if (existsSync(join(out, 'filter.json'))) throw new Error(`${out} holds a filtered set (filter.json, from generate --filter): choose another --out, or add --filter with its settings to continue it.`);
  if (existsSync(file)) {
    const old = JSON.parse(readFileSync(file, 'utf8')) as typeof stamp;
    if (old.bundleWeights !== weights) throw new Error(`${out} holds images of another generator (generate.json): choose another --out, or delete the folder to start over.`);
    if (old.seed !== seed) throw new Error(`${out} holds images generated with --seed ${old.seed}, not ${seed}: use --seed ${old.seed} to continue it, or another --out.`);
    return;
  }
  mkdirSync(out, { recursive: true });
  writeAtomic(file, `${JSON.stringify(stamp, null, 2)}\n`);
}
