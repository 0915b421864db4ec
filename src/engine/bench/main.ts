// `npm run bench` [--json] [--quick] [--no-torch] [--no-cpu] [--no-bf16] [--profile] [--busy]. With --json the last
// stdout line is one JSON object (onednn_32, onednn_64, cpu_32, torch_32, torch_64, roof_32,
// roof_64, tensors_growth). --quick: fewer steps, 32 px only, no cpu run (what the demo shows).
// --busy: only the shared-machine benchmark (busy.ts): speed beside a `yes` per OpenMP setting.
import { parseArgs } from 'node:util';
import { runBench } from './run.js';
import { runBusyBench } from './busy.js';

const { values: opt } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    'no-torch': { type: 'boolean', default: false },
    'no-cpu': { type: 'boolean', default: false },
    'no-bf16': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    busy: { type: 'boolean', default: false },
  },
});

if (opt.busy) {
  const { results, table } = runBusyBench(opt.quick ? { steps: 4, rounds: 2 } : {});
  console.log(table);
  if (opt.json) console.log(JSON.stringify(Object.fromEntries(results.map((r) => [r.variant, r.ratio]))));
  process.exit(0);
}

const { result, table } = await runBench({
  quick: opt.quick, torch: !opt['no-torch'], cpu: !opt['no-cpu'], bf16: !opt['no-bf16'], profile: opt.profile,
});
console.log(table);
if (opt.json) console.log(JSON.stringify(result));
