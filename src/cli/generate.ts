// `synthset generate --bundle <b> --per-class N --seed s --out <dir> [--shard i/k|auto]`: a labelled
// ImageFolder from a bundle; `synthset generate --labelmaps <run> --translate <run> --count N ...`:
// images with class-index masks and a COCO file (io/labelled.ts). Ctrl-C / SIGTERM stop after the current batch; running the same
// command again continues (finished files are kept) and a run over merged shard folders only
// writes the full manifests.
import type { Command } from 'commander';
import { GENERATE_BATCH } from '../io/generate.js';
import { generate } from '../eval/generate_scored.js';
import { generateFiltered } from '../eval/generate_filtered.js';
import { generateLabelled, LABELLED_BATCH } from '../io/labelled.js';
import { parseShard } from '../io/shard.js';
import { withProgress } from './progress.js';

const intArg = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v.trim())) throw new Error(`${name} must be a non-negative integer, got "${v}".`);
  return Number(v);
};

interface Flags {
  bundle?: string; perClass?: number; labelmaps?: string; translate?: string; count?: number;
  seed: number; out: string; shard?: string; shards?: number; batchSize?: number; quiet?: boolean; score?: string; scorePerClass?: number;
  filter?: number; real?: string; classifierImages?: number;
}

const fraction = (v: string) => {
  const p = Number(v);
  if (!(p > 0 && p < 1)) throw new Error(`--filter must be a probability in (0, 1) (e.g. 0.7), got "${v}".`);
  return p;
};

