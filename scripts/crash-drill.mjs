#!/usr/bin/env node
// The crash drill (`npm run crash-drill [-- --kills 20 --seed 1 --keep]`): a real `synthset train`
// process is killed with SIGKILL at random moments, a share of them while a checkpoint is being
// written, and resumed with `--resume` after each kill. Every resume is compared with one
// uninterrupted reference run of the same config:
//   - latest.json names a complete checkpoint that loads, and metrics.jsonl is valid JSON lines;
//   - the resume starts from the last complete checkpoint: at most the one being written is lost;
//   - that checkpoint holds the reference's loop state (step, epoch, data position, LR scale) and the
//     same bytes for every network, EMA and optimizer tensor (Adam's moments and beta powers);
//   - the losses logged after the resume equal the reference's, step by step.
// "Exactly" means byte-identical tensors and equal losses. The reference runs in this process and each
// resume in its own; they share the on-disk oneDNN kernel choices (src/engine/conv_cache.ts), so they
// compute bit-identically. Where they cannot (SYNTHSET_CONV_CACHE=0: each process times its own kernel
// per shape), last-bit differences are reported separately as "within 1e-3" (relative to each tensor's
// largest value; losses relative), with the worst tensor named.
// It prints one line per kill and `N/20 resumed exactly`. Not a test: it takes minutes (each resume
// is a new process) and its kill moments are random by design (seeded, so a run can be repeated).
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { rng } from '../src/util/random.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(root, 'bin', 'synthset.js');
const { values: opt } = parseArgs({
  options: { kills: { type: 'string', default: '20' }, seed: { type: 'string', default: '1' }, keep: { type: 'boolean', default: false } },
});
const KILLS = Number(opt.kills);
// Random kills come up to MAX_DELAY_MS after a process logs its first step; the run is set far
// longer than the kills reach, and the last resume and the reference go a few steps past the furthest.
const MAX_DELAY_MS = 5000;
const STEPS = 1_000_000;
const CKPT_EVERY = 3; // frequent saves, so many kills land in or near one

const rand = rng(Number(opt.seed));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const work = mkdtempSync(join(tmpdir(), 'synthset-crash-drill-'));
const dataDir = join(work, 'data');
const refDir = join(work, 'reference');
const refCkpts = join(work, 'reference-ckpts');
const runDir = join(work, 'drill');
const cfgFile = join(work, 'drill.yaml');
writeFileSync(cfgFile, `batchSize: 4\nzDim: 8\nsampleEvery: 100000\ncheckpointEvery: ${CKPT_EVERY}\nlogEvery: 1\ntensorCheckEvery: 50\noptions:\n  width: 4\n`);

const { makeImageFolder } = await import('../src/data/test_images.ts');
const { initEngine } = await import('../src/engine/index.ts');
const { resolveConfig, train, loadCheckpoint } = await import('../src/train/index.ts');

const metricsOf = (dir) => {
  const text = existsSync(join(dir, 'metrics.jsonl')) ? readFileSync(join(dir, 'metrics.jsonl'), 'utf8') : '';
  return text.split('\n').filter(Boolean).map((l, i) => {
    try {
      return JSON.parse(l);
    } catch {
      throw new Error(`metrics.jsonl line ${i + 1} is not JSON: ${l.slice(0, 80)}`);
    }
  });
};
const LOSS_KEYS = (rec) => Object.keys(rec).filter((k) => !['step', 'imgPerSec', 'epoch', 'seconds'].includes(k));
const STATE_KEYS = ['step', 'epoch', 'position', 'lrScale', 'rolledBack', 'dataHash'];

/** Compares checkpoint `dir` with the reference's at the same step: state fields and tensor bytes. */
function compareCheckpoint(dir, step) {
  const ref = join(refCkpts, String(step));
  if (!existsSync(ref)) return { ok: false, why: `no reference checkpoint at step ${step}` };
  const a = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
  const b = JSON.parse(readFileSync(join(ref, 'state.json'), 'utf8'));
  for (const k of STATE_KEYS) {
    if (JSON.stringify(a.state[k]) !== JSON.stringify(b.state[k])) return { ok: false, why: `state.${k} ${a.state[k]} vs reference ${b.state[k]}` };
  }
  if (JSON.stringify(a.tensors) !== JSON.stringify(b.tensors)) return { ok: false, why: 'a different tensor manifest' };
  const ta = readFileSync(join(dir, 'tensors.bin')), tb = readFileSync(join(ref, 'tensors.bin'));
  if (ta.equals(tb)) return { ok: true, exact: true };
  // Largest difference per tensor relative to that tensor's largest value (element-wise ratios blow
  // up on values near 0).
  let worst = 0, where = '';
  for (const e of a.tensors) {
    if (e.dtype !== 'float32') continue;
    const x = new Float32Array(ta.buffer.slice(ta.byteOffset + e.offset, ta.byteOffset + e.offset + e.length));
    const y = new Float32Array(tb.buffer.slice(tb.byteOffset + e.offset, tb.byteOffset + e.offset + e.length));
    let diff = 0, scale = 1e-30;
    for (let i = 0; i < x.length; i++) {
      diff = Math.max(diff, Math.abs(x[i] - y[i]));
      scale = Math.max(scale, Math.abs(y[i]));
    }
    if (diff / scale > worst) [worst, where] = [diff / scale, e.key];
  }
  return { ok: worst < 1e-3, exact: false, why: `tensors differ (max relative ${worst.toExponential(2)} in ${where})` };
}

