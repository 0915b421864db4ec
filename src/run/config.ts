// The training configuration: defaults < preset (family x size) < --config file (JSON or YAML) <
// command-line flags < --set key=value. Validated with zod; unknown keys are errors naming the key,
// because a misspelt option silently ignored costs a whole training run. Family options are checked
// against the family's `defaults` the same way.
import { existsSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { getFamily } from '../models/index.js';
import { preset, type PresetName } from './presets.js';

/** DiffAugment's ops (train/augment.ts), named here because a config names them. */
export const AUGMENT_OPS = ['color', 'translation', 'cutout'] as const;
export type AugmentOp = (typeof AUGMENT_OPS)[number];

const int = (min: number) => z.number().int().min(min);

export const configSchema = z.object({
  /** A folder, or builtin:fashion-mnist / builtin:mnist; domain A (or the A/ + B/ root) for image-to-image families. */
  data: z.string().min(1),
  /** Domain B's folder for unpaired families (--data-b), when --data is domain A's folder. */
  dataB: z.string().min(1).optional(),
  family: z.string().min(1),
  size: z.union([z.literal(32), z.literal(64), z.literal(128), z.literal(256)]),
  steps: int(1),
  out: z.string().min(1),
  seed: int(0).default(0),
  batchSize: int(1).default(64),
  zDim: int(1).default(128),
  /** Image channels; default 1 for the (grey) builtins, 3 otherwise. */
  channels: z.union([z.literal(1), z.literal(3)]).optional(),
  /** Holdout share and seed of the persistent split (independent of `seed`, so runs share a holdout). */
  holdout: z.number().min(0).lt(1).default(0.1),
  splitSeed: int(0).default(0),
  /** Builtins only: images per class, and which classes (names or indices). */
  limit: int(1).optional(),
  classes: z.array(z.union([z.string(), z.number().int()])).optional(),
  /** Folder for the decoded cache (default: the data layer's choice). */
  cacheDir: z.string().optional(),
  pool: z.object({ size: int(0), p: z.number().min(0).max(1) }).strict().nullable().default(null),
  augment: z.object({
    policy: z.array(z.enum(AUGMENT_OPS)),
    translation: z.number().min(0).max(0.5).optional(),
    cutout: z.number().min(0).max(1).optional(),
  }).strict().nullable().default(null),
  /**
   * LeCam regularisation of D (train/lecam.ts), for small data sets: weight λ, the anchors' decay,
   * and the step from which it applies (the reference: 0.3 on CIFAR with BigGAN, 0.99, 1000).
   */
  lecam: z.object({ weight: z.number().positive().default(0.3), decay: z.number().min(0).lt(1).default(0.99), start: int(0).default(1000) }).strict().nullable().default(null),
  /**
   * Adaptive augmentation (train/ada.ts): each op of "augment" is applied to an image with a
   * probability p that rises while D calls more than "target" of the real images real.
   */
  ada: z.object({
    target: z.number().gt(0).lt(1).default(0.6),
    kimg: z.number().positive().default(100),
    interval: int(1).default(4),
    initial: z.number().min(0).max(1).default(0),
  }).strict().nullable().default(null),
  // warmup: the decay ramps up as min(decay, (1 + t) / (10 + t)) (TensorFlow's ExponentialMovingAverage
  // with num_updates), so a short run's average is not dominated by its untrained first steps.
  ema: z.object({ decay: z.number().min(0).lt(1), warmup: z.boolean().default(true) }).strict().nullable().default({ decay: 0.999, warmup: true }),
  /** Learning rates stay constant for this share of the steps, then fall linearly to 0 (the pix2pix/CycleGAN schedule); null: constant. */
  lrDecay: z.number().min(0).lt(1).nullable().default(null),
  /**
   * Paired/unpaired jitter: each image upscaled by `scale` (286/256 in the reference), randomly
   * cropped back and, with `flip`, mirrored half the time; a pair gets the same crop and flip.
   */
  jitter: z.object({ scale: z.number().min(1).max(2), flip: z.boolean() }).strict().nullable().default(null),
  /** Steps between metrics lines; forced to 1 when steps <= 100. */
  logEvery: int(1).default(10),
  sampleEvery: int(1).default(500),
  checkpointEvery: int(1).default(1000),
  /** Steps between tensor-count checks (a leak fails the run instead of eating the memory). */
  tensorCheckEvery: int(1).default(50),
  /** Sample grid columns (rows: one per class, or as many as columns when unconditional). */
  sampleCols: int(1).default(8),
  /**
   * Differentially-private training (privacy/): D's updates from real images are DP-SGD steps
   * (per-example clipping to `clip`, Gaussian noise σ·clip, Poisson sampling at batchSize / N).
   * `noise` (σ) is solved from epsilon, delta and the step count when absent, and saved.
   */
  dp: z.object({
    epsilon: z.number().positive(),
    delta: z.number().gt(0).lt(1),
    clip: z.number().positive().default(1),
    noise: z.number().positive().optional(),
    /**
     * flat: every example clipped to C; loss: to C·min(1, |ℓ'ᵢ| / |ℓ'ᵢ(0)|) (privacy/per_example.ts),
     * same guarantee. New runs get loss (resolveConfig); a saved config without the field predates it
     * and was trained flat, so the schema's default keeps its resume exact.
     */
    clipping: z.enum(['flat', 'loss']).default('flat'),
  }).strict().nullable().default(null),
  /**
   * One unconditional model of the family per class (models/per_class.ts), joined into one
   * conditional generator; `steps` are steps of each class's model.
   */
  perClass: z.boolean().default(false),
  options: z.record(z.unknown()).default({}),
}).strict();

export type TrainConfig = z.output<typeof configSchema>;
/** Any subset of the settings, as a preset, a config file or flags give them. */
export type TrainConfigInput = { [K in keyof z.input<typeof configSchema>]?: z.input<typeof configSchema>[K] };

const TOP_KEYS = new Set(Object.keys(configSchema.shape));

export class ConfigError extends Error {}

const FLAG: Record<string, string> = { data: '--data', family: '--family', size: '--size', steps: '--steps', out: '--out' };

function describeIssue(issue: z.ZodIssue, where: string): string {
  const path = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `"${path ? `${path}.` : ''}${k}"`).join(', ');
    return `${where}: unknown key ${keys}${path ? '' : ` (known: ${[...TOP_KEYS].join(', ')})`}`;
  }
  if (issue.code === 'invalid_type' && issue.received === 'undefined' && FLAG[path]) return `${where}: missing "${path}" (${FLAG[path]})`;
  return `${where}: "${path || '(root)'}": ${issue.message}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Objects merge key by key; anything else (arrays, null) replaces. */
export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined) continue;
    out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

/** A --config file (.json, .yaml or .yml). */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
  }
  let data: unknown;
  try {
    data = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new ConfigError(`Config file ${file} is not valid ${extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  if (data == null) return {};
  if (!isObject(data)) throw new ConfigError(`Config file ${file} must hold an object of settings.`);
  return data;
}

