// `synthset translate --run <run | generator> --input <dir> --out <dir> [--direction AtoB|BtoA]`:
// one output image per input image, same relative name (as .png), at the generator's size.
import { Option, type Command } from 'commander';
import { loadTranslator, translateFolder } from '../io/translate.js';
import { withProgress } from './progress.js';

interface Flags { run?: string; input?: string; out?: string; direction: 'AtoB' | 'BtoA'; batchSize?: string; quiet?: boolean }

export function registerTranslateCommand(program: Command, engine: () => Promise<unknown>): Command {
  return program.command('translate')
    .description('translate a folder of images with a pix2pix or cyclegan run (or its generator folder)')
    .option('--run <dir>', 'a run dir, or a generator folder (model.json + weights.bin)')
    .option('--input <dir>', 'folder of images (any size: decoded as in training)')
    .option('--out <dir>', 'folder for the translated images (same names, .png)')
    .addOption(new Option('--direction <dir>', 'AtoB, or BtoA (cyclegan only)').choices(['AtoB', 'BtoA']).default('AtoB'))
    .option('--quiet', 'no progress bar')
    .action(async (o: Flags) => {
      for (const k of ['run', 'input', 'out'] as const) if (!o[k]) throw new Error(`translate needs --${k} <dir>.`);
      await engine();
      const g = await loadTranslator(o.run!);
      try {
        const r = await withProgress('translate', o.quiet, (p) => translateFolder(g, o.input!, o.out!, {
          direction: o.direction,
          onProgress: (done, total) => p.update({ stage: 'translate', done, total }),
        }));
        for (const pr of r.problems) process.stderr.write(`synthset: skipped ${pr.file}: ${pr.reason}\n`);
        console.log(`translated ${r.written} image${r.written === 1 ? '' : 's'} ${o.direction} into ${r.out}`);
      } finally {
        g.model.dispose();
      }
    });
}
