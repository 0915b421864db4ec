// The engine benchmark: trains the benchmark DCGAN for a few steps per engine in one process and
// reports img/s with ratios (onednn vs the pure-JS cpu backend, Debian PyTorch, the conv-only roof).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { bf16Unsupported, initEngine, loadNative } from '../index.js';
import { BenchDcgan } from './dcgan.js';
import { kernelProfile, setKernelProfiling } from '../register.js';

const BATCH = 64;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Run { imgS: number; msStep: number; roof: number | null; growth: number; convGflops: number }

async function runTfjs(backend: string, size: 32 | 64, warmup: number, steps: number, bf16 = false): Promise<Run> {
  await tf.setBackend(backend);
  const native = backend === 'onednn' ? loadNative() : null;
  native?.setBf16(bf16);
  const model = new BenchDcgan({ size, batch: BATCH, zDim: 100, seed: 1 });
  for (let i = 0; i < warmup; i++) model.step();
  native?.stats(true);
  const before = tf.memory().numTensors;
  const stepMs: number[] = [], convMs: number[] = [];
  let flops = 0;
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const [ld, lg] = model.step();
    stepMs.push(performance.now() - t0);
    if (native) {
      const st = native.stats(true);
      convMs.push(st.convMs);
      flops = st.convFlops;
    }
    if (!Number.isFinite(ld) || !Number.isFinite(lg)) throw new Error(`${backend} ${size}px: loss is not finite`);
  }
  const growth = tf.memory().numTensors - before;
  model.dispose();
  native?.setBf16(false);
  // Medians: this kind of shared machine has bursts of slow steps from other tenants.
  const msStep = median(stepMs);
  const roofMs = native ? median(convMs) : 0;
  return { imgS: (BATCH * 1000) / msStep, msStep, roof: native ? (BATCH * 1000) / roofMs : null, growth,
    convGflops: native ? flops / 1e6 / roofMs : 0 };
}

function runTorch(size: number, warmup: number, steps: number): { imgS: number; msStep: number } | string {
  const py = '/usr/bin/python3';
  const probe = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return `skipped: ${py} cannot import torch (apt-get install python3-torch)`;
  const script = fileURLToPath(new URL('./torch_dcgan.py', import.meta.url));
  const r = spawnSync(py, [script, String(size), String(warmup), String(steps)], { encoding: 'utf8' });
  if (r.status !== 0) return `failed: ${r.stderr.trim().split('\n').at(-1)}`;
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { img_s: number; ms_step: number };
  return { imgS: out.img_s, msStep: out.ms_step };
}

const fmt = (v: number | null | undefined, d = 1) => (v == null ? '—' : v.toFixed(d));

export interface BenchOptions {
  quick?: boolean; torch?: boolean; cpu?: boolean; bf16?: boolean; profile?: boolean; log?: (line: string) => void;
}

export interface BenchReport {
  /** img/s per configuration (null where skipped) and tensors_growth: the keys of `--json`. */
  result: Record<string, number | null>;
  /** The printable table. */
  table: string;
}

