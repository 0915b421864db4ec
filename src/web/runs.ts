// What the dashboard knows about a folder of runs, read from the run-dir files alone (config.json,
// metrics.jsonl, latest.json, samples/, generator/, error.json), so it shows runs of any process.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative, sep } from 'node:path';

export type RunState = 'running' | 'stopped' | 'finished' | 'failed';

export interface RunSummary {
  /** Path relative to the served folder, '/'-separated. */
  id: string;
  family: string | null;
  data: string | null;
  size: number | null;
  step: number;
  steps: number | null;
  imgPerSec: number | null;
  etaSeconds: number | null;
  state: RunState;
  /** Why it is failed or stopped, when the files say. */
  reason: string | null;
  /** ms since the epoch of the newest file activity. */
  updated: number;
}

export interface RunDetail {
  summary: RunSummary;
  config: Record<string, unknown> | null;
  metrics: Record<string, number>[];
  samples: { step: number; url: string }[];
  gif: string | null;
  reports: string[];
  bundles: string[];
  tensorboard: boolean;
}

const SAMPLE = /^step-(\d+)\.png$/;
const MAX_DEPTH = 3;

const readJson = (file: string): Record<string, unknown> | null => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
};
const mtime = (file: string) => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
};
const isRun = (dir: string) => existsSync(join(dir, 'config.json')) || existsSync(join(dir, 'metrics.jsonl'));
/** true / false when running.json names a process on this host (alive or not), null when it cannot tell. */
function trainerAlive(dir: string): boolean | null {
  const r = readJson(join(dir, 'running.json'));
  if (!r) return false;
  if (typeof r.pid !== 'number' || r.host !== hostname()) return null;
  try {
    process.kill(r.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const toId = (root: string, dir: string) => relative(root, dir).split(sep).join('/');

/** Run dirs under root (the root itself, or folders up to 3 levels down); symlinked folders are not followed. */
export function findRuns(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (isRun(dir)) {
      out.push(dir);
      return;
    }
    if (depth >= MAX_DEPTH) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') walk(join(dir, e.name), depth + 1);
  };
  walk(root, 0);
  return out;
}

/** Whole lines of metrics.jsonl (a torn last line is left for the next read). */
export function parseMetrics(text: string): Record<string, number>[] {
  const out: Record<string, number>[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as Record<string, number>;
      if (typeof r.step === 'number') out.push(r);
    } catch {
      // a line being written
    }
  }
  return out;
}

export function sampleSteps(dir: string): number[] {
  try {
    return readdirSync(join(dir, 'samples')).map((f) => Number(SAMPLE.exec(f)?.[1] ?? NaN)).filter(Number.isFinite).sort((a, b) => a - b);
  } catch {
    return [];
  }
}

export const sampleFile = (step: number) => `samples/step-${String(step).padStart(7, '0')}.png`;

/**
 * State from the files: failed when error.json says so, or when the run ended after logging steps
 * its newest checkpoint does not hold (a crash or a kill -9); finished when its generator is saved
 * at the last step; running while the process named in running.json lives (or, for a run of another
 * host, while its files change); stopped otherwise (Ctrl-C saves a checkpoint at the last logged
 * step, which --resume continues).
 */
export function summarize(root: string, dir: string, metrics?: Record<string, number>[], now = Date.now()): RunSummary {
  const config = readJson(join(dir, 'config.json'));
  const recs = metrics ?? (existsSync(join(dir, 'metrics.jsonl')) ? parseMetrics(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')) : []);
  const last = recs.at(-1);
  const latest = readJson(join(dir, 'latest.json'));
  const ckStep = typeof latest?.step === 'number' ? latest.step : 0;
  const steps = typeof config?.steps === 'number' ? config.steps : null;
  const step = last?.step ?? ckStep;
  const imgPerSec = typeof last?.imgPerSec === 'number' ? last.imgPerSec : null;
  const options = (config?.options ?? {}) as Record<string, unknown>;
  const perStep = (typeof config?.batchSize === 'number' ? config.batchSize : 64) * (typeof options.ndis === 'number' ? options.ndis : 1);
  const logEvery = typeof config?.logEvery === 'number' ? config.logEvery : 10;
  const updated = Math.max(mtime(join(dir, 'metrics.jsonl')), mtime(join(dir, 'config.json')), mtime(join(dir, 'latest.json')), mtime(join(dir, 'samples')), mtime(dir));
  // Quiet for three log intervals (at least 20 s: checkpoints and sample grids take time) = not running.
  const window = Math.max(20_000, imgPerSec ? (3 * 1000 * logEvery * perStep) / imgPerSec : 0);
  const error = readJson(join(dir, 'error.json'));
  const alive = trainerAlive(dir);
  let state: RunState, reason: string | null = null;
  if (error) {
    state = 'failed';
    reason = typeof error.message === 'string' ? error.message : 'error.json';
  } else if (steps !== null && ckStep >= steps && existsSync(join(dir, 'generator'))) state = 'finished';
  else if (alive === true || (alive === null && now - updated < window)) state = 'running';
  else if (step > ckStep) {
    state = 'failed';
    reason = `quiet since step ${step}, with no checkpoint after step ${ckStep} (killed or crashed)`;
  } else {
    state = 'stopped';
    reason = `checkpoint at step ${ckStep}: continue with synthset train --resume`;
  }
  const etaSeconds = state === 'running' && imgPerSec && steps !== null ? ((steps - step) * perStep) / imgPerSec : null;
  return {
    id: toId(root, dir), family: typeof config?.family === 'string' ? config.family : null, data: typeof config?.data === 'string' ? config.data : null,
    size: typeof config?.size === 'number' ? config.size : null, step, steps, imgPerSec, etaSeconds, state, reason, updated,
  };
}

/** Files of a run that the page links to: report.html and bundle folders (model.json) up to 2 levels down. */
function linked(dir: string): { reports: string[]; bundles: string[] } {
  const reports: string[] = [], bundles: string[] = [];
  const walk = (d: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const rel = relative(dir, join(d, e.name)).split(sep).join('/');
      if (e.isFile() && e.name === 'report.html') reports.push(rel);
      if (e.isFile() && e.name === 'model.json') bundles.push(rel);
      if (e.isDirectory() && depth < 2 && !/^(ckpt-|samples$|tb$|\.)/.test(e.name)) walk(join(d, e.name), depth + 1);
    }
  };
  walk(dir, 0);
  return { reports: reports.sort(), bundles: bundles.sort() };
}

/** The URL of a file of run `id` on the dashboard server. */
export const fileUrl = (id: string, rel: string) => `/files/${[...(id ? id.split('/') : []), ...rel.split('/')].map(encodeURIComponent).join('/')}`;

export function runDetail(root: string, dir: string, metrics?: Record<string, number>[]): RunDetail {
  const recs = metrics ?? (existsSync(join(dir, 'metrics.jsonl')) ? parseMetrics(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')) : []);
  const id = toId(root, dir);
  const url = (rel: string) => fileUrl(id, rel);
  const { reports, bundles } = linked(dir);
  return {
    summary: summarize(root, dir, recs),
    config: readJson(join(dir, 'config.json')),
    metrics: recs,
    samples: sampleSteps(dir).map((step) => ({ step, url: url(sampleFile(step)) })),
    gif: existsSync(join(dir, 'samples.gif')) ? url('samples.gif') : null,
    reports: reports.map(url),
    bundles: bundles.map(url),
    tensorboard: existsSync(join(dir, 'tb')),
  };
}
