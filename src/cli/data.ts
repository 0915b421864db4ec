// `synthset data …`: look at a folder before training on it, sort a raw pile into classes, crop
// objects out of photos. Outside scripts depend on these names, options and the JSON shape.
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { DataError } from '../data/errors.js';
import { writeAtomic } from '../util/atomic.js';
import { DEFAULT_SPEC } from '../data/image.js';
import { DEFAULT_NEAR_THRESHOLD, inspectFolder } from '../data/inspect.js';
import { skippedLine } from './errors.js';
import { inspectTable } from './inspect_table.js';
import { withProgress } from './progress.js';

interface Shared { strict?: boolean; maxPixels: number }

/** Commander's accumulator for a repeatable option (`--set a=1 --set b=2`). */
export const collect = (v: string, prev: string[]) => [...prev, v];

export const parseIntArg = (min: number, max = Number.MAX_SAFE_INTEGER) => (v: string): number => {
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new InvalidArgumentError(`expected a whole number from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'up' : max}.`);
  }
  return n;
};

export const parseFraction = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('expected a number from 0 to 1.');
  return n;
};

function withShared(cmd: Command): Command {
  return cmd
    .option('--strict', 'stop at the first bad file instead of skipping it and listing it')
    .option('--max-pixels <n>', 'refuse images with more pixels than this, read from the header before decoding',
      parseIntArg(1), DEFAULT_SPEC.maxPixels);
}

const sharedFor = (o: Shared): { strict?: boolean; maxPixels: number } => ({ strict: o.strict, maxPixels: o.maxPixels });

/** Skipped files, one line each on stderr; with --strict the first one fails the command. */
function reportProblems(problems: readonly { file: string; reason: string }[], strict: boolean | undefined): void {
  if (strict && problems.length > 0) throw new DataError(problems[0].file, problems[0].reason);
  for (const p of problems) process.stderr.write(`${skippedLine(p)}\n`);
}

function countsTable(counts: Record<string, number>, extra: [string, number][]): string {
  const rows: [string, number][] = [...Object.entries(counts), ...extra];
  const w = Math.max(5, ...rows.map(([k]) => k.length));
  return [`  ${'class'.padEnd(w)}  images`, ...rows.map(([k, n]) => `  ${k.padEnd(w)}  ${String(n).padStart(6)}`)].join('\n');
}

/**
 * Adds the `data` group to `program`. `engine` starts the compute backend: only sort and crop run a
 * network, so inspect stays fast and works without the native addon.
 */
export function registerDataCommands(program: Command, engine: () => Promise<unknown>): Command {
  const data = program.command('data').description('look at, sort and crop image folders before training');

  withShared(data.command('inspect')
    .argument('<dir>', 'an ImageFolder (dir/<class>/*) or a flat folder of images')
    .description('count classes and sizes, find duplicates, near duplicates across the train/holdout split, and bad files')
    .option('--json <file>', 'also write the full report as JSON ("-" prints it to stdout instead of the table)')
    .option('--near <bits>', 'near-duplicate threshold: dHash bits that may differ (0-64)', parseIntArg(0, 64), DEFAULT_NEAR_THRESHOLD)
    .option('--holdout <fraction>', 'holdout share for the split check (default: the training default)', parseFraction)
    .option('--seed <n>', 'split seed (default: the training default)', parseIntArg(0)))
    .action(async (dir: string, o: Shared & { json?: string; near: number; holdout?: number; seed?: number }) => {
      const report = await withProgress('inspect', false, (progress) => inspectFolder(dir, {
        strict: o.strict, maxPixels: o.maxPixels, threshold: o.near, holdout: o.holdout, seed: o.seed,
        onProgress: (e) => progress.update({ stage: 'reading', ...e }),
      }));
      reportProblems(report.problems, o.strict);
      const json = `${JSON.stringify(report, null, 2)}\n`;
      if (o.json === '-') process.stdout.write(json);
      else {
        console.log(inspectTable(report));
        if (o.json) writeAtomic(o.json, json);
      }
    });

  withShared(data.command('sort')
    .argument('<raw>', 'a folder of unsorted images')
    .description('sort a raw folder into classes with a classifier trained on a small labelled folder; unsure images go to unknown/')
    .requiredOption('--labelled <dir>', 'a small labelled ImageFolder (dir/<class>/*) that defines the classes')
    .option('--threshold <p>', 'minimum classifier confidence to file an image under a class (0-1)', parseFraction, 0.7)
    .option('--out <dir>', 'where the sorted folders and the CSV go (default: <raw>-sorted)')
    .option('--size <n>', 'image side the classifier sees', parseIntArg(8, 1024))
    .option('--epochs <n>', 'classifier training epochs', parseIntArg(1))
    .option('--seed <n>', 'random seed', parseIntArg(0)))
    .action(async (raw: string, o: Shared & { labelled: string; threshold: number; out?: string; size?: number; epochs?: number; seed?: number }) => {
      // Loaded on use: they pull in the network code, which inspect does not need.
      const { sortFolder } = await import('../data/sort.js');
      await engine();
      const out = o.out ?? `${resolve(raw)}-sorted`;
      const r = await withProgress('sort', false, (progress) => sortFolder({
        raw, labelled: o.labelled, out, threshold: o.threshold, size: o.size, epochs: o.epochs, seed: o.seed,
        onProgress: (e) => progress.update(e), ...sharedFor(o),
      }));
      reportProblems(r.problems, o.strict);
      console.log(`${countsTable(r.counts, [['unknown', r.unknown]])}\nsorted into ${out}; one row per image in ${r.csv}`);
    });

  withShared(data.command('crop')
    .argument('<raw>', 'a folder of photos')
    .description('detect objects of one COCO class and save each as its own image')
    .requiredOption('--detect <class>', 'COCO class name to crop, e.g. car, person, dog')
    .option('--out <dir>', 'where the crops and boxes.json go (default: <raw>-crops)')
    .option('--min-score <s>', 'minimum detection score (0-1)', parseFraction, 0.4)
    .option('--margin <f>', 'extra border around each box, as a share of its size (0-1)', parseFraction, 0.1))
    .action(async (raw: string, o: Shared & { detect: string; out?: string; minScore: number; margin: number }) => {
      const { cropFolder } = await import('../data/crop.js');
      await engine();
      const out = o.out ?? `${resolve(raw)}-crops`;
      const r = await withProgress('crop', false, (progress) => cropFolder({ raw, out, detect: o.detect, minScore: o.minScore,
        margin: o.margin, onProgress: (e) => progress.update(e), ...sharedFor(o) }));
      reportProblems(r.problems, o.strict);
      console.log(`${r.crops} ${o.detect} crop(s) from ${r.images} image(s) in ${out}; boxes in ${r.boxesJson}`);
    });

  return data;
}
