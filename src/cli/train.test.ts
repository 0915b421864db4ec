// The `synthset train` contract end to end, through the real binary.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../data/test_images.js';
import { tinyData } from '../train/test_helpers.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'synthset.js');
const ENV = { ...process.env, SYNTHSET_NO_REEXEC: '1' };
let data: { dir: string; done: () => void };
const runs = tempDir('synthset-cli-train-');
let cfgFile = '';

before(async () => {
  data = await tinyData();
  cfgFile = join(runs.dir, 'tiny.yaml');
  writeFileSync(cfgFile, 'batchSize: 4\nzDim: 8\nsampleEvery: 2\ncheckpointEvery: 2\nsampleCols: 4\noptions:\n  width: 4\n');
});
after(() => {
  data.done();
  runs.done();
});

const run = (args: string[]) => spawnSync(process.execPath, [BIN, 'train', ...args], { env: ENV, encoding: 'utf8' });
const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number });

test('train, then --resume to a new total: metrics.jsonl has one line per step, the last one the last step', () => {
  const out = join(runs.dir, 'run');
  const r = run(['--data', data.dir, '--family', 'dcgan', '--size', '32', '--steps', '3', '--out', out, '--config', cfgFile, '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(lines(join(out, 'metrics.jsonl')).map((x) => x.step), [1, 2, 3]);
  assert.ok(existsSync(join(out, 'samples.gif')) && existsSync(join(out, 'config.json')));
  const r2 = run(['--resume', out, '--steps', '5', '--quiet']);
  assert.equal(r2.status, 0, r2.stderr);
  const m = lines(join(out, 'metrics.jsonl'));
  assert.deepEqual(m.map((x) => x.step), [1, 2, 3, 4, 5]);
  assert.equal(typeof m.at(-1)?.step, 'number');
});

test('errors are one readable line with exit code 1', () => {
  const bad = join(runs.dir, 'bad.yaml');
  writeFileSync(bad, 'batchSize: 4\nbatchsize: 8\n');
  const r = run(['--data', data.dir, '--family', 'dcgan', '--size', '32', '--steps', '2', '--out', join(runs.dir, 'x'), '--config', bad]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^synthset: error: config \(.*bad\.yaml and flags\): unknown key "batchsize"/m);
  assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('synthset: error')).length, 1);
  const r2 = run(['--data', data.dir, '--family', 'dcgan', '--size', '32', '--steps', '2', '--out', join(runs.dir, 'y'), '--set', 'lrq=1']);
  assert.equal(r2.status, 1);
  assert.match(r2.stderr, /synthset: error: Unknown option "lrq" for family dcgan/);
  const r3 = run(['--data', data.dir, '--family', 'nogan', '--size', '32', '--steps', '2', '--out', join(runs.dir, 'z')]);
  assert.match(r3.stderr, /synthset: error: Unknown GAN family "nogan": use one of .*dcgan/);
});

test('SIGINT stops after the current step with a checkpoint that --resume continues', async () => {
  const out = join(runs.dir, 'sigint');
  const child = spawn(process.execPath, [BIN, 'train', '--data', data.dir, '--family', 'dcgan', '--size', '32', '--steps', '100000',
    '--out', out, '--config', cfgFile, '--set', 'logEvery=1', '--quiet'], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const metrics = join(out, 'metrics.jsonl');
  const deadline = Date.now() + 20_000;
  while (!(existsSync(metrics) && readFileSync(metrics, 'utf8').split('\n').length > 3) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  assert.equal(code, 130);
  assert.match(stdout, /stopped by SIGINT at step \d+; checkpoint saved/);
  const last = lines(metrics).at(-1)!.step;
  const latest = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as { step: number };
  assert.equal(latest.step, last, 'the checkpoint is of the last step logged');
  const r = run(['--resume', out, '--steps', String(last + 1), '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(lines(metrics).at(-1)?.step, last + 1);
});

// What `timeout`, systemd, Kubernetes and Slurm do: SIGTERM to the command they started, i.e. the
// re-executing wrapper bin/synthset.js, not to the training process behind it.
test('SIGTERM to the outer synthset process reaches training: checkpoint, exit 143, no orphan', { timeout: 120_000 }, async () => {
  const out = join(runs.dir, 'sigterm-outer');
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.SYNTHSET_NO_REEXEC;
  const wrapper = spawn(process.execPath, [BIN, 'train', '--data', data.dir, '--family', 'dcgan', '--size', '32', '--steps', '100000',
    '--out', out, '--config', cfgFile, '--set', 'logEvery=1', '--quiet'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  wrapper.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise<[number | null, string | null]>((r) => wrapper.on('exit', (c, s) => r([c, s])));
  const metrics = join(out, 'metrics.jsonl');
  const deadline = Date.now() + 60_000;
  while (!(existsSync(metrics) && readFileSync(metrics, 'utf8').split('\n').length > 3) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const kids = readFileSync(`/proc/${wrapper.pid}/task/${wrapper.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  assert.equal(kids.length, 1, 'the wrapper runs exactly one child');
  wrapper.kill('SIGTERM');
  const [code, signal] = await exited;
  assert.equal(signal, null);
  assert.equal(code, 143, stdout);
  assert.match(stdout, /stopped by SIGTERM at step \d+; checkpoint saved/);
  assert.throws(() => process.kill(kids[0], 0), { code: 'ESRCH' }, 'the training child is gone, not re-parented and running on');
  const last = lines(metrics).at(-1)!.step;
  const latest = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as { step: number };
  assert.equal(latest.step, last, 'the checkpoint is of the last step trained');
  assert.ok(last >= 3);
});