/** Runs the engine benchmark in this process. */
export async function runBench(opts: BenchOptions = {}): Promise<BenchReport> {
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const engine = await initEngine();
  const native = loadNative();
  if (engine.backend !== 'onednn' || !native) {
    throw new Error(`The onednn backend is not available (${engine.note}); run \`npm run build:native\` first.`);
  }
  const info = native.info();
  log(`synthset bench: oneDNN ${info.onednn}, ${info.threads} threads, ${info.isa}; DCGAN batch ${BATCH}, BCE, Adam 2e-4/0.5`);
  // oneDNN emulates bf16 without AVX512-BF16/AMX, many times slower than fp32: such a row would take
  // tens of minutes and mean nothing, so it is skipped with the reason.
  const noBf16 = bf16Unsupported();
  const peak = sgemmPeak();
  const steps = opts.quick ? { w: 2, s32: 5, s64: 2 } : { w: 3, s32: 20, s64: 6 };
  const res: Record<string, number | null> = { sgemm_gflops: peak };
  const rows: [string, string, string, string][] = [];
  let growth = 0;

  for (const size of opts.quick ? [32] as const : [32, 64] as const) {
    log(`onednn ${size}px: ${steps.w} warm-up + ${size === 32 ? steps.s32 : steps.s64} steps…`);
    const r = await runTfjs('onednn', size, steps.w, size === 32 ? steps.s32 : steps.s64);
    res[`onednn_${size}`] = r.imgS;
    res[`roof_${size}`] = r.roof;
    growth += r.growth;
    rows.push([`onednn ${size}px (fp32)`, fmt(r.imgS), fmt(r.msStep), `${fmt((100 * r.imgS) / r.roof!, 0)} % of roof`]);
    rows.push([`conv-only roof ${size}px`, fmt(r.roof), fmt((BATCH * 1000) / r.roof!),
      `conv primitives alone: ${fmt(r.convGflops, 0)} GFLOP/s (sgemm peak ${fmt(peak, 0)})`]);
    if (opts.bf16 !== false && noBf16) {
      res[`onednn_${size}_bf16`] = null;
      rows.push([`onednn ${size}px (bf16, opt-in)`, '—', '—', `skipped: ${noBf16}`]);
      if (size === 32) log(`skipping the bf16 rows: ${noBf16}`);
    } else if (opts.bf16 !== false) {
      log(`onednn ${size}px bf16…`);
      const b = await runTfjs('onednn', size, steps.w, size === 32 ? steps.s32 : steps.s64, true);
      res[`onednn_${size}_bf16`] = b.imgS;
      growth += b.growth;
      rows.push([`onednn ${size}px (bf16, opt-in)`, fmt(b.imgS), fmt(b.msStep), `${fmt(b.imgS / r.imgS, 2)}× fp32`]);
    }
  }
  if (opts.quick) res.onednn_64 = res.roof_64 = null;

  if (opts.quick || opts.cpu === false) {
    res.cpu_32 = null;
    rows.push(['tfjs cpu 32px', '—', '—', 'skipped (--quick/--no-cpu)']);
  } else {
    log('tfjs cpu backend 32px: 1 step (minutes)…');
    const c = await runTfjs('cpu', 32, 0, 1);
    res.cpu_32 = c.imgS;
    rows.push(['tfjs cpu 32px', fmt(c.imgS, 2), fmt(c.msStep, 0), `onednn is ${fmt(res.onednn_32! / c.imgS, 0)}× faster`]);
  }
  await tf.setBackend('onednn');

  for (const size of [32, 64]) {
    if (opts.torch === false || (opts.quick && size === 64)) {
      res[`torch_${size}`] = null;
      rows.push([`PyTorch ${size}px`, '—', '—', 'skipped']);
      continue;
    }
    log(`PyTorch ${size}px…`);
    const t = runTorch(size, size === 32 ? 2 : 1, size === 32 ? 5 : 2);
    if (typeof t === 'string') {
      res[`torch_${size}`] = null;
      rows.push([`PyTorch ${size}px`, '—', '—', t]);
    } else {
      res[`torch_${size}`] = t.imgS;
      const ours = res[`onednn_${size}`];
      rows.push([`PyTorch ${size}px (Debian)`, fmt(t.imgS), fmt(t.msStep, 0), ours ? `onednn is ${fmt(ours / t.imgS, 1)}× faster` : '']);
    }
  }
  res.tensors_growth = growth;
  const profile = opts.profile ? await profileStep(5) : '';

  const head: [string, string, string, string] = ['engine', 'img/s', 'ms/step', 'ratio'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 || i === 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const table = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line),
    `tensor count change over measured steps: ${growth}`, profile].join('\n');
  return { result: res, table };
}

/** Where one onednn 32 px step goes: the top kernels, and the rest (tfjs engine, tape, JS). */
async function profileStep(steps: number): Promise<string> {
  await tf.setBackend('onednn');
  const model = new BenchDcgan({ size: 32, batch: BATCH, zDim: 100, seed: 1 });
  for (let i = 0; i < 3; i++) model.step();
  kernelProfile.clear();
  setKernelProfiling(true);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) model.step();
  const stepMs = (performance.now() - t0) / steps;
  setKernelProfiling(false);
  model.dispose();
  const rows = [...kernelProfile].map(([k, v]) => [k, v.ms / steps, v.calls / steps] as const).sort((a, b) => b[1] - a[1]);
  const kernelsMs = rows.reduce((a, r) => a + r[1], 0);
  const out = [`\nprofile of one onednn 32px fp32 step: ${stepMs.toFixed(1)} ms (${(BATCH * 1000 / stepMs).toFixed(0)} img/s, profiling on)`,
    `${'kernel'.padEnd(26)} ${'ms/step'.padStart(8)} ${'calls'.padStart(6)} ${'share'.padStart(6)}`];
  for (const [k, ms, calls] of rows.slice(0, 16)) {
    out.push(`${k.padEnd(26)} ${ms.toFixed(2).padStart(8)} ${calls.toFixed(0).padStart(6)} ${(100 * ms / stepMs).toFixed(1).padStart(5)}%`);
  }
  const rest = rows.slice(16).reduce((a, r) => a + r[1], 0);
  out.push(`${'(other kernels)'.padEnd(26)} ${rest.toFixed(2).padStart(8)}`);
  out.push(`${'(engine, tape, JS)'.padEnd(26)} ${(stepMs - kernelsMs).toFixed(2).padStart(8)} ${''.padStart(6)} ${(100 * (stepMs - kernelsMs) / stepMs).toFixed(1).padStart(5)}%`);
  return out.join('\n');
}

/** The machine's practical fp32 peak: a 2048^3 oneDNN sgemm, median of 5. */
function sgemmPeak(): number {
  const native = loadNative()!;
  const n = 2048, a = new Float32Array(n * n).fill(0.01), b = new Float32Array(n * n).fill(0.02), c = new Float32Array(n * n);
  const ms: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    native.matmul(a, b, c, [1, 1, n, n, n, 0, 0], null, 0, 0);
    if (i >= 2) ms.push(performance.now() - t0);
  }
  return (2 * n ** 3) / 1e6 / median(ms);
}
