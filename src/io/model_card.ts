// MODEL_CARD.md of a bundle: what the generator was trained on (counts only, never images or file
// names), how, for how long, and the evaluation and privacy figures of the run's newest report —
// or a plain warning that it was never evaluated. Reports are found anywhere under the run dir,
// since `synthset eval --out` may be any folder.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { TrainConfig } from '../run/config.js';
import type { DataSummary } from '../run/data_summary.js';
import { readMetrics } from '../run/metrics.js';
import type { GeneratorMeta } from '../run/generator.js';

export interface FoundReport { file: string; mtimeMs: number; report: Record<string, unknown> }

/** The newest report.json under `runDir` (checkpoints and samples skipped), or null. */
export function newestReport(runDir: string, depth = 4): FoundReport | null {
  let best: FoundReport | null = null;
  const walk = (dir: string, d: number) => {
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (d > 0 && !/^(ckpt-|\.|samples$|generator$|cache$)/.test(e.name)) walk(p, d - 1);
      } else if (e.name === 'report.json') {
        const m = statSync(p).mtimeMs;
        if (best && best.mtimeMs >= m) continue;
        try {
          best = { file: p, mtimeMs: m, report: JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown> };
        } catch { /* a half-written or foreign file is not a report */ }
      }
    }
  };
  walk(runDir, depth);
  return best;
}

const fmt = (v: unknown): string => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : JSON.stringify(v));
const META_KEYS = new Set(['created', 'sets', 'skipped', 'seconds']);

/** The scalar figures of one metric's result, nested objects one level deep (e.g. tstr.trtr.accuracy). */
function figures(result: unknown, prefix = '', depth = 1): string[] {
  if (!result || typeof result !== 'object') return typeof result === 'number' ? [`${prefix}: ${fmt(result)}`] : [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(result as Record<string, unknown>)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'number' || typeof v === 'boolean') out.push(`${name}: ${fmt(v)}`);
    else if (v && typeof v === 'object' && !Array.isArray(v) && depth > 0) out.push(...figures(v, name, depth - 1));
  }
  return out;
}

/** What a private run's guarantee is, in numbers and in words. */
function privacySection(cfg: TrainConfig, data: DataSummary, meta: GeneratorMeta, runDir?: string): string[] {
  const dp = cfg.dp!;
  const metrics = runDir && existsSync(join(runDir, 'metrics.jsonl')) ? readMetrics(join(runDir, 'metrics.jsonl')) : [];
  const spent = metrics.filter((m) => m.step <= meta.step && typeof m.epsilon === 'number').at(-1)?.epsilon;
  const ndis = typeof cfg.options.ndis === 'number' ? cfg.options.ndis : 1;
  return ['## Differential privacy', '',
    `Trained with differential privacy: **(ε = ${spent === undefined ? 'unknown (no metrics.jsonl)' : fmt(spent)}, δ = ${dp.delta})** spent of a budget of ε = ${dp.epsilon}.`, '',
    '| | |', '|---|---|',
    `| mechanism | DP-SGD on the discriminator's updates from real images (per-example clipping, Gaussian noise); the generator only ever sees the discriminator (post-processing) |`,
    `| noise multiplier σ | ${dp.noise === undefined ? 'unknown' : fmt(dp.noise)} |`, `| clipping norm C | ${dp.clip}${dp.clipping === 'loss' ? ' (loss-weighted: each example held to C·min(1, |ℓ\'| / |ℓ\' of an undecided D|))' : ''} |`,
    `| sampling | Poisson, q = ${fmt(cfg.batchSize / data.trainImages)} (batch ${cfg.batchSize} of ${data.trainImages} images) |`,
    `| steps | ${meta.step} training steps, ${meta.step * ndis} private discriminator updates |`,
    '| accountant | Rényi DP of the sampled Gaussian mechanism over Opacus\'s orders, converted to (ε, δ) as Opacus does |', '',
    'What this protects: any one training image. Whether or not it was in the training set changes the probability of',
    'obtaining this generator by at most a factor e^ε, except with probability δ. It does not hide what the images share',
    '(their classes, typical shapes and colours), and it covers the generator only, not the evaluation figures below.', ''];
}

export interface CardInput { meta: GeneratorMeta; cfg: TrainConfig; data: DataSummary; report: FoundReport | null; version: string; runDir?: string }

