// `synthset demo` (`npm run demo`): the product's main job on the embedded default. Trains a
// conditional GAN on Fashion-MNIST at 32 px, evaluates it against the real train/holdout split, and
// prints where the report is and its headline figures. `--quick` is the same pipeline at toy size
// (a test runs it). A finished demo run is reused; an interrupted one resumes.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { evaluate, headlines } from '../eval/index.js';
import { loadCheckpoint, resolveConfig, resumeConfig, train, type TrainConfig, type TrainOptions } from '../train/index.js';
import { writeAtomic } from '../util/atomic.js';
import { exportBundle } from '../io/bundle.js';
import { generateFolder } from '../io/generate.js';
import { evalCostsFor, formatDuration, incv3SamplesFor, INCV3_MAX, StageClock, trainingDeadline } from './demo_budget.js';
import { loadNative } from '../engine/index.js';
import { withProgress } from './progress.js';
import { trainProgress } from './train.js';
import { collect, parseIntArg } from './data.js';
import { stopOnSignals } from './signals.js';

/** What follows the InceptionV3 features: the domain features (17-29 s on 2 cores) and the report. */
const FEATURES_TAIL_MS = 40_000;

interface DemoFlags { quick?: boolean; out?: string; steps?: number; quiet?: boolean; minutes?: number; set?: string[] }

export const DEMO = {
  // 12,000 steps of 16: past ~16,000 D wins and TSTR falls (ratio, raw / filtered, AMD Zen 5: 9,400
  // steps 0.927 / 0.942, 12,000 0.924 / 0.948, 16,000 0.928 / 0.939, 32,000 0.877 / 0.899; Zen 4:
  // 24,989 steps 0.898), so a fast machine stops there, early, rather than train on and lose quality.
  full: { steps: 12000, count: 10000, limit: undefined as number | undefined, width: 32, images: undefined as number | undefined, minutes: 20 as number | undefined },
  quick: { steps: 60, count: 400, limit: 40, width: 16, images: 2000, minutes: undefined as number | undefined },
};

export function demoConfig(o: DemoFlags): TrainConfig {
  const d = o.quick ? DEMO.quick : DEMO.full;
  return resolveConfig({
    flags: {
      data: 'builtin:fashion-mnist', family: 'cgan', size: 32, steps: o.steps ?? d.steps,
      out: o.out ?? join('runs', o.quick ? 'demo-quick' : 'demo'), ...(d.limit ? { limit: d.limit } : {}),
    },
    // Tuned for TSTR per second of training, since the budget, not the step count, ends the run on
    // slower machines. FMNIST, 128k training images, width 32, lr 5e-4, TSTR on 7000 real, 10k synthetic:
    // batch 32 77.4 %, batch 16 81.3 %, batch 8 80.5 % (2.5x slower); AC-GAN head (aux 1 / 0.2) no
    // better than none past ~100k images (76.1 % at 318k); lr 1e-3 80.0 %; projection 74.4 %; width 64 at
    // batch 32 82.7 % but 2-3x slower per image. Batch 16 at 256k images: 81.6 % (82.2 % on 60k fakes).
    // LR constant for half the budget's steps, then linearly to 0 (144k images, 1 thread each: 81.6 %
    // with lrDecay 0.5, 81.5 % with 0.75, 81.0 % without).
    sets: [`options.width=${d.width}`, 'options.lrG=5e-4', 'options.lrD=5e-4', ...(o.quick ? ['sampleEvery=20', 'checkpointEvery=30'] : ['batchSize=16', 'lrDecay=0.5']), ...(o.set ?? [])],
  });
}