/** Compares the losses logged at steps from..to with the reference's. */
function compareLosses(drill, ref, from, to) {
  let worst = 0, n = 0;
  for (let s = from; s <= to; s++) {
    const a = drill.find((r) => r.step === s), b = ref.find((r) => r.step === s);
    if (!a || !b) return { ok: false, n, why: `no metrics line for step ${s}` };
    for (const k of LOSS_KEYS(b)) {
      if (a[k] !== b[k]) worst = Math.max(worst, Math.abs(a[k] - b[k]) / (Math.abs(b[k]) + 1e-6));
    }
    n++;
  }
  return { ok: worst < 1e-3, exact: worst === 0, n, worst };
}

function startTrain(args) {
  // --single-threaded-gc on the command line: bin/synthset.js does not re-execute, so the pid we
  // kill is the training process itself.
  const child = spawn(process.execPath, ['--single-threaded-gc', BIN, 'train', ...args, '--quiet'], {
    cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exit = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal, stderr })));
  return { child, exit };
}

const t0 = Date.now();
const log = (s) => process.stdout.write(`${s}\n`);
try {
  await makeImageFolder(dataDir, ['a', 'b', 'c'], [12, 12, 12]);
  await initEngine();
  log(`crash drill: dcgan 32 px (width 4, batch 4), checkpoint every ${CKPT_EVERY} steps, ${KILLS} kills (SIGKILL), seed ${opt.seed}; in ${work}`);

  // The drill: the run is killed KILLS times and resumed after each kill. What each kill left (the
  // checkpoint latest.json names, the metrics lines) is kept, to compare with the reference later.
  const snaps = join(work, 'drill-ckpts');
  mkdirSync(snaps);
  const kills = [];
  for (let i = 1; i <= KILLS; i++) {
    const started = i > 1;
    const args = started ? ['--resume', runDir, '--steps', String(STEPS)]
      : ['--data', dataDir, '--family', 'dcgan', '--size', '32', '--steps', String(STEPS), '--out', runDir, '--config', cfgFile];
    const resumedFrom = started ? JSON.parse(readFileSync(join(runDir, 'latest.json'), 'utf8')).step : 0;
    const linesBefore = metricsOf(runDir).length;
    const { child, exit } = startTrain(args);
    // Wait for training to run (a new metrics line), then kill: at a random moment, or (every third
    // kill) the moment a checkpoint's temp dir appears, i.e. while it is being written.
    const duringSave = i % 3 === 0;
    let alive = true;
    exit.then(() => (alive = false));
    const deadline = Date.now() + 300_000;
    while (alive && Date.now() < deadline && metricsOf(runDir).length <= linesBefore) await sleep(20);
    if (!alive) throw new Error(`training exited before the kill: ${(await exit).stderr}`);
    let mode;
    if (duringSave) {
      await sleep(rand() * 1000);
      // inotify (fs.watch) reports the temp dir's creation as it happens, without a busy poll.
      await new Promise((resolve) => {
        const w = watch(runDir, (_, name) => {
          if (name && /^ckpt-\d+\.tmp-/.test(String(name))) done();
        });
        const timer = setTimeout(done, 30_000);
        function done() {
          w.close();
          clearTimeout(timer);
          resolve();
        }
      });
      mode = 'in a save';
    } else {
      await sleep(rand() * MAX_DELAY_MS);
      mode = 'random';
    }
    child.kill('SIGKILL');
    const r = await exit;
    if (r.signal !== 'SIGKILL') throw new Error(`training ended by itself (code ${r.code}) before kill ${i}. ${r.stderr}`);
    const temps = readdirSync(runDir).filter((d) => /\.tmp-/.test(d));
    const metrics = metricsOf(runDir); // throws on a line that is not JSON
    const reached = metrics.at(-1)?.step ?? 0;
    const problems = [];
    let latest = { step: -1 };
    try {
      latest = JSON.parse(readFileSync(join(runDir, 'latest.json'), 'utf8'));
      const ck = loadCheckpoint(runDir); // throws on an incomplete or corrupt checkpoint
      if (!ck || ck.state.step !== latest.step) problems.push(`latest.json names step ${latest.step} but the checkpoint loads as ${ck?.state.step}`);
      cpSync(ck.dir, join(snaps, String(i)), { recursive: true });
    } catch (e) {
      problems.push(`no valid checkpoint: ${e.message}`);
    }
    // Saves happen every CKPT_EVERY steps; the one being written when killed may be lost, no other.
    const lastDone = Math.floor(reached / CKPT_EVERY) * CKPT_EVERY;
    if (latest.step < lastDone - CKPT_EVERY || latest.step > reached) problems.push(`latest is step ${latest.step} though step ${reached} was trained`);
    kills.push({ i, mode, temps: temps.length, resumedFrom, reached, latest: latest.step, metrics, problems });
    log(`kill ${String(i).padStart(2)} (${mode}${temps.length ? ', a temp checkpoint left behind' : ''}): resumed at ${resumedFrom}, trained to ${reached}, latest.json at ${latest.step}${problems.length ? `: ${problems.join('; ')}` : ''}`);
  }

  // The last resume runs to a few steps past the furthest kill.
  const target = Math.max(...kills.map((k) => k.reached)) + CKPT_EVERY;
  const from = JSON.parse(readFileSync(join(runDir, 'latest.json'), 'utf8')).step;
  const { exit } = startTrain(['--resume', runDir, '--steps', String(target)]);
  const r = await exit;
  if (r.code !== 0) throw new Error(`the final resume failed: ${r.stderr}`);

  // The uninterrupted reference, in this process, to the same step, keeping every checkpoint it writes.
  const tRef = Date.now();
  mkdirSync(refCkpts);
  const refCfg = resolveConfig({ flags: { data: dataDir, family: 'dcgan', size: 32, steps: target, out: refDir }, file: cfgFile });
  await train(refCfg, { onCheckpoint: (e) => cpSync(e.dir, join(refCkpts, String(e.step)), { recursive: true }) });
  const ref = metricsOf(refDir);
  log(`reference: ${target} steps uninterrupted in ${((Date.now() - tRef) / 1000).toFixed(0)} s`);

  let exact = 0, close = 0;
  for (const k of kills) {
    const problems = [...k.problems];
    const cmp = k.latest >= 0 ? compareCheckpoint(join(snaps, String(k.i)), k.latest) : { ok: false, why: 'no checkpoint' };
    if (!cmp.exact) problems.push(`checkpoint ${k.latest}: ${cmp.why}`);
    // The losses this process logged, from its resume point on, against the reference.
    const losses = k.reached > k.resumedFrom ? compareLosses(k.metrics, ref, k.resumedFrom + 1, k.reached) : { ok: true, exact: true, n: 0 };
    if (!losses.exact) problems.push(losses.why ?? `losses after step ${k.resumedFrom} differ (max relative ${losses.worst.toExponential(2)})`);
    const isExact = problems.length === 0;
    const isClose = !isExact && k.problems.length === 0 && cmp.ok && losses.ok;
    if (isExact) exact++;
    else if (isClose) close++;
    log(`kill ${String(k.i).padStart(2)}: checkpoint ${k.latest} ${cmp.exact ? 'byte-identical to the reference' : 'differs'}, ${losses.n} losses after the resume ${losses.exact ? 'equal' : 'differ'}: ${isExact ? 'exact' : isClose ? `within 1e-3 (${problems.join('; ')})` : `FAILED (${problems.join('; ')})`}`);
  }
  const all = compareLosses(metricsOf(runDir), ref, 1, target);
  const final = compareCheckpoint(join(runDir, loadCheckpoint(runDir).dir.split('/').at(-1)), target);
  log(`final resume from ${from} to ${target}: all ${all.n} losses in metrics.jsonl ${all.exact ? 'equal the reference' : `differ (max relative ${all.worst?.toExponential(2)})`}; final checkpoint ${final.exact ? 'byte-identical' : final.why}`);
  log(`${exact}/${KILLS} resumed exactly${close ? ` (${close} more within a relative 1e-3)` : ''}; ${kills.filter((x) => x.mode === 'in a save').length} kills aimed at a checkpoint write (${kills.filter((x) => x.temps).length} left a temp dir); ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  process.exitCode = exact === KILLS && all.exact && final.exact ? 0 : 1;
} finally {
  if (opt.keep) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
