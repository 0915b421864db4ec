// `synthset eval`: scores a synthetic set against real images and writes <out>/report.json.
// Outside scripts depend on these flags and on report.json's keys being the metric names.
import type { Command } from 'commander';
import { evaluate, metricNames } from '../eval/index.js';
import { parseIntArg } from './data.js';
import { createProgress } from './progress.js';

interface EvalFlags { real?: string; realTest?: string; synthetic: string; out: string; metrics?: string; count: number; seed: number; epochs?: number; quiet?: boolean }

export function registerEvalCommand(program: Command, engine: () => Promise<unknown>): Command {
  return program.command('eval')
    .description('score a synthetic set against real images: writes <out>/report.json')
    .requiredOption('--synthetic <dir|run>', 'a run dir, a generator folder, or an ImageFolder of synthetic images')
    .requiredOption('--out <dir>', 'folder for report.json')
    .option('--real <dir>', 'real training images (ImageFolder or builtin:…); default: the run\'s train split')
    .option('--real-test <dir>', 'real held-out images; default: the run\'s holdout')
    .option('--metrics <list>', `comma-separated metrics (default: all): ${metricNames().join(', ')}`)
    .option('--count <n>', 'synthetic images to generate from a generator', parseIntArg(1), 10000)
    .option('--seed <n>', 'seed for generation and classifiers', parseIntArg(0), 0)
    .option('--epochs <n>', 'classifier training epochs', parseIntArg(1))
    .option('--quiet', 'no progress (for CI)')
    .action(async (o: EvalFlags) => {
      await engine();
      const progress = o.quiet ? null : createProgress('eval');
      const metrics = o.metrics?.split(',').map((s) => s.trim()).filter(Boolean);
      let report;
      try {
        report = await evaluate({
          synthetic: o.synthetic, out: o.out, real: o.real, realTest: o.realTest, metrics, count: o.count, seed: o.seed,
          classifier: o.epochs ? { epochs: o.epochs } : undefined,
          onProgress: (stage, done, total) => progress?.update({ stage, done, total }),
          onNote: (m) => (progress ? progress.log(`synthset: ${m}`) : process.stderr.write(`synthset: ${m}\n`)),
        });
      } finally {
        progress?.end();
      }
      const a = report.agreement as { agreement: number; realTestAccuracy: number } | undefined;
      if (a) console.log(`classifier agreement ${(100 * a.agreement).toFixed(1)}% (the classifier's accuracy on real held-out images: ${(100 * a.realTestAccuracy).toFixed(1)}%)`);
      console.log(`report: ${o.out}/report.json`);
    });
}
