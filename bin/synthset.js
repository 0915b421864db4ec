#!/usr/bin/env node
// The `synthset` command. Sources are TypeScript run through tsx; V8's parallel GC threads compete
// with oneDNN's OpenMP threads on small machines, so the CLI re-executes itself once with
// --single-threaded-gc (about 20 % faster training on 2 cores).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

if (!process.execArgv.includes('--single-threaded-gc') && process.env.SYNTHSET_NO_REEXEC !== '1') {
  const r = spawnSync(process.execPath, ['--single-threaded-gc', ...process.execArgv, fileURLToPath(import.meta.url),
    ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? (r.signal ? 1 : 0));
}
const { register } = await import('tsx/esm/api');
register();
await import('../src/cli/main.ts');
