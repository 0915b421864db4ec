// `synthset eval`: scores a synthetic set against real images and writes <out>/report.json.
// Outside scripts depend on these flags and on report.json's keys being the metric names.
import type { Command } from 'commander';
import { join } from 'node:path';
import { evaluate, featureSpaces, headlines, metricNames, type FeatureOptions } from '../eval/index.js';
import { parseFraction, parseIntArg } from './data.js';
import { withProgress } from './progress.js';

interface EvalFlags { real?: string; realTest?: string; realTestB?: string; synthetic: string; out: string; metrics?: string; count: number; seed: number; seeds: number; classifierImages?: number; tstrImages?: number; tstrFilter?: number; filter?: number; features?: string; incv3Samples?: number; quiet?: boolean }

function featureOptions(o: EvalFlags): FeatureOptions {
  const spaces = o.features?.split(',').map((s) => s.trim()).filter(Boolean);
  const known = Object.keys(featureSpaces);
  const bad = spaces?.filter((s) => !known.includes(s));
  if (bad?.length) throw new Error(`Unknown feature space ${bad.map((b) => `"${b}"`).join(', ')}: use ${known.join(', ')}.`);
  return { spaces: spaces as FeatureOptions['spaces'], ...(o.incv3Samples ? { samples: { 'incv3-nsfwjs': o.incv3Samples } } : {}) };
}

export function registerEvalCommand(program: Command, engine: () => Promise<unknown>): Command {
  return program.command('eval')
    .description('score a synthetic set against real images: writes <out>/report.json')
    .requiredOption('--synthetic <dir|run>', 'a run dir, a generator folder, an ImageFolder of synthetic images, or a labelled folder (images/ + masks/ from generate --labelmaps)')
    .requiredOption('--out <dir>', 'folder for report.json')
    .option('--real <dir>', 'real training images (ImageFolder or builtin:…); default: the run\'s train split. For a labelled folder: the pix2pix run (its train split and holdout)')
    .option('--real-test <dir>', 'real held-out images; default: the run\'s holdout. For a pix2pix/cyclegan run: its test images in the run\'s data format (paired: a folder holding A/ and B/; unpaired: domain A here, B in --real-test-b)')
    .option('--real-test-b <dir>', 'an unpaired image-to-image run\'s test images of domain B (domain A\'s in --real-test); a paired run takes one --real-test folder holding A/ and B/')
    .option('--metrics <list>', `comma-separated metrics (default: all): ${metricNames().join(', ')}`)
    .option('--count <n>', 'synthetic images to generate from a generator', parseIntArg(1), 10000)
    .option('--seed <n>', 'seed for generation and classifiers', parseIntArg(0), 0)
    .option('--classifier-images <n>', 'training images each classifier sees (default 120000)', parseIntArg(1))
    .option('--tstr-filter <p>', 'also TSTR on the synthetic images a classifier trained on the real ones gives their class with probability ≥ p (default 0.7; 0: off)', parseFraction)
    .option('--filter <p>', 'score the selected set instead: the --count generated images a classifier trained on the real ones gives their class with probability ≥ p (every metric, privacy included)', parseFraction)
    .option('--tstr-images <n>', 'synthetic images the TSTR classifier trains on, from a generator (default: as many as the real training set; at least --count)', parseIntArg(1))
    .option('--seeds <n>', 'repeat TSTR/TRTR with this many seeds (mean ± std)', parseIntArg(1), 1)
    .option('--features <list>', 'feature spaces for fd/kid/prdc: incv3-nsfwjs,domain (default both)')
    .option('--incv3-samples <n>', 'images per set through InceptionV3 (default 1000; ~35 img/s on 2 cores)', parseIntArg(2))
    .option('--quiet', 'no progress (for CI)')
    .action(async (o: EvalFlags) => {
      await engine();
      const metrics = o.metrics?.split(',').map((s) => s.trim()).filter(Boolean);
      const report = await withProgress('eval', o.quiet, (progress) => evaluate({
        synthetic: o.synthetic, out: o.out, real: o.real, realTest: o.realTest, realTestB: o.realTestB, metrics, count: o.count, seed: o.seed, seeds: o.seeds, tstrImages: o.tstrImages, tstrFilter: o.tstrFilter, filter: o.filter,
        classifier: o.classifierImages ? { images: o.classifierImages } : undefined,
        features: featureOptions(o),
        onProgress: (stage, done, total) => progress.update({ stage, done, total }),
        onNote: (m) => progress.log(`synthset: ${m}`),
      }));
      for (const line of headlines(report)) console.log(line);
      console.log(`report: ${join(o.out, 'report.html')} (figures in ${join(o.out, 'report.json')})`);
    });
}