/**
 * `key=value` from --set. The value is read as YAML (`1e-4` a number, `true` a boolean, `[a, b]` a
 * list, `null`); dotted keys reach into objects (`pool.p=0.3`); a key that is not a training
 * setting goes to the family options (`lrG=1e-4` = `options.lrG=1e-4`).
 */
export function parseSet(assignment: string): Record<string, unknown> {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new ConfigError(`--set expects key=value, got "${assignment}".`);
  const key = assignment.slice(0, eq).trim();
  const raw = assignment.slice(eq + 1);
  let value: unknown;
  try {
    value = YAML.parse(raw);
  } catch {
    value = raw;
  }
  if (value === undefined) value = raw;
  let path = key.split('.');
  if (!TOP_KEYS.has(path[0])) path = ['options', ...path];
  let out: unknown = value;
  for (const k of path.reverse()) out = { [k]: out };
  return out as Record<string, unknown>;
}

/** The family's defaults merged with the given options; unknown keys and wrong types are errors. */
export function familyOptions(familyName: string, given: Record<string, unknown>): Record<string, unknown> {
  const fam = getFamily(familyName);
  const defaults = fam.defaults;
  for (const [k, v] of Object.entries(given)) {
    if (!Object.hasOwn(defaults, k)) {
      const known = Object.keys(defaults);
      throw new ConfigError(`Unknown option "${k}" for family ${familyName}: it is neither a training setting nor a ${familyName} option (${known.length ? known.join(', ') : 'it has none'}).`);
    }
    const d = defaults[k];
    const kind = (x: unknown) => (x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x);
    if (d !== null && d !== undefined && v !== null && kind(d) !== kind(v)) {
      throw new ConfigError(`Option "${k}" of family ${familyName} must be a ${kind(d)} (like its default ${JSON.stringify(d)}), got ${JSON.stringify(v)}.`);
    }
  }
  return deepMerge(defaults, given);
}

