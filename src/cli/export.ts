// `synthset export <run>`: the release artefact — the run's (EMA) generator from its newest
// checkpoint, as a tfjs layers model with synthset metadata. A finished run already holds it in
// <run>/generator/; this serves runs stopped early, and copies it elsewhere with --out.
import { join } from 'node:path';
import type { Command } from 'commander';
import { exportRun } from '../io/export.js';

export function registerExportCommand(program: Command, engine: () => Promise<unknown>): Command {
  return program.command('export')
    .argument('<run>', 'a run dir (holding config.json and a checkpoint)')
    .description('save a run\'s generator (the EMA weights of its newest checkpoint) as model.json + weights.bin')
    .option('--out <dir>', 'folder for the generator (default <run>/generator)')
    .action(async (run: string, o: { out?: string }) => {
      await engine();
      console.log(`generator: ${await exportRun(run, o.out ?? join(run, 'generator'))}`);
    });
}