export function modelCard(c: CardInput): string {
  const { meta, cfg, data, report } = c;
  const lines: string[] = [
    `# Model card: synthset ${meta.family} generator`, '',
    `A ${meta.conditional ? 'class-conditional ' : ''}${meta.family} generator of ${meta.size}×${meta.size} ${meta.channels === 1 ? 'grey' : 'RGB'} images, exported by synthset ${c.version} at training step ${meta.step}.`,
    'This bundle holds the generator only: no discriminator or critic, no optimizer state, no training image.', '',
    '## Training data', '',
    `Source: \`${data.source}\` — ${data.trainImages} training images (train split), ${data.holdoutImages} held out and never trained on.`, '',
  ];
  if (data.labelled) {
    lines.push('| class | train images |', '|---|---|');
    for (const [name, n] of Object.entries(data.counts)) lines.push(`| ${name.replace(/\|/g, '\\|')} | ${n} |`);
    const absent = data.classes.filter((_, i) => !data.present.includes(i));
    if (absent.length) lines.push('', `Classes without training images (the generator cannot make them): ${absent.join(', ')}.`);
  } else {
    lines.push('Unlabelled data (no classes).');
  }
  lines.push('', '## Training', '',
    `Family \`${cfg.family}\`${cfg.perClass ? ' trained per class (one unconditional model per class, joined into one conditional generator; steps and batch are each model\'s)' : ''}, ${cfg.size} px, ${meta.step} of ${cfg.steps} steps, batch ${cfg.batchSize}, latent size ${cfg.zDim}, seed ${cfg.seed}; ` +
    `EMA ${cfg.ema ? `decay ${cfg.ema.decay} (these are the EMA weights)` : 'off'}; DiffAugment ${cfg.augment ? JSON.stringify(cfg.augment) : 'off'}${cfg.ada ? ` with ADA ${JSON.stringify(cfg.ada)}` : ''}; LeCam ${cfg.lecam ? JSON.stringify(cfg.lecam) : 'off'}; image pool ${cfg.pool ? JSON.stringify(cfg.pool) : 'off'}.`,
    '', '<details><summary>Full configuration</summary>', '', '```json', JSON.stringify({ ...cfg, out: undefined, cacheDir: undefined }, null, 2), '```', '', '</details>', '');
  if (cfg.dp) lines.push(...privacySection(cfg, data, meta, c.runDir));
  lines.push('## Evaluation and privacy', '');
  if (cfg.dp && report) {
    lines.push('> **Outside the differential-privacy guarantee:** the figures below were computed from the private training images',
      '> (classifiers trained on them, distances to them). Sharing them discloses more than the generator does.', '');
  }
  if (!report) {
    lines.push('> **Warning: this generator has not been evaluated.** No report.json was found in the run.',
      '> Its usefulness (TSTR, FD/KID) and its privacy (membership inference, nearest-neighbour copies) are unknown:',
      '> run `synthset eval --synthetic <run> --out <run>/report` and export again before sharing.', '');
  } else {
    const r = report.report;
    const where = c.runDir ? relative(c.runDir, report.file) : report.file;
    lines.push(`From \`${where}\` (created ${String(r.created ?? new Date(report.mtimeMs).toISOString())}).`, '');
    const sets = r.sets as Record<string, { name: string; count: number }> | undefined;
    if (sets) lines.push(`Sets: ${Object.entries(sets).map(([k, s]) => `${k} ${s.count} images`).join(', ')}.`, '');
    const metrics = Object.keys(r).filter((k) => !META_KEYS.has(k) && r[k] && typeof r[k] === 'object');
    for (const k of metrics.sort((a, b) => Number(a === 'privacy') - Number(b === 'privacy'))) {
      const f = figures(r[k]);
      if (!f.length) continue;
      lines.push(`### ${k === 'privacy' ? 'privacy' : k}`, '', ...f.map((x) => `- ${x}`), '');
    }
    if (!r.privacy) lines.push('> **Warning: the report has no privacy figures** (the privacy metric was not run or was skipped): membership-inference risk is unknown.', '');
    const skipped = r.skipped as Record<string, string> | undefined;
    if (skipped && Object.keys(skipped).length) lines.push(`Skipped: ${Object.entries(skipped).map(([k, v]) => `${k} (${v})`).join('; ')}.`, '');
  }
  lines.push('## Use', '', '```sh', 'npx synthset generate --bundle <this folder> --per-class 1000 --seed 0 --out synthetic/', '```', '',
    'Or serve this folder (e.g. `python3 -m http.server -d <this folder>`; browsers block model loads from `file://`) and open `index.html` to draw samples in the browser, offline.', '');
  return lines.join('\n');
}
