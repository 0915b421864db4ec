// `npm run bench` [--json] [--quick] [--no-torch] [--no-cpu] [--no-bf16] [--profile] [--generate] [--busy] [--dp]. With --json the last
// stdout line is one JSON object (onednn_32, onednn_64, cpu_32, torch_32, torch_64, roof_32,
// roof_64, tensors_growth; with --generate, generate rows). --quick: fewer steps, 32 px only, no cpu
// run (what the demo shows). --generate: the generation rows only (bundle → PNG folder vs forward pass).
// --busy: only the shared-machine benchmark (busy.ts): speed beside a `yes` per OpenMP setting.
import { Command } from 'commander';
import { bf16Unsupported, initEngine } from '../index.js';
import { runBench } from './run.js';
import { runBusyBench } from './busy.js';

const opt = new Command('bench')
  .option('--json', 'print the result as one JSON object on the last line')
  .option('--quick', 'fewer steps, 32 px only, no cpu run')
  .option('--no-torch', 'skip PyTorch')
  .option('--no-cpu', 'skip the pure-JS cpu backend (minutes per step)')
  .option('--no-bf16', 'skip the bf16 rows')
  .option('--profile', 'per-kernel wall time')
  .option('--generate', 'generation throughput at 32 and 64 px instead of the training rows')
  .option('--busy', 'only the shared-machine benchmark: speed beside a `yes` per OpenMP setting')
  .option('--dp', 'only the cost of differentially-private training: a cgan step with and without DP-SGD')
  .parse(process.argv)
  .opts<{ json?: boolean; quick?: boolean; torch: boolean; cpu: boolean; bf16: boolean; profile?: boolean; generate?: boolean; busy?: boolean; dp?: boolean }>();

if (opt.busy) {
  const { results, table } = runBusyBench(opt.quick ? { steps: 4, rounds: 2 } : {});
  console.log(table);
  if (opt.json) console.log(JSON.stringify(Object.fromEntries(results.map((r) => [r.variant, r.ratio]))));
  process.exit(0);
}

if (opt.dp) {
  const { benchDp, dpTable } = await import(['..', '..', 'train', 'bench_dp.js'].join('/'));
  await initEngine();
  const rows = benchDp(opt.quick ? { batches: [16], steps: 2 } : { batches: [16, 64, 256], width: 32, micro: true });
  console.log(dpTable(rows));
  if (opt.json) console.log(JSON.stringify({ dp: rows }));
  process.exit(0);
}

if (opt.generate) {
  // io/ sits above the engine: loaded only for this row, so the engine never imports it statically.
  const { benchGenerate, generateTable } = await import(['..', '..', 'io', 'bench_generate.js'].join('/'));
  await initEngine();
  const rows = await benchGenerate(opt.quick ? [32] : [32, 64], 4096, { bf16: opt.bf16 && !bf16Unsupported() });
  console.log(generateTable(rows));
  if (opt.json) console.log(JSON.stringify({ generate: rows }));
} else {
  const { result, table } = await runBench({ quick: opt.quick, torch: opt.torch, cpu: opt.cpu, bf16: opt.bf16, profile: opt.profile });
  console.log(table);
  if (opt.json) console.log(JSON.stringify(result));
}
