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
// It prints one line per kill and `N/20 resumed exactly`. Not a test: it takes minutes (each resume
// is a new process) and its kill moments are random by design (seeded, so a run can be repeated).
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(root, 'bin', 'synthset.js');
const { values: opt } = parseArgs({
  options: { kills: { type: 'string', default: '20' }, seed: { type: 'string', default: '1' }, keep: { type: 'boolean', default: false } },
});
const KILLS = Number(opt.kills);
// Each process is killed at most ~KILL_SPAN steps after its first new metrics line, so the run is
// still going at every kill.
const KILL_SPAN = 40;
const STEPS = 100 + (KILL_SPAN + 20) * KILLS;
const CKPT_EVERY = 3; // frequent saves, so many kills land in or near one

// mulberry32: a small seeded generator (the drill's own, so it needs nothing from src/)
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
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

  // The uninterrupted reference, in this process, keeping a copy of every checkpoint it writes.
  mkdirSync(refCkpts);
  const refCfg = resolveConfig({ flags: { data: dataDir, family: 'dcgan', size: 32, steps: STEPS, out: refDir }, file: cfgFile });
  await train(refCfg, { onCheckpoint: (e) => cpSync(e.dir, join(refCkpts, String(e.step)), { recursive: true }) });
  const ref = metricsOf(refDir);
  const refS = (Date.now() - t0) / 1000;
  const stepMs = (1000 * refS) / STEPS;
  log(`reference: ${STEPS} steps in ${refS.toFixed(0)} s (${stepMs.toFixed(0)} ms/step with saves)`);

  let exact = 0, close = 0, started = false, lastKillStep = 0;
  const rows = [];
  for (let i = 1; i <= KILLS; i++) {
    const args = started ? ['--resume', runDir, '--steps', String(STEPS)]
      : ['--data', dataDir, '--family', 'dcgan', '--size', '32', '--steps', String(STEPS), '--out', runDir, '--config', cfgFile];
    const resumedFrom = started ? JSON.parse(readFileSync(join(runDir, 'latest.json'), 'utf8')).step : 0;
    const linesBefore = metricsOf(runDir).length;
    const { child, exit } = startTrain(args);
    // Wait for training to run (a new metrics line), then kill: at a random moment, or (every third
    // kill) at the moment a checkpoint's temp dir appears, i.e. while it is being written.
    const duringSave = i % 3 === 0;
    let alive = true;
    exit.then(() => (alive = false));
    const deadline = Date.now() + 180_000;
    while (alive && Date.now() < deadline && metricsOf(runDir).length <= linesBefore) await sleep(20);
    if (!alive) throw new Error(`training exited before the kill: ${(await exit).stderr}`);
    let mode;
    if (duringSave) {
      // inotify (fs.watch) reports the temp dir's creation as it happens, without a busy poll.
      await sleep(rand() * 3 * CKPT_EVERY * stepMs);
      await new Promise((resolve) => {
        const w = watch(runDir, (_, name) => {
          if (name && /^ckpt-\d+\.tmp-/.test(String(name))) done();
        });
        const timer = setTimeout(done, 10_000);
        function done() {
          w.close();
          clearTimeout(timer);
          resolve();
        }
      });
      mode = 'in a save';
    } else {
      await sleep(rand() * KILL_SPAN * stepMs);
      mode = 'random';
    }
    child.kill('SIGKILL');
    const r = await exit;
    if (r.signal !== 'SIGKILL') throw new Error(`training ended by itself (code ${r.code}) before kill ${i}: raise STEPS. ${r.stderr}`);
    started = true;
    const temps = readdirSync(runDir).filter((d) => /\.tmp-/.test(d));
    const metrics = metricsOf(runDir);
    const reached = metrics.at(-1)?.step ?? 0;
    const latest = JSON.parse(readFileSync(join(runDir, 'latest.json'), 'utf8'));
    const ck = loadCheckpoint(runDir); // throws on an incomplete or corrupt checkpoint
    const problems = [];
    if (!ck || ck.state.step !== latest.step) problems.push(`latest.json names step ${latest.step} but the checkpoint loads as ${ck?.state.step}`);
    // Saves happen every CKPT_EVERY steps; the one being written when killed may be lost, no other.
    const lastDone = Math.floor(reached / CKPT_EVERY) * CKPT_EVERY;
    if (latest.step < lastDone - CKPT_EVERY || latest.step > reached) problems.push(`latest is step ${latest.step} though step ${reached} was trained`);
    const cmp = compareCheckpoint(join(runDir, ck.dir.split('/').at(-1)), latest.step);
    if (!cmp.ok || !cmp.exact) problems.push(`checkpoint ${latest.step}: ${cmp.why}`);
    // The losses this process logged, from its resume point on, against the reference.
    const losses = reached > resumedFrom ? compareLosses(metrics, ref, resumedFrom + 1, reached) : { ok: true, exact: true, n: 0 };
    if (!losses.ok || !losses.exact) problems.push(losses.why ?? `losses after step ${resumedFrom} differ (max relative ${losses.worst.toExponential(2)})`);
    const isExact = problems.length === 0;
    const isClose = cmp.ok && losses.ok && !isExact && !problems.some((p) => /latest|names|no /.test(p));
    if (isExact) exact++;
    else if (isClose) close++;
    const what = `kill ${String(i).padStart(2)} (${mode}${temps.length ? ', temp checkpoint left' : ''}): resumed at ${resumedFrom}, trained to ${reached}, latest ${latest.step}, ${losses.n} losses compared`;
    log(`${what}: ${isExact ? 'exact' : isClose ? `within 1e-3: ${problems.join('; ')}` : `FAILED: ${problems.join('; ')}`}`);
    rows.push({ i, mode, resumedFrom, reached, latest: latest.step, exact: isExact });
    lastKillStep = reached;
  }

  // The last resume runs to the end; the whole history must equal the reference.
  const from = JSON.parse(readFileSync(join(runDir, 'latest.json'), 'utf8')).step;
  const { exit } = startTrain(['--resume', runDir, '--steps', String(STEPS)]);
  const r = await exit;
  if (r.code !== 0) throw new Error(`the final resume failed: ${r.stderr}`);
  const all = compareLosses(metricsOf(runDir), ref, 1, STEPS);
  const final = compareCheckpoint(join(runDir, loadCheckpoint(runDir).dir.split('/').at(-1)), STEPS);
  log(`final resume from ${from} (last kill at step ${lastKillStep}) to ${STEPS}: all ${all.n} losses ${all.exact ? 'equal the reference' : `differ (max relative ${all.worst?.toExponential(2)})`}; final checkpoint ${final.exact ? 'byte-identical' : final.why}`);
  log(`${exact}/${KILLS} resumed exactly${close ? ` (${close} more within a relative 1e-3)` : ''}; ${rows.filter((x) => x.mode === 'in a save').length} kills aimed at a checkpoint write; ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  process.exitCode = exact === KILLS && all.exact && final.exact ? 0 : 1;
} finally {
  if (opt.keep) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
