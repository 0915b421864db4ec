// `synthset ssim rank` scores every synthetic image by its mean SSIM to real images of its class
// and writes the scores as CSV; `synthset ssim select` keeps the K best of each class as PNGs, the
// way a user picks which synthetic images to share. The commands call `ssimRank` / `ssimSelect`,
// which tests call directly.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import sharp from 'sharp';
import { writeAtomic } from '../util/atomic.js';
import type { ImageSet } from '../data/image_set.js';
import { openReal, openSynthetic, runSplits, type Opened } from '../eval/sources.js';
import { classKey, csvField } from '../util/text.js';
import { groupName, meanSsimToReal, rankBySsim, summarise, writeScoresCsv } from '../eval/ssim.js';
import { parseIntArg } from './data.js';
import { withProgress } from './progress.js';

export interface SsimSources {
  /** A run dir, a generator folder, or an ImageFolder of synthetic images. */
  synthetic: string;
  /** Real images (ImageFolder or builtin:…); default: the run's train split. */
  real?: string;
  /** Images to generate from a generator (default 10000). */
  count?: number;
  /** Real images sampled per class (default 100). */
  perClass?: number;
  seed?: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

async function openSets(o: SsimSources): Promise<Opened<{ synthetic: ImageSet; real: ImageSet }>> {
  const syn = await openSynthetic(o.synthetic, { count: o.count ?? 10000, seed: o.seed ?? 0, onProgress: (d, t) => o.onProgress?.('generate', d, t) });
  try {
    const { set: synthetic, runDir } = syn.value;
    let real: Opened<ImageSet>;
    if (o.real) real = await openReal(o.real, { size: synthetic.size, channels: synthetic.channels }, 'real');
    else if (runDir) {
      const s = await runSplits(runDir);
      real = { value: s.value.train, close: s.close };
    } else {
      throw new Error(`${o.synthetic} is not a run dir, so there is no train split to compare with: give --real (an ImageFolder <class>/<image> or builtin:fashion-mnist).`);
    }
    return { value: { synthetic, real: real.value }, close: () => { real.close(); syn.close(); } };
  } catch (err) {
    syn.close();
    throw err;
  }
}

function score(sets: { synthetic: ImageSet; real: ImageSet }, o: SsimSources): Float32Array {
  return meanSsimToReal(sets.synthetic, sets.real, { perClass: o.perClass, seed: o.seed, onProgress: (d, t) => o.onProgress?.('score', d, t) });
}

export interface RankResult { file: string; count: number; summary: ReturnType<typeof summarise> }

/** Scores every synthetic image and writes `out` as CSV (index,class,score). */
export async function ssimRank(o: SsimSources & { out: string }): Promise<RankResult> {
  const file = resolve(o.out);
  const sets = await openSets(o);
  try {
    const scores = score(sets.value, o);
    mkdirSync(dirname(file), { recursive: true });
    writeScoresCsv(file, sets.value.synthetic, scores);
    return { file, count: scores.length, summary: summarise(sets.value.synthetic, scores) };
  } finally {
    sets.close();
  }
}

/** A class name as one safe folder name ("T-shirt/top" -> "T-shirt_top"). */
export function folderName(name: string, id: number): string {
  const safe = classKey(name).replace(/^\.+$/, '');
  return safe || `class${id}`;
}

export interface SelectResult { dir: string; kept: number; perClass: Record<string, { folder: string; kept: number; available: number; meanScore: number }> }

/**
 * Writes the `top` best synthetic images of each class to <out>/<class>/NNNNN.png (00000 the best),
 * with <out>/selected.csv (class,rank,index,score,file) and <out>/ssim_scores.csv (every image).
 */
export async function ssimSelect(o: SsimSources & { out: string; top: number }): Promise<SelectResult> {
  if (!Number.isInteger(o.top) || o.top < 1) throw new Error(`--top is ${o.top}: keep at least 1 image per class.`);
  const dir = resolve(o.out);
  // Refuse rather than mix with (or delete) earlier files: a stale 00042.png would pass as selected.
  if (existsSync(dir) && readdirSync(dir).length) throw new Error(`${o.out} already holds files: give a new or empty --out folder (or delete this one).`);
  const sets = await openSets(o);
  try {
    const { synthetic } = sets.value;
    const scores = score(sets.value, o);
    const classCount = synthetic.labels ? synthetic.classes.length : 1;
    const ranked = rankBySsim(scores, synthetic.labels, classCount);
    const used = new Set<string>();
    const rows = ['class,rank,index,score,file'];
    const perClass: SelectResult['perClass'] = {};
    let kept = 0;
    for (const [id, all] of ranked.entries()) {
      const picks = all.slice(0, o.top);
      if (!picks.length) continue;
      const name = groupName(synthetic, picks[0]);
      let folder = folderName(name, id);
      if (used.has(folder)) folder = `${folder}_${id}`;
      used.add(folder);
      mkdirSync(join(dir, folder), { recursive: true });
      for (const [rank, i] of picks.entries()) {
        const file = join(folder, `${String(rank).padStart(5, '0')}.png`);
        let img = sharp(Buffer.from(synthetic.read([i])), { raw: { width: synthetic.size, height: synthetic.size, channels: synthetic.channels } });
        if (synthetic.channels === 1) img = img.toColourspace('b-w');
        writeAtomic(join(dir, file), await img.png().toBuffer());
        rows.push(`${csvField(name)},${rank},${i},${scores[i].toFixed(6)},${csvField(file)}`);
      }
      kept += picks.length;
      perClass[name] = { folder, kept: picks.length, available: all.length, meanScore: picks.reduce((a, i) => a + scores[i], 0) / picks.length };
    }
    writeAtomic(join(dir, 'selected.csv'), `${rows.join('\n')}\n`);
    writeScoresCsv(join(dir, 'ssim_scores.csv'), synthetic, scores);
    return { dir, kept, perClass };
  } finally {
    sets.close();
  }
}

interface Flags { synthetic: string; real?: string; out: string; count: number; perClass: number; seed: number; top?: number; quiet?: boolean }

export function registerSsimCommands(program: Command, engine: () => Promise<unknown>): Command {
  const ssim = program.command('ssim')
    .description('SSIM (Wang et al. 2004) of synthetic images to real images of their class: rank them, or keep the best');
  const common = (c: Command) => c
    .requiredOption('--synthetic <dir|run>', 'a run dir, a generator folder, or an ImageFolder of synthetic images')
    .option('--real <dir>', 'real images (ImageFolder or builtin:…); default: the run\'s train split')
    .option('--count <n>', 'synthetic images to generate from a generator', parseIntArg(1), 10000)
    .option('--per-class <n>', 'real images sampled per class (seeded)', parseIntArg(1), 100)
    .option('--seed <n>', 'seed for generation and the real sample', parseIntArg(0), 0)
    .option('--quiet', 'no progress (for CI)');
  const run = async <T>(o: Flags, job: (onProgress: SsimSources['onProgress']) => Promise<T>): Promise<T> => {
    await engine();
    return withProgress('ssim', o.quiet, (progress) => job((stage, done, total) => progress.update({ stage, done, total })));
  };
  common(ssim.command('rank'))
    .description('score every synthetic image: mean SSIM to a sample of real images of its class, as CSV')
    .requiredOption('--out <file.csv>', 'CSV file to write (index,class,score)')
    .action(async (o: Flags) => {
      const r = await run(o, (onProgress) => ssimRank({ ...o, onProgress }));
      for (const [name, c] of Object.entries(r.summary.perClass)) console.log(`${name}: mean SSIM ${c.mean.toFixed(3)} ± ${c.std.toFixed(3)} over ${c.count} images`);
      console.log(`mean SSIM ${r.summary.mean.toFixed(3)} over ${r.count} synthetic images: ${r.file}`);
    });
  common(ssim.command('select'))
    .description('keep the K synthetic images of each class most similar (SSIM) to real ones: <out>/<class>/NNNNN.png')
    .requiredOption('--top <k>', 'images to keep per class', parseIntArg(1))
    .requiredOption('--out <dir>', 'new or empty folder for the PNGs, selected.csv and ssim_scores.csv')
    .action(async (o: Flags) => {
      const r = await run(o, (onProgress) => ssimSelect({ ...o, top: o.top!, onProgress }));
      for (const [name, c] of Object.entries(r.perClass)) console.log(`${name}: kept ${c.kept} of ${c.available} (mean SSIM ${c.meanScore.toFixed(3)}) in ${c.folder}/`);
      console.log(`kept ${r.kept} images in ${r.dir}`);
    });
  return ssim;
}
