// `synthset train`: parses flags into a training config, runs the loop, draws its progress.
// Outside scripts depend on these flag names, on metrics.jsonl (one JSON object per logged step
// with a numeric "step", the last line the last step trained) and on --resume continuing a run.
import { Command, InvalidArgumentError, Option } from 'commander';
import { familyNames } from '../models/index.js';
import { resolveConfig, resumeConfig, train, type StepEvent, type TrainConfigInput } from '../train/index.js';
import { collect, parseIntArg } from './data.js';
import { PRESET_NAMES, type PresetName } from '../run/presets.js';
import { formatDuration } from './progress.js';
import { stopOnSignals } from './signals.js';

interface TrainFlags {
  data?: string; dataA?: string; dataB?: string; preset?: PresetName; family?: string; size?: number; steps?: number; out?: string; config?: string; set: string[];
  seed?: number; batchSize?: number; resume?: string; quiet?: boolean; dp?: TrainConfigInput['dp']; perClass?: boolean;
}

const DP_KEYS = ['epsilon', 'delta', 'clip', 'noise'];
const DP_CLIPPING = ['flat', 'loss'];

/** `--dp epsilon=10,delta=1e-5[,clip=1][,noise=1.1][,clipping=loss]`. */
export function parseDp(v: string): TrainConfigInput['dp'] {
  const out: Record<string, number | string> = {};
  for (const part of v.split(',').map((x) => x.trim()).filter(Boolean)) {
    const [k, val, ...rest] = part.split('=');
    if (k === 'clipping' && !rest.length && DP_CLIPPING.includes(val)) { out[k] = val; continue; }
    const n = Number(val);
    if (rest.length || !DP_KEYS.includes(k) || val === undefined || val.trim() === '' || !Number.isFinite(n)) {
      throw new InvalidArgumentError(`expected key=number pairs of ${DP_KEYS.join(', ')} (and clipping=${DP_CLIPPING.join('|')}) separated by commas (e.g. epsilon=10,delta=1e-5), got "${part}".`);
    }
    out[k] = n;
  }
  if (out.epsilon === undefined || out.delta === undefined) throw new InvalidArgumentError('needs at least epsilon and delta, e.g. --dp epsilon=10,delta=1e-5.');
  return out as unknown as TrainConfigInput['dp'];
}

const fmt = (v: number) => (Math.abs(v) >= 100 || v === 0 ? v.toFixed(0) : Math.abs(v) >= 0.01 ? v.toFixed(3) : v.toExponential(1));

/** The progress line: bar, step, the family's values, img/s and ETA. */
export function trainLine(e: StepEvent, elapsedS: number, columns = 80): string {
  const done = e.step - e.startStep;
  const rate = elapsedS > 0 ? done / elapsedS : 0;
  const eta = rate > 0 ? formatDuration((e.steps - e.step) / rate) : '--:--';
  const values = Object.entries(e.values).map(([k, v]) => `${k} ${fmt(v)}`).join(' ');
  const tail = `${e.step}/${e.steps} ${values} ${e.imgPerSec.toFixed(0)} img/s ETA ${eta}`;
  const barWidth = Math.min(20, columns - tail.length - 10);
  if (barWidth < 5) return `train ${tail}`.slice(0, Math.max(10, columns - 1));
  const filled = Math.round((barWidth * e.step) / e.steps);
  return `train [${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${tail}`;
}

/**
 * The progress line on stderr for train callbacks: redrawn in place on a terminal (at most every
 * 100 ms), a plain line every 10 s otherwise, and always at the last step; nothing when quiet.
 */
export function trainProgress(quiet: boolean) {
  const tty = !quiet && !!process.stderr.isTTY;
  let started = performance.now(), lastDraw = 0, drawn = false;
  const clear = () => {
    if (drawn) process.stderr.write('\r\x1b[K');
    drawn = false;
  };
  return {
    onStart: () => {
      started = performance.now();
    },
    onStep: (e: StepEvent) => {
      if (quiet) return;
      const t = performance.now();
      const last = e.step === e.steps;
      if (tty) {
        if (!last && t - lastDraw < 100) return;
        process.stderr.write(`\r\x1b[K${trainLine(e, (t - started) / 1000, process.stderr.columns || 80)}`);
        drawn = true;
      } else if (last || t - lastDraw >= 10_000) {
        process.stderr.write(`${trainLine(e, (t - started) / 1000, 120)}\n`);
      } else return;
      lastDraw = t;
    },
    /** Erases a drawn line so the next output starts clean. */
    clear,
    /** Leaves a drawn line on screen and moves below it. */
    keep: () => {
      if (drawn) process.stderr.write('\n');
      drawn = false;
    },
  };
}

const RESUME_ONLY = ['data', 'dataA', 'dataB', 'preset', 'family', 'size', 'out', 'config', 'seed', 'batchSize', 'dp', 'perClass'] as const;

