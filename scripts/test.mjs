#!/usr/bin/env node
// `npm test`: typecheck, lint, then every src/**/*.test.ts twice: with the native addon and with it
// disabled (SYNTHSET_NATIVE=0), so the pure-JS fallback stays correct. Extra args go to `node --test`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = readdirSync(join(root, 'src'), { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => relative(root, join(root, 'src', f)))
  .sort();
const extra = process.argv.slice(2);
let failed = false;

function step(title, cmd, argv, env = {}) {
  process.stderr.write(`\n== ${title}\n`);
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    failed = true;
    process.stderr.write(`== FAILED: ${title}\n`);
  }
}

const bin = (name) => join(root, 'node_modules', '.bin', name);
step('typecheck (tsc --noEmit)', bin('tsc'), ['--noEmit', '-p', '.']);
step('lint (eslint)', bin('eslint'), ['src', 'scripts', 'bin']);
const runner = [ '--single-threaded-gc', '--import', 'tsx', '--test', '--test-reporter=spec', ...extra, ...files];
const native = existsSync(join(root, 'native', 'build', 'Release', 'synthset_onednn.node'));
step(`tests with the native oneDNN addon${native ? '' : ' (not built: native tests skip)'}`, process.execPath, runner);
step('tests with the addon disabled (SYNTHSET_NATIVE=0, pure-JS fallback)', process.execPath, runner, { SYNTHSET_NATIVE: '0' });
process.exit(failed ? 1 : 0);
