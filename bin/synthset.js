#!/usr/bin/env node
// The `synthset` command. Sources are TypeScript run through tsx; V8's parallel GC threads compete
// with oneDNN's OpenMP threads on small machines, so the CLI re-executes itself once with
// --single-threaded-gc (about 20 % faster training on 2 cores). Node refuses that flag in
// NODE_OPTIONS and a `#!` line cannot pass it portably (`env -S` is not everywhere), hence the child.
// The wrapper stays a transparent stand-in for it: SIGINT/SIGTERM/SIGHUP sent to the wrapper (what
// `timeout`, systemd, Kubernetes and Slurm do) are forwarded, and the wrapper exits with the child's
// status, or 128 + signal number when the child died of a signal, as a shell would report it.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

if (!process.execArgv.includes('--single-threaded-gc') && process.env.SYNTHSET_NO_REEXEC !== '1') {
  const child = spawn(process.execPath, ['--single-threaded-gc', ...process.execArgv, fileURLToPath(import.meta.url),
    ...process.argv.slice(2)], { stdio: 'inherit' });
  // A Ctrl-C in a terminal reaches the whole process group, child included; forwarding it again is
  // harmless (the CLI treats a second SIGINT during its save as the same request).
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    });
  }
  child.on('error', (e) => {
    process.stderr.write(`synthset: error: could not start ${process.execPath}: ${e.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1));
  });
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
