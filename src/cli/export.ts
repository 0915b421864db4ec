// `synthset export --run <run> --out <bundle>`: the release bundle (generator, manifest, model
// card, browser page). The older `synthset export <run> [--out <dir>]` still saves the generator
// alone (model.json + weights.bin), e.g. for runs stopped early.
import { join } from 'node:path';
import type { Command } from 'commander';
import { exportBundle } from '../io/bundle.js';
import { exportRun } from '../io/export.js';

export function registerExportCommand(program: Command, engine: () => Promise<unknown>): Command {
  return program.command('export')
    .argument('[run]', 'a run dir (older form: saves the generator only, default into <run>/generator)')
    .description('export a run\'s release bundle: the EMA generator, manifest.json, MODEL_CARD.md and an offline index.html')
    .option('--run <dir>', 'the run dir (holding config.json and a checkpoint)')
    .option('--out <dir>', 'the bundle folder (with --run: required; older form: where the generator goes)')
    .action(async (positional: string | undefined, o: { run?: string; out?: string }) => {
      if (o.run && positional) throw new Error(`Give the run once: either --run ${o.run} or ${positional}.`);
      if (!o.run && !positional) throw new Error('Which run? Use synthset export --run <run dir> --out <bundle dir>.');
      await engine();
      if (positional) {
        console.log(`generator: ${await exportRun(positional, o.out ?? join(positional, 'generator'))}`);
        return;
      }
      if (!o.out) throw new Error('--out <bundle dir> is required with --run (a new or empty folder).');
      const r = await exportBundle(o.run!, o.out);
      console.log(`bundle: ${r.dir}`);
      console.log(`  ${r.manifest.family}, ${r.manifest.image.size} px, step ${r.manifest.step}; classes ${r.manifest.present.map((c) => r.manifest.classes[c]).join(', ') || '(unconditional)'}`);
      console.log(r.report ? `  model card figures from ${r.report}` : '  warning: no report.json in the run; the model card says the generator is not evaluated');
      console.log(`  browser page: serve ${r.dir} and open index.html`);
    });
}
