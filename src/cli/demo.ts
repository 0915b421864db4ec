// `synthset demo` (`npm run demo`): the product's main job on the embedded default. Trains a
// conditional GAN on Fashion-MNIST at 32 px, evaluates it against the real train/holdout split, and
// prints where the report is and its headline figures. `--quick` is the same pipeline at toy size
// (a test runs it). A finished demo run is reused; an interrupted one resumes.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { evaluate, headlines } from '../eval/index.js';
import { loadCheckpoint, resolveConfig, resumeConfig, train, type TrainConfig } from '../train/index.js';
import { withProgress } from './progress.js';
import { trainProgress } from './train.js';
import { parseIntArg } from './data.js';
import { stopOnSignals } from './signals.js';

interface DemoFlags { quick?: boolean; out?: string; steps?: number; quiet?: boolean }

export const DEMO = {
  full: { steps: 8000, count: 10000, limit: undefined as number | undefined, width: 64, images: undefined as number | undefined },
  quick: { steps: 60, count: 400, limit: 40, width: 16, images: 2000 },
};

export function demoConfig(o: DemoFlags): TrainConfig {
  const d = o.quick ? DEMO.quick : DEMO.full;
  return resolveConfig({
    flags: {
      data: 'builtin:fashion-mnist', family: 'cgan', size: 32, steps: o.steps ?? d.steps,
      out: o.out ?? join('runs', o.quick ? 'demo-quick' : 'demo'), ...(d.limit ? { limit: d.limit } : {}),
    },
    sets: [`options.width=${d.width}`, ...(o.quick ? ['sampleEvery=20', 'checkpointEvery=30'] : [])],
  });
}

export function registerDemoCommand(program: Command, engine: () => Promise<{ backend: string }>): Command {
  return program.command('demo')
    .description('train a conditional GAN on the embedded Fashion-MNIST, evaluate it, print the report\'s headline figures')
    .option('--quick', 'toy settings (~1–2 minutes): the whole pipeline, figures not meaningful')
    .option('--out <dir>', 'run dir (default runs/demo or runs/demo-quick)')
    .option('--steps <n>', `training steps (default ${DEMO.full.steps}, ~14 min on 2 cores; a finished run is trained on to a larger number)`, parseIntArg(1))
    .option('--quiet', 'no progress bars')
    .action(async (o: DemoFlags) => {
      const info = await engine();
      if (info.backend !== 'onednn' && !o.quick) {
        throw new Error('The native backend is not available, so the demo cannot train at a useful speed. Run `npm run build:native` (after `apt-get install libdnnl-dev` as root), or try `npm run demo -- --quick`.');
      }
      let cfg = demoConfig(o);
      const runDir = resolve(cfg.out);
      const ck = loadCheckpoint(runDir);
      const done = ck && ck.state.step >= cfg.steps && existsSync(join(runDir, 'generator', 'model.json'));
      const say = (s: string) => process.stderr.write(`synthset demo: ${s}\n`);
      if (done) {
        say(`reusing the finished run in ${runDir} (delete it to train again)`);
      } else {
        if (ck) cfg = resumeConfig(runDir, cfg.steps);
        say(`${ck ? `resuming at step ${ck.state.step}` : 'training'} a conditional GAN (cgan, 32 px) on Fashion-MNIST to step ${cfg.steps} in ${runDir}`);
        const bar = trainProgress(!!o.quiet);
        const stop = stopOnSignals('saving a checkpoint; `npm run demo` again resumes');
        let result;
        try {
          result = await train(cfg, { onStart: bar.onStart, onStep: bar.onStep }, { resume: !!ck, signal: stop.signal });
        } finally {
          stop.dispose();
        }
        if (result.stopped === 'signal') {
          bar.clear();
          console.log(`synthset demo: stopped by ${stop.received()} at step ${result.step}; checkpoint saved in ${runDir}. Run the demo again (same --out/--steps) to resume.`);
          process.exitCode = stop.exitCode();
          return;
        }
        bar.keep();
      }
      const d = o.quick ? DEMO.quick : DEMO.full;
      const out = join(runDir, 'report');
      say(`evaluating ${d.count} generated images against the real train split and holdout`);
      const report = await withProgress('eval', o.quiet, (progress) => evaluate({
        synthetic: runDir, out, count: d.count, seed: 0, classifier: d.images ? { images: d.images } : undefined,
        // InceptionV3 sets up ~100 convolution shapes on first use (~30 s): not for the toy run.
        features: o.quick ? { spaces: ['domain'] } : undefined,
        onProgress: (stage, doneN, total) => progress.update({ stage, done: doneN, total }),
        // Above the bar, not through it.
        onNote: (m) => progress.log(`synthset demo: ${m}`),
      }));
      console.log(`\nsynthset demo${o.quick ? ' (quick: toy settings, figures not meaningful)' : ''}:`);
      for (const line of headlines(report)) console.log(`  ${line}`);
      console.log(`  report: ${join(out, 'report.html')}`);
      console.log(`  samples: ${join(runDir, 'samples.gif')}; generator: ${join(runDir, 'generator')}`);
    });
}