export function registerGenerateCommand(program: Command, engine: () => Promise<unknown>): Command {
  return program.command('generate')
    .description('write a labelled synthetic ImageFolder <out>/<class>/<index>.png with manifest.csv and manifest.jsonl from a bundle; '
      + 'or, with --labelmaps and --translate, <out>/images/<id>.png, <out>/masks/<id>.png (class indices) and <out>/annotations.json (COCO)')
    .option('--bundle <dir>', 'a bundle made by synthset export --run <run> --out <bundle>')
    .option('--per-class <n>', 'images per class (with --bundle)', intArg('--per-class'))
    .option('--labelmaps <run>', 'a labelmap run: draws the label maps')
    .option('--translate <run>', 'a pix2pix run trained on the same label maps: turns each map into its image')
    .option('--count <n>', 'labelled images to make (with --labelmaps)', intArg('--count'))
    .option('--seed <s>', 'image i depends only on (seed, i)', intArg('--seed'), 0)
    .requiredOption('--out <dir>', 'output folder (re-running continues it)')
    .option('--shard <i/k|auto>', 'make only shard i of k (contiguous index ranges); auto: from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID')
    .option('--shards <k>', 'shard count for --shard auto where the scheduler does not tell it (Kubernetes)', intArg('--shards'))
    .option('--batch-size <n>', `images per forward pass (keep it the same for every shard of one set; default ${GENERATE_BATCH}, ${LABELLED_BATCH} with --labelmaps)`, intArg('--batch-size'))
    .option('--score <real>', 'real images (ImageFolder or builtin:…) to score each image against: its mean SSIM to real images of its class, as column ssim of the manifests (with --bundle)')
    .option('--score-per-class <n>', 'real images sampled per class for --score (default 100)', intArg('--score-per-class'))
    .option('--filter <p>', 'keep only images a classifier trained on --real gives their own class with probability ≥ p (and as its top class), --per-class of each (with --bundle)', fraction)
    .option('--real <images>', 'real images (ImageFolder or builtin:…) the --filter classifier is trained on')
    .option('--classifier-images <n>', 'training images the --filter classifier sees (default 120000, as in eval)', intArg('--classifier-images'))
    .option('--quiet', 'no progress bar')
    .action(async (o: Flags) => {
      const labelled = o.labelmaps !== undefined || o.translate !== undefined;
      if (labelled) {
        if (o.labelmaps === undefined || o.translate === undefined) throw new Error('--labelmaps and --translate go together: the label-map run draws the maps, the pix2pix run turns them into images.');
        if (o.count === undefined) throw new Error('--labelmaps needs --count N: how many labelled images to make.');
        if (o.bundle !== undefined || o.perClass !== undefined) throw new Error('--bundle/--per-class make an ImageFolder from a bundle; --labelmaps/--translate make labelled images: use one or the other.');
        if (o.score !== undefined) throw new Error('--score scores the images of a --bundle against real ones; labelled images from --labelmaps are not scored.');
      } else if (o.bundle === undefined || o.perClass === undefined) {
        throw new Error('synthset generate needs --bundle <dir> --per-class N (an ImageFolder from a bundle), or --labelmaps <run> --translate <run> --count N (labelled images with masks and COCO annotations).');
      }
      const shard = parseShard(o.shard, o.shards);
      await engine();
      const controller = new AbortController();
      const stop = (sig: NodeJS.Signals) => () => { process.stderr.write(`\nsynthset: ${sig}: finishing the current batch…\n`); controller.abort(); };
      const handlers = { SIGINT: stop('SIGINT'), SIGTERM: stop('SIGTERM') };
      process.once('SIGINT', handlers.SIGINT);
      process.once('SIGTERM', handlers.SIGTERM);
      try {
        const label = shard.count > 1 ? `generate ${shard.index}/${shard.count}` : 'generate';
        const onProgress = (p: { update(x: { stage?: string; done: number; total: number }): void }) => (done: number, total: number, stage?: string) => p.update({ stage: stage === 'score' ? 'ssim score' : label, done, total });
        if (labelled) {
          const r = await withProgress(label, o.quiet, (p) => generateLabelled({
            labelmaps: o.labelmaps!, translate: o.translate!, count: o.count!, seed: o.seed, out: o.out, shard,
            batchSize: o.batchSize ?? LABELLED_BATCH, signal: controller.signal, onProgress: onProgress(p),
          }));
          if (r.stopped) {
            console.log(`stopped: ${r.kept + r.written} labelled images in ${r.out}; run the same command again to continue.`);
            process.exitCode = 130;
            return;
          }
          console.log(`labelled images: ${r.out}/images and masks (${r.written} written, ${r.kept} already there${shard.count > 1 ? `; shard ${shard.index}/${shard.count}` : ''})`);
          console.log(`annotations: ${r.annotations}`);
          if (r.preview) console.log(`preview: ${r.preview} (map | photo pairs)`);
          return;
        }
        if (o.scorePerClass !== undefined && o.score === undefined) throw new Error('--score-per-class goes with --score <real images>.');
        if (o.classifierImages !== undefined && o.filter === undefined) throw new Error('--classifier-images goes with --filter <p> --real <images>.');
        if ((o.filter === undefined) !== (o.real === undefined)) throw new Error('--filter <p> and --real <images> go together: the classifier that filters is trained on the real images.');
        if (o.filter !== undefined) {
          if (shard.count > 1) throw new Error('--filter walks one stream of candidates per class until each has --per-class images, so it cannot be split into shards: run it unsharded.');
          if (o.score !== undefined) throw new Error('--filter and --score do not combine yet: filter first, then score the folder with `synthset eval --synthetic <folder> --metrics ssim`.');
          const r = await withProgress(label, o.quiet, (p) => generateFiltered({
            bundle: o.bundle!, perClass: o.perClass!, real: o.real!, threshold: o.filter!, classifierImages: o.classifierImages, seed: o.seed, out: o.out, batchSize: o.batchSize ?? GENERATE_BATCH,
            signal: controller.signal, onProgress: (done, total, stage) => p.update({ stage: stage === 'classifier' ? 'filter classifier on real' : `${label} (filtered)`, done, total }),
          }));
          if (r.stopped) {
            console.log(`stopped: ${Object.values(r.kept).reduce((a, b) => a + b, 0)} images in ${r.out}; run the same command again to continue.`);
            process.exitCode = 130;
            return;
          }
          const n = Object.values(r.kept).reduce((a, b) => a + b, 0);
          console.log(`images: ${r.out} (${n} kept of ${r.candidates} candidates at p ≥ ${o.filter}; ${r.written} written now)`);
          if (r.short.length) console.error(`synthset generate: warning: ${r.short.map((c) => `${c} ${r.kept[c]}`).join(', ')} of ${r.perClass} wanted: the classifier rarely agrees with these classes' images; lower --filter or expect fewer.`);
          console.log(`manifests: ${r.manifests.join(', ')}`);
          return;
        }
        const r = await withProgress(label, o.quiet, (p) => generate({
          bundle: o.bundle!, perClass: o.perClass!, seed: o.seed, out: o.out, shard, batchSize: o.batchSize ?? GENERATE_BATCH, signal: controller.signal,
          onProgress: onProgress(p), scoreAgainst: o.score, scorePerClass: o.scorePerClass,
        }));
        if (r.stopped) {
          console.log(`stopped: ${r.kept + r.written} images in ${r.out}; run the same command again to continue.`);
          process.exitCode = 130;
          return;
        }
        console.log(`images: ${r.out} (${r.written} written, ${r.kept} already there${shard.count > 1 ? `; shard ${shard.index}/${shard.count}${shard.from ? ` from ${shard.from}` : ''}` : ''})`);
        console.log(`manifests: ${r.manifests.join(', ')}`);
      } finally {
        process.removeListener('SIGINT', handlers.SIGINT);
        process.removeListener('SIGTERM', handlers.SIGTERM);
      }
    });
}
