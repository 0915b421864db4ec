// `npm run bench` [--json] [--quick] [--no-torch] [--no-cpu] [--no-bf16] [--profile] [--generate]. With --json the last
// stdout line is one JSON object (onednn_32, onednn_64, cpu_32, torch_32, torch_64, roof_32,
// roof_64, tensors_growth; with --generate, generate rows). --quick: fewer steps, 32 px only, no cpu
// run (what the demo shows). --generate: the generation rows only (bundle → PNG folder vs forward pass).
import { Command } from 'commander';
import { initEngine } from '../index.js';
import { runBench } from './run.js';

const opt = new Command('bench')
  .option('--json', 'print the result as one JSON object on the last line')
  .option('--quick', 'fewer steps, 32 px only, no cpu run')
  .option('--no-torch', 'skip PyTorch')
  .option('--no-cpu', 'skip the pure-JS cpu backend (minutes per step)')
  .option('--no-bf16', 'skip the bf16 rows')
  .option('--profile', 'per-kernel wall time')
  .option('--generate', 'generation throughput at 32 and 64 px instead of the training rows')
  .parse(process.argv)
  .opts<{ json?: boolean; quick?: boolean; torch: boolean; cpu: boolean; bf16: boolean; profile?: boolean; generate?: boolean }>();

if (opt.generate) {
  // io/ sits above the engine: loaded only for this row, so the engine never imports it statically.
  const { benchGenerate, generateTable } = await import(['..', '..', 'io', 'bench_generate.js'].join('/'));
  await initEngine();
  const rows = await benchGenerate(opt.quick ? [32] : [32, 64]);
  console.log(generateTable(rows));
  if (opt.json) console.log(JSON.stringify({ generate: rows }));
} else {
  const { result, table } = await runBench({ quick: opt.quick, torch: opt.torch, cpu: opt.cpu, bf16: opt.bf16, profile: opt.profile });
  console.log(table);
  if (opt.json) console.log(JSON.stringify(result));
}
