// The synthset command line: parses arguments, calls the core, shows what it reports.
import { Command, Option } from 'commander';
import { initEngine, loadNative, nativeStatus } from '../engine/index.js';
import { runBench } from '../engine/bench/run.js';
import { registerCocoCommand } from './coco.js';
import { registerDataCommands } from './data.js';
import { printError } from './errors.js';
import { registerDemoCommand } from './demo.js';
import { registerEvalCommand } from './eval.js';
import { registerExportCommand } from './export.js';
import { registerGenerateCommand } from './generate.js';
import { registerServeCommand } from './serve.js';
import { registerSsimCommands } from './ssim.js';
import { registerTrainCommand } from './train.js';
import { registerTranslateCommand } from './translate.js';

const program = new Command('synthset')
  .description('Turn a small, sensitive, labelled image collection into a shareable synthetic one with GANs.')
  .addOption(new Option('--backend <name>', 'compute backend (env: SYNTHSET_BACKEND)').choices(['auto', 'onednn', 'cpu']))
  .option('--bf16', 'bf16 convolutions on the onednn backend (faster, slightly less precise)')
  .option('--debug', 'show stack traces on errors')
  .configureHelp({ showGlobalOptions: true })
  .showHelpAfterError();

async function engine() {
  const o = program.opts<{ backend?: 'auto' | 'onednn' | 'cpu'; bf16?: boolean }>();
  const info = await initEngine({ backend: o.backend, bf16: o.bf16 });
  process.stderr.write(`synthset: backend ${info.backend} (${info.note})${info.bf16 ? ', bf16' : ''}\n`);
  return info;
}

program.command('info')
  .description('show the compute backend and the native addon status')
  .action(async () => {
    const info = await engine();
    const native = loadNative();
    console.log(JSON.stringify({ ...info, addon: nativeStatus(), native: native?.info() ?? null }, null, 2));
  });

program.command('bench')
  .description('engine benchmark: DCGAN training img/s on onednn, cpu and PyTorch, with the conv-only roof')
  .option('--json', 'print the result as one JSON object on the last line')
  .option('--quick', 'fewer steps, 32 px only, no cpu run')
  .option('--no-torch', 'skip PyTorch')
  .option('--no-cpu', 'skip the pure-JS cpu backend (minutes per step)')
  .option('--no-bf16', 'skip the bf16 rows')
  .action(async (o: { json?: boolean; quick?: boolean; torch: boolean; cpu: boolean; bf16: boolean }) => {
    await engine();
    const { result, table } = await runBench(o);
    console.log(table);
    if (o.json) console.log(JSON.stringify(result));
  });

registerDataCommands(program, engine);
registerTrainCommand(program, engine);
registerEvalCommand(program, engine);
registerDemoCommand(program, engine);
registerSsimCommands(program, engine);
registerExportCommand(program, engine);
registerGenerateCommand(program, engine);
registerTranslateCommand(program, engine);
registerServeCommand(program);
registerCocoCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Options may not be parsed when the failure comes early, hence the argv check.
  printError(err, !!program.opts().debug || process.argv.includes('--debug'));
  process.exitCode = 1;
}