export function registerDemoCommand(program: Command, engine: () => Promise<{ backend: string }>): Command {
  return program.command('demo')
    .description('train a conditional GAN on the embedded Fashion-MNIST, evaluate it, print the report\'s headline figures')
    .option('--quick', 'toy settings (~1–2 minutes): the whole pipeline, figures not meaningful')
    .option('--out <dir>', 'run dir (default runs/demo or runs/demo-quick)')
    .option('--steps <n>', `training steps (default ${DEMO.full.steps}; on a slower machine the --minutes budget may stop it first; a finished run is trained on to a larger number)`, parseIntArg(1))
    .option('--quiet', 'no progress bars')
    .option('--minutes <n>', `time budget for the whole demo, training and evaluation (default ${DEMO.full.minutes}; training stops early enough for the evaluation to fit)`, parseIntArg(1))
    .option('--set <key=value>', 'override one setting of the demo\'s recipe, as in `synthset train --set` (repeatable)', collect, [] as string[])
    .action(async (o: DemoFlags) => {
      const clock = new StageClock();
      const startMs = Date.now();
      const info = await engine();
      if (info.backend !== 'onednn' && !o.quick) {
        throw new Error('The native backend is not available, so the demo cannot train at a useful speed. Run `npm run build:native` (after `apt-get install libdnnl-dev` as root), or try `npm run demo -- --quick`.');
      }
      const d = o.quick ? DEMO.quick : DEMO.full;
      const minutes = o.minutes ?? d.minutes;
      const endMs = minutes === undefined ? Infinity : startMs + minutes * 60_000;
      const costs = evalCostsFor(loadNative()?.info().isa ?? '');
      let cfg = demoConfig(o);
      const runDir = resolve(cfg.out);
      const ck = loadCheckpoint(runDir);
      const budgetFile = join(runDir, 'demo.json');
      const prior = readBudgetStop(budgetFile);
      // A run the budget stopped counts as finished for that budget: a rerun evaluates it again
      // instead of training on, unless a larger --steps or --minutes asks for more.
      const budgetDone = !!ck && prior?.step === ck.state.step && o.steps === undefined && (o.minutes ?? 0) <= prior.minutes;
      const done = ck && (ck.state.step >= cfg.steps || budgetDone) && existsSync(join(runDir, 'generator', 'model.json'));
      const say = (s: string) => process.stderr.write(`synthset demo: ${s}\n`);
      let trained = ck?.state.step ?? 0;
      let trainRate = prior?.imgPerSec ?? 0;
      let stoppedByTime = budgetDone;
      if (done) {
        say(`reusing the ${budgetDone ? 'budget-stopped' : 'finished'} run in ${runDir} at step ${ck.state.step} (delete it to train again)`);
      } else {
        if (ck) cfg = resumeConfig(runDir, cfg.steps);
        say(`${ck ? `resuming at step ${ck.state.step}` : 'training'} a conditional GAN (cgan, 32 px) on Fashion-MNIST to step ${cfg.steps} in ${runDir}${minutes ? ` (the whole demo within ${minutes} min)` : ''}`);
        const bar = trainProgress(!!o.quiet);
        // Until the speed is known, stop at 60 % of the budget; from step 100 on, the deadline
        // follows the measured speed (the loop reads it before every step).
        const stop = stopOnSignals('saving a checkpoint; `npm run demo` again resumes');
        // The step the deadline will stop at, for the LR schedule's end (updated with the speed).
        let planned = cfg.steps;
        const opts: TrainOptions = {
          resume: !!ck, signal: stop.signal, deadline: Number.isFinite(endMs) ? startMs + 0.6 * (endMs - startMs) : undefined, plannedSteps: () => planned,
        };
        const rate = new RateMeter(cfg.batchSize);
        clock.enter('training');
        let result;
        try {
          result = await train(cfg, {
            onStart: bar.onStart,
            onStep: (e) => {
              bar.onStep(e);
              rate.step(e.step - e.startStep);
              if (opts.deadline !== undefined && rate.imgPerSec) {
                opts.deadline = trainingDeadline(endMs, startMs, rate.imgPerSec, costs);
                planned = Math.min(cfg.steps, e.step + Math.floor((Math.max(0, opts.deadline - Date.now()) / 1000) * rate.imgPerSec / cfg.batchSize));
              }
            },
          }, opts);
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
        clock.leave();
        trained = result.step;
        trainRate = rate.imgPerSec ?? trainRate;
        stoppedByTime = result.stopped === 'time';
        if (stoppedByTime) {
          say(`time budget: training stopped at step ${result.step} of ${cfg.steps} (${Math.round(trainRate)} img/s here); evaluating that generator`);
          writeAtomic(budgetFile, JSON.stringify({ step: result.step, minutes: minutes!, imgPerSec: trainRate }));
        }
      }
      const out = join(runDir, 'report');
      // InceptionV3 gets the time that is left after the rest of the evaluation.
      const incv3 = o.quick ? 0 : !Number.isFinite(endMs) || !trainRate ? INCV3_MAX : incv3SamplesFor((endMs - Date.now()) / 1000, trainRate, costs);
      say(`evaluating ${d.count} generated images against the real train split and holdout${o.quick ? '' : incv3 ? ` (InceptionV3 features of ${incv3} images per set)` : ' (no InceptionV3 features: the time budget does not cover them)'}`);
      const report = await withProgress('eval', o.quiet, (progress) => evaluate({
        synthetic: runDir, out, count: d.count, seed: 0, classifier: d.images ? { images: d.images } : undefined,
        // TSTR is reported raw and on the classifier-filtered set (p >= 0.7, eval's default): the
        // filter's +1.4-2.5 points are steadier across training seeds than any recipe change
        // measured (demo_budget.ts), and the minutes it takes from training cost almost nothing there.
        // InceptionV3 sets up ~100 convolution shapes on first use (~30 s): not for the toy run.
        // The costs behind `incv3` are one CPU's; the features time themselves and shrink to what still fits
        // (InceptionV3's speed relative to the GAN's differs 2x between AVX-512 CPUs: 21.5 min on a Zen 4).
        features: incv3 ? { samples: { 'incv3-nsfwjs': incv3 }, ...(Number.isFinite(endMs) ? { deadline: { 'incv3-nsfwjs': endMs - FEATURES_TAIL_MS } } : {}) } : { spaces: ['domain'] },
        onProgress: (stage, doneN, total) => {
          // "privacy (pixel): synthetic → train" is timed as "privacy".
          clock.enter(stage.split(/:| \(/)[0]);
          progress.update({ stage, done: doneN, total });
        },
        // Above the bar, not through it.
        onNote: (m) => progress.log(`synthset demo: ${m}`),
      }));
      clock.leave();
      console.log(`\nsynthset demo${o.quick ? ' (quick: toy settings, figures not meaningful)' : ''}:`);
      if (stoppedByTime) console.log(`  trained ${trained} of ${cfg.steps} steps: the ${minutes}-minute budget stopped training (--minutes or --steps to train further)`);
      for (const line of headlines(report)) console.log(`  ${line}`);
      console.log(`  report: ${join(out, 'report.html')}`);
      console.log(`  samples: ${join(runDir, 'samples.gif')}; generator: ${join(runDir, 'generator')}`);
      // The release: the bundle (after the report, so its model card carries the figures) and a labelled set from it.
      const rel = await releaseDemo(runDir, o.quick ? 10 : 100, !!o.quiet);
      console.log(`  bundle: ${rel.bundle} (open index.html from a static server: python3 -m http.server -d ${rel.bundle})`);
      console.log(`  synthetic set: ${rel.set} (${rel.images} images, ${rel.perClass} per class; ${join(rel.set, 'manifest.csv')})`);
      console.log(`  the filtered set, released: npx synthset generate --bundle ${rel.bundle} --per-class ${rel.perClass} --filter 0.7 --real builtin:fashion-mnist --out ${rel.set}-filtered`);
      console.log(`  time: ${formatDuration(Date.now() - startMs)} in all (${clock.summary()})`);
    });
}

/** The demo's last act: export the bundle and generate `perClass` images per class from it. */
export async function releaseDemo(runDir: string, perClass: number, quiet: boolean): Promise<{ bundle: string; set: string; images: number; perClass: number }> {
  const { dir, manifest } = await exportBundle(runDir, join(runDir, 'bundle'));
  const set = join(runDir, 'synthetic');
  // A run trained on since the last demo has a new generator: its old set goes.
  const stamp = join(set, 'generate.json');
  if (existsSync(stamp) && JSON.parse(readFileSync(stamp, 'utf8')).bundleWeights !== manifest.model.map((f) => f.sha256).join(',')) rmSync(set, { recursive: true });
  const r = await withProgress('generate', quiet, (p) => generateFolder({
    bundle: dir, perClass, seed: 0, out: set, onProgress: (done, total) => p.update({ done, total }),
  }));
  return { bundle: dir, set: r.out, images: r.total, perClass };
}

interface BudgetStop { step: number; minutes: number; imgPerSec: number }

function readBudgetStop(file: string): BudgetStop | null {
  try {
    const j = JSON.parse(readFileSync(file, 'utf8')) as BudgetStop;
    return Number.isInteger(j.step) && typeof j.minutes === 'number' && typeof j.imgPerSec === 'number' ? j : null;
  } catch {
    return null;
  }
}

/** Training images per second of this process, over the steps after the first 100 (warm-up excluded). */
class RateMeter {
  private t0 = 0;
  private n0 = 0;
  imgPerSec: number | null = null;

  constructor(private readonly batch: number) {}

  step(done: number): void {
    if (done === 100) {
      this.t0 = performance.now();
      this.n0 = done;
    } else if (done > 100 && done % 20 === 0) {
      this.imgPerSec = ((done - this.n0) * this.batch * 1000) / (performance.now() - this.t0);
    }
  }
}
