#!/usr/bin/env node
// `npm test`: typecheck, lint, then every src/**/*.test.ts twice: with the native addon and with it
// disabled (SYNTHSET_NATIVE=0), so the pure-JS fallback stays correct. Extra args go to `node --test`.
// Under CI=true a missing addon fails the run, and the native pass runs once more with
// ONEDNN_MAX_CPU_ISA=AVX2 (oneDNN then dispatches as on an AVX2-only CPU: other kernels, other
// rounding), so tests that hold only on this machine's ISA fail here rather than on a user's.
// Each pass also writes TAP to a temp file (the spec output on the terminal stays as it is) to print
// how many tests really ran: native-only tests skip when the addon is absent.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADDON, addonInfo } from './addon.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = readdirSync(join(root, 'src'), { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => relative(root, join(root, 'src', f)))
  .sort();
const extra = process.argv.slice(2);
const ci = /^(1|true|yes)$/i.test(process.env.CI ?? '');
const tapDir = mkdtempSync(join(tmpdir(), 'synthset-test-'));
let failed = false;

function step(title, cmd, argv, env = {}) {
  process.stderr.write(`\n== ${title}\n`);
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    failed = true;
    process.stderr.write(`== FAILED: ${title}\n`);
  }
}

/** The runner's closing counts (`# tests 12`, `# skipped 3`, …) from a TAP file. */
function counts(tap) {
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  // the last match: a test's own output can contain such a line, the runner's summary comes last
  const get = (k) => Number([...text.matchAll(new RegExp(`^# ${k} (\\d+)$`, 'gm'))].at(-1)?.[1] ?? NaN);
  return { tests: get('tests'), pass: get('pass'), fail: get('fail'), skipped: get('skipped') };
}

let pass = 0;
function tests(title, env) {
  const tap = join(tapDir, `pass-${++pass}.tap`);
  // A test that runs away fails on its own after 15 min rather than taking the whole CI budget with it.
  const runner = ['--single-threaded-gc', '--import', 'tsx', '--test', '--test-timeout=900000', '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...extra, ...files];
  step(title, process.execPath, runner, env);
  const c = counts(tap);
  process.stderr.write(`== ${title}: ${c.tests - c.skipped} of ${c.tests} tests ran (${c.skipped} skipped), ${c.pass} passed, ${c.fail} failed\n`);
  return c;
}

/** The ISA oneDNN dispatches to here without ONEDNN_MAX_CPU_ISA (the addon's info().isa). */
function nativeIsa() {
  const env = { ...process.env };
  delete env.ONEDNN_MAX_CPU_ISA;
  try {
    return addonInfo(env).isa ?? '';
  } catch {
    return '';
  }
}

const bin = (name) => join(root, 'node_modules', '.bin', name);
step('typecheck (tsc --noEmit)', bin('tsc'), ['--noEmit', '-p', '.']);
step('lint (eslint)', bin('eslint'), ['src', 'scripts', 'bin']);
const native = existsSync(ADDON);
if (!native && ci) {
  failed = true;
  process.stderr.write('== FAILED: CI is set and the native addon is not built (native/build/Release/synthset_onednn.node)\n');
}
const withAddon = tests(`tests with the native oneDNN addon${native ? '' : ' (not built: native tests skip)'}`, {});
const without = tests('tests with the addon disabled (SYNTHSET_NATIVE=0, pure-JS fallback)', { SYNTHSET_NATIVE: '0' });
// The AVX2 pass reproduces a CPU without AVX-512: on one (the native pass already dispatched as
// AVX2 or lower) it would repeat the native pass and double its time.
const addonIsa = native ? nativeIsa() : '';
if (ci && native && /avx512|amx/i.test(addonIsa)) {
  tests('tests with the native addon as on an AVX2-only CPU (ONEDNN_MAX_CPU_ISA=AVX2)', { ONEDNN_MAX_CPU_ISA: 'AVX2' });
} else if (ci && native) {
  process.stderr.write(`\n== no extra AVX2 pass: this CPU's oneDNN ISA is already "${addonIsa}", so the native pass ran as on an AVX2-only CPU\n`);
}
// A test that runs with the addon and skips without it is a native test.
const nativeRan = (withAddon.tests - withAddon.skipped) - (without.tests - without.skipped);
process.stderr.write(`\n== native tests: ${Math.max(0, nativeRan)} ran with the addon${native ? '' : ' (addon not built)'}\n`);
rmSync(tapDir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
