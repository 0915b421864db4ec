// The engine benchmark: trains the benchmark DCGAN for a few steps per engine in one process and
// reports img/s with ratios (onednn vs the pure-JS cpu backend, Debian PyTorch, the conv-only roof).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine, loadNative } from '../index.js';
import { BenchDcgan } from './dcgan.js';

const BATCH = 64;

interface Run { imgS: number; msStep: number; roof: number | null; growth: number }

async function runTfjs(backend: string, size: 32 | 64, warmup: number, steps: number, bf16 = false): Promise<Run> {
  await tf.setBackend(backend);
  const native = backend === 'onednn' ? loadNative() : null;
  native?.setBf16(bf16);
  const model = new BenchDcgan({ size, batch: BATCH, zDim: 100, seed: 1 });
  for (let i = 0; i < warmup; i++) model.step();
  native?.stats(true);
  const before = tf.memory().numTensors;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const [ld, lg] = model.step();
    if (!Number.isFinite(ld) || !Number.isFinite(lg)) throw new Error(`${backend} ${size}px: loss is not finite`);
  }
  const msStep = (performance.now() - t0) / steps;
  const growth = tf.memory().numTensors - before;
  const convMs = native ? native.stats(true).convMs / steps : 0;
  model.dispose();
  native?.setBf16(false);
  return { imgS: (BATCH * 1000) / msStep, msStep, roof: native ? (BATCH * 1000) / convMs : null, growth };
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

export interface BenchOptions { quick?: boolean; torch?: boolean; cpu?: boolean; bf16?: boolean; log?: (line: string) => void }

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
  const steps = opts.quick ? { w: 2, s32: 5, s64: 2 } : { w: 3, s32: 20, s64: 6 };
  const res: Record<string, number | null> = {};
  const rows: [string, string, string, string][] = [];
  let growth = 0;

  for (const size of opts.quick ? [32] as const : [32, 64] as const) {
    log(`onednn ${size}px: ${steps.w} warm-up + ${size === 32 ? steps.s32 : steps.s64} steps…`);
    const r = await runTfjs('onednn', size, steps.w, size === 32 ? steps.s32 : steps.s64);
    res[`onednn_${size}`] = r.imgS;
    res[`roof_${size}`] = r.roof;
    growth += r.growth;
    rows.push([`onednn ${size}px (fp32)`, fmt(r.imgS), fmt(r.msStep), `${fmt((100 * r.imgS) / r.roof!, 0)} % of roof`]);
    rows.push([`conv-only roof ${size}px`, fmt(r.roof), fmt((BATCH * 1000) / r.roof!), 'oneDNN conv primitives of one step']);
    if (!opts.bf16 === false) {
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

  const head: [string, string, string, string] = ['engine', 'img/s', 'ms/step', 'ratio'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 || i === 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const table = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line),
    `tensor count change over measured steps: ${growth}`].join('\n');
  return { result: res, table };
}
