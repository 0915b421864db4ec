// `synthset serve`: the local read-only dashboard over a folder of runs, until stopped.
import type { Command } from 'commander';
import { serveDashboard } from '../web/server.js';
import { parseIntArg } from './data.js';

export function registerServeCommand(program: Command): Command {
  return program.command('serve')
    .description('local read-only web dashboard over a folder of runs: live curves, sample grids, configs, reports')
    .option('--runs <dir>', 'folder of run dirs (or one run dir)', 'runs')
    .option('--port <n>', 'port (0: any free one)', parseIntArg(0), 6060)
    .option('--host <addr>', 'address to bind; anything but 127.0.0.1/localhost exposes your runs to the network', '127.0.0.1')
    .action(async (o: { runs: string; port: number; host: string }) => {
      const d = await serveDashboard({ runs: o.runs, port: o.port, host: o.host });
      console.log(`synthset: dashboard for ${o.runs} at ${d.url} (Ctrl-C to stop)`);
      await new Promise<void>((done) => {
        const stop = () => void d.close().then(done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
