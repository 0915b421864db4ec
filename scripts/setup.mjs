#!/usr/bin/env node
// First-use setup behind `npm run demo`, `npm test` and `npm run bench`: system packages (apt, when
// root), `npm ci`, and the native oneDNN addon. Idempotent and quick when everything is in place.
// Where a step cannot be done it says what to run, and synthset falls back to the pure-JS backend
// (except under CI=true, where a native addon that cannot be built fails with exit code 1).
// Flags: --force (rebuild the addon), --native-only (skip apt and npm), --bench (also python3-torch),
// --browser (also Debian's chromium, for the browser tests of `npm test`).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADDON as addon, addonInfo } from './addon.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const say = (msg) => process.stderr.write(`[setup] ${msg}\n`);
const isRoot = process.getuid?.() === 0;
// In CI a missing native engine is a failure, not a fallback: the native tests would skip and pass.
const ci = /^(1|true|yes)$/i.test(process.env.CI ?? '');
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

function checkNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) {
    say(`Node ${process.versions.node} is too old: synthset needs Node 20 or newer.`);
    process.exit(1);
  }
}

// What the native build needs, as Debian packages.
function missingPackages(bench, browser = false) {
  const need = [];
  if (!existsSync('/usr/include/oneapi/dnnl/dnnl.hpp')) need.push('libdnnl-dev');
  if (!has('g++')) need.push('g++');
  if (!has('make')) need.push('make');
  if (!has('python3')) need.push('python3');
  if (bench && spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) need.push('python3-torch');
  if (browser && !existsSync('/usr/bin/chromium')) need.push('chromium');
  return need;
}

function installSystem(bench, browser) {
  const need = missingPackages(bench, browser);
  if (need.length === 0) return;
  if (!isRoot || !has('apt-get')) {
    say(`Missing system packages: ${need.join(' ')}.`);
    say(`Install them with: sudo apt-get install -y ${need.join(' ')}   (then run this command again)`);
    return;
  }
  say(`Installing system packages: ${need.join(' ')} (apt-get)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...need], { stdio: 'inherit', env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...need], { stdio: 'inherit', env });
  }
  if (r.status !== 0) say(`apt-get could not install ${need.join(' ')}; continuing without them.`);
}

function installNodeModules() {
  const lock = join(root, 'package-lock.json');
  const stamp = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= statSync(lock).mtimeMs) return;
  say('Installing npm dependencies (npm ci)…');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    say('npm ci failed: check your network or npm registry settings, then run `npm ci` yourself.');
    process.exit(1);
  }
}

function newestSource() {
  const dir = join(root, 'native', 'src');
  return Math.max(statSync(join(root, 'native', 'binding.gyp')).mtimeMs,
    ...readdirSync(dir).map((f) => statSync(join(dir, f)).mtimeMs));
}

function failInCi() {
  say('CI is set: failing, because without the addon the native tests would only skip.');
  process.exit(1);
}

function buildNative() {
  if (!args.has('--force') && existsSync(addon) && statSync(addon).mtimeMs >= newestSource()) return;
  if (missingPackages(false).length > 0) {
    say('Skipping the native oneDNN build (packages above are missing): synthset will use the slow pure-JS backend.');
    if (ci) failInCi();
    return;
  }
  say('Building the native oneDNN addon (node-gyp, ~1 min)…');
  const gyp = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  // Build against the installed Node headers: node-gyp would otherwise download them.
  const nodedir = ['/usr', join(dirname(process.execPath), '..')].find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')));
  const gypArgs = [gyp, 'rebuild', '--directory', join(root, 'native'), '-j', 'max', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
  const r = spawnSync(process.execPath, gypArgs, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(addon)) {
    say(`The native build failed:\n${(r.stderr ?? '').split('\n').filter((l) => /error/i.test(l)).slice(0, 12).join('\n')}`);
    say('synthset will use the slow pure-JS backend. Fix the error above, then run `npm run build:native`.');
    if (ci) failInCi();
    return;
  }
  say(`Native addon ready: ${JSON.stringify(addonInfo())}`);
}

checkNode();
if (!args.has('--native-only')) {
  installSystem(args.has('--bench'), args.has('--browser'));
  installNodeModules();
}
buildNative();