export function registerTrainCommand(program: Command, engine: () => Promise<unknown>): Command {
  return program.command('train')
    .description('train a GAN on a folder or a builtin dataset; writes metrics.jsonl, samples, checkpoints into --out')
    .option('--data <source>', 'an ImageFolder (dir/<class>/*), a flat folder, builtin:fashion-mnist / builtin:mnist; for pix2pix a folder with A/ and B/ (matching names)')
    .option('--data-a <dir>', 'unpaired families (cyclegan): domain A\'s folder (with --data-b)')
    .option('--data-b <dir>', 'unpaired families (cyclegan): domain B\'s folder')
    .option('--family <name>', `GAN family: ${familyNames().join(', ')}`)
    .addOption(new Option('--preset <name>', 'settings under the config: cpu (narrow nets sized for a CPU hour), photos-small (a few thousand real photos: DiffAugment, LeCam, EMA, LR decay, wider nets; z families) or reference (the paper\'s; image-to-image families)').choices(PRESET_NAMES))
    .option('--size <px>', 'image side: 32, 64, 128 or 256 (256: image-to-image families)', parseIntArg(1))
    .option('--steps <n>', 'total training steps (with --resume: the new total)', parseIntArg(1))
    .option('--out <dir>', 'run dir for config.json, metrics.jsonl, samples/, checkpoints')
    .option('--config <file>', 'settings file (JSON or YAML); flags override it')
    .option('--set <key=value>', 'override one setting, e.g. --set lrG=1e-4 --set pool.p=0.3 (repeatable)', collect, [])
    .option('--seed <n>', 'run seed (weights, noise, data order)', parseIntArg(0))
    .option('--batch-size <n>', 'images per batch', parseIntArg(1))
    .option('--resume <dir>', 'continue the run in <dir> from its last checkpoint up to --steps')
    .option('--dp <settings>', 'differentially-private training (dcgan, cgan): epsilon=<ε>,delta=<δ>[,clip=<C, default 1>][,noise=<σ, default: solved for ε>][,clipping=loss|flat (default loss: each example held to C·min(1, |ℓ\'|/|ℓ\'(0)|); flat: plain DP-SGD)]', parseDp)
    .option('--per-class', 'one unconditional model of --family (dcgan, sngan, wgan-gp) per class of an ImageFolder, trained side by side and saved as one conditional generator; --steps counts steps of each class\'s model')
    .option('--quiet', 'no progress bar (for CI); errors and the summary still print')
    .action(async (o: TrainFlags) => {
      let config;
      if (o.resume) {
        const extra = RESUME_ONLY.filter((k) => o[k] !== undefined).concat(o.set.length ? ['set' as never] : []);
        if (extra.length) {
          throw new Error(`--resume continues a run with its saved settings; drop ${extra.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} (only --steps and --quiet apply).`);
        }
        config = resumeConfig(o.resume, o.steps);
      } else {
        if (o.dataA && o.data) throw new Error('Give either --data or --data-a (domain A), not both.');
        if (o.dataA && !o.dataB) throw new Error('--data-a needs --data-b (domain B\'s folder).');
        const flags: TrainConfigInput = {
          data: o.data ?? o.dataA, dataB: o.dataB, family: o.family, size: o.size as TrainConfigInput['size'], steps: o.steps, out: o.out, seed: o.seed, batchSize: o.batchSize, dp: o.dp, perClass: o.perClass,
        };
        if (o.family && !familyNames().includes(o.family)) {
          throw new Error(`Unknown GAN family "${o.family}": use one of ${familyNames().join(', ')}.`);
        }
        config = resolveConfig({ flags, file: o.config, sets: o.set, preset: o.preset });
      }
      await engine();
      const stop = stopOnSignals();

      const bar = trainProgress(!!o.quiet);
      const note = (line: string) => {
        bar.clear();
        process.stderr.write(`synthset: ${line}\n`);
      };
      let result;
      try {
        result = await train(config, {
          onStart: (e) => {
            bar.onStart();
            if (!o.quiet) note(`${e.resumed ? `resuming at step ${e.step}` : 'training'} ${e.family} on ${e.trainImages} train images to step ${e.steps} in ${e.runDir}`);
          },
          onNote: note,
          onStep: bar.onStep,
        }, { resume: !!o.resume, signal: stop.signal });
      } finally {
        bar.clear();
        stop.dispose();
      }
      if (result.stopped === 'signal') {
        console.log(`stopped by ${stop.received()} at step ${result.step}; checkpoint saved. Continue with: synthset train --resume ${config.out} --steps ${config.steps}`);
        process.exitCode = stop.exitCode();
        return;
      }
      if (result.stopped === 'budget') {
        console.log(`privacy budget spent: trained ${config.family} to step ${result.step} of ${config.steps} in ${result.runDir} within ε = ${config.dp!.epsilon}, δ = ${config.dp!.delta} (a resume cannot train further on this budget)`);
        return;
      }
      console.log(`trained ${config.family} to step ${result.step} in ${result.runDir} (metrics.jsonl, samples/${result.gif ? ', samples.gif' : ''}, latest checkpoint)`);
    });
}
