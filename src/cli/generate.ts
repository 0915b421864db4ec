// `synthset generate --bundle <b> --per-class N --seed s --out <dir> [--shard i/k|auto]`: a labelled
// ImageFolder from a bundle. Ctrl-C / SIGTERM stop after the current batch; running the same
// command again continues (finished files are kept) and a run over merged shard folders only
// writes the full manifests.
import type { Command } from 'commander';
import { generateFolder, GENERATE_BATCH } from '../io/generate.js';
import { parseShard } from '../io/shard.js';
import { withProgress } from './progress.js';

const intArg = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v.trim())) throw new Error(`${name} must be a non-negative integer, got "${v}".`);
  return Number(v);
};

export function registerGenerateCommand(program: Command, engine: () => Promise<unknown>): Command {
  return program.command('generate')
    .description('write a labelled synthetic ImageFolder <out>/<class>/<index>.png with manifest.csv and manifest.jsonl from a bundle')
    .requiredOption('--bundle <dir>', 'a bundle made by synthset export --run <run> --out <bundle>')
    .requiredOption('--per-class <n>', 'images per class', intArg('--per-class'))
    .option('--seed <s>', 'image i depends only on (seed, i)', intArg('--seed'), 0)
    .requiredOption('--out <dir>', 'output folder (re-running continues it)')
    .option('--shard <i/k|auto>', 'make only shard i of k (contiguous index ranges); auto: from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID')
    .option('--shards <k>', 'shard count for --shard auto where the scheduler does not tell it (Kubernetes)', intArg('--shards'))
    .option('--batch-size <n>', 'images per forward pass (keep it the same for every shard of one set)', intArg('--batch-size'), GENERATE_BATCH)
    .option('--quiet', 'no progress bar')
    .action(async (o: { bundle: string; perClass: number; seed: number; out: string; shard?: string; shards?: number; batchSize: number; quiet?: boolean }) => {
      const shard = parseShard(o.shard, o.shards);
      await engine();
      const controller = new AbortController();
      const stop = (sig: NodeJS.Signals) => () => { process.stderr.write(`\nsynthset: ${sig}: finishing the current batch…\n`); controller.abort(); };
      const handlers = { SIGINT: stop('SIGINT'), SIGTERM: stop('SIGTERM') };
      process.once('SIGINT', handlers.SIGINT);
      process.once('SIGTERM', handlers.SIGTERM);
      try {
        const label = shard.count > 1 ? `generate ${shard.index}/${shard.count}` : 'generate';
        const r = await withProgress(label, o.quiet, (p) => generateFolder({
          bundle: o.bundle, perClass: o.perClass, seed: o.seed, out: o.out, shard, batchSize: o.batchSize, signal: controller.signal,
          onProgress: (done, total) => p.update({ done, total }),
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