export interface ResolveInput {
  /** Settings from explicit flags (--data, --family, --size, --steps, --out, ...). */
  flags?: TrainConfigInput;
  /** A --config file path. */
  file?: string;
  /** --set key=value assignments, applied last in order. */
  sets?: string[];
  /** The preset under everything else: `cpu` (default) or `reference` (the paper's settings, image-to-image families). */
  preset?: PresetName;
}

/** Validates a settings object (a preset merge, or a saved config.json). */
export function validateConfig(raw: Record<string, unknown>, where = 'config'): TrainConfig {
  const r = configSchema.safeParse(raw);
  if (!r.success) throw new ConfigError(r.error.issues.map((i) => describeIssue(i, where)).join('; '));
  const cfg = r.data;
  if (cfg.steps <= 100) cfg.logEvery = 1;
  if (cfg.ada && !cfg.augment?.policy.length) throw new ConfigError(`${where}: "ada" adapts how often the DiffAugment ops apply, so it needs "augment.policy" (e.g. --set augment.policy=[color,translation,cutout]).`);
  if (cfg.dp && (cfg.lecam || cfg.ada)) throw new ConfigError(`${where}: "lecam" and "ada" follow D's outputs on the real images, which a private run may only use through DP-SGD: drop them or "dp".`);
  cfg.options = familyOptions(cfg.family, cfg.options);
  return cfg;
}

/** The full configuration of a new run. */
export function resolveConfig(input: ResolveInput): TrainConfig {
  const file = input.file ? readConfigFile(input.file) : {};
  let user = deepMerge(file, (input.flags ?? {}) as Record<string, unknown>);
  for (const s of input.sets ?? []) user = deepMerge(user, parseSet(s));
  const family = user.family;
  const size = user.size;
  if (typeof family !== 'string') throw new ConfigError('No GAN family given: use --family (or "family" in the config file).');
  getFamily(family);
  // Loss-weighted clipping measured better at both ends of the budget (FMNIST TSTR 75.6 vs 68.7 % at ε = 10, 74.0 vs 68.6 % at ε = 1).
  if (user.dp && typeof user.dp === 'object' && !('clipping' in user.dp)) user = { ...user, dp: { ...user.dp, clipping: 'loss' } };
  if (size !== 32 && size !== 64 && size !== 128 && size !== 256) {
    throw new ConfigError(`Image size ${JSON.stringify(size)} is not supported: use 32, 64, 128 or 256 (--size).`);
  }
  return validateConfig(deepMerge(preset(family, size, input.preset) as Record<string, unknown>, user), input.file ? `config (${input.file} and flags)` : 'config');
}

/** The saved configuration of a run dir with a new step total, for `--resume`. */
export function resumeConfig(runDir: string, steps?: number): TrainConfig {
  const file = join(runDir, 'config.json');
  if (!existsSync(file)) throw new ConfigError(`${resolve(runDir)} is not a run dir (no config.json): start a run with --out first.`);
  const saved = readConfigFile(file);
  return validateConfig({ ...saved, out: runDir, ...(steps !== undefined ? { steps } : {}) }, file);
}
