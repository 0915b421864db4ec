// `npm run demo -- --quick` end to end through the real binary: train, evaluate, headline figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../data/test_images.js';
import { SKIP_NATIVE } from '../engine/test_util.js';
import { demoConfig } from './demo.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'synthset.js');

test('demo --set overrides the recipe and keeps the rest; a bad key is refused by name', () => {
  const base = demoConfig({});
  assert.equal(base.batchSize, 16);
  assert.equal(base.lecam, null);
  const c = demoConfig({ set: ['lecam.weight=0.1', 'batchSize=32'] });
  assert.deepEqual(c.lecam, { weight: 0.1, decay: 0.99, start: 1000 });
  assert.equal(c.batchSize, 32);
  assert.equal(c.lrDecay, base.lrDecay);
  assert.deepEqual(c.options, base.options);
  assert.throws(() => demoConfig({ set: ['lecam.wieght=1'] }), /wieght/);
});

test('demo --quick trains, evaluates and prints where the report is, with the headline figures', { skip: SKIP_NATIVE, timeout: 240_000 }, () => {
  const t = tempDir('synthset-demo-');
  try {
    const out = join(t.dir, 'demo');
    const r = spawnSync(process.execPath, [BIN, 'demo', '--quick', '--out', out, '--quiet'], { env: { ...process.env, SYNTHSET_NO_REEXEC: '1' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(out, 'report', 'report.json'), 'utf8'));
    for (const k of ['tstr', 'trtr', 'confusion', 'agreement']) assert.ok(k in report, `report.json has "${k}"`);
    assert.ok(report.tstr.accuracy >= 0 && report.tstr.accuracy <= 1);
    assert.ok(existsSync(join(out, 'report', 'report.html')));
    assert.match(r.stdout, /TSTR [\d.]+% vs TRTR [\d.]+%/);
    // Raw and classifier-filtered TSTR side by side (the toy generator's images may all be turned away).
    assert.match(r.stdout, /TSTR on filtered synthetic( [\d.]+% \(ratio [\d.]+\): \d+ of \d+ generated images|: skipped \(the real-data classifier gave)/);
    assert.equal(report.tstr.filtered.threshold, 0.7);
    assert.match(r.stdout, new RegExp(`report: ${join(out, 'report', 'report.html').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));

    assert.match(r.stdout, /bundle: .*bundle/);
    assert.match(r.stdout, /synthetic set: .*synthetic \(100 images, 10 per class/);
    assert.ok(existsSync(join(out, 'bundle', 'index.html')));
    assert.match(readFileSync(join(out, 'bundle', 'MODEL_CARD.md'), 'utf8'), /### tstr/);
    assert.equal(readFileSync(join(out, 'synthetic', 'manifest.csv'), 'utf8').trim().split('\n').length, 101);

    // A larger --steps trains the finished run on from its checkpoint; the same steps again reuse it.
    const again = (...args: string[]) => spawnSync(process.execPath, [BIN, 'demo', '--quick', '--out', out, '--quiet', ...args], { env: { ...process.env, SYNTHSET_NO_REEXEC: '1' }, encoding: 'utf8' });
    const more = again('--steps', '70');
    assert.equal(more.status, 0, more.stderr);
    assert.match(more.stderr, /resuming at step 60 .* to step 70/);
    const last = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').pop()!;
    assert.equal(JSON.parse(last).step, 70);
    const reuse = again('--steps', '70');
    assert.equal(reuse.status, 0, reuse.stderr);
    assert.match(reuse.stderr, /reusing the finished run/);
    assert.equal(again('--steps', '0').status, 1, 'a step count below 1 is refused');

    // The generator the error messages point to `synthset export` for: rebuilt from the checkpoint, it
    // is the one the finished run saved.
    const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, SYNTHSET_NO_REEXEC: '1' }, encoding: 'utf8' });
    const exported = join(t.dir, 'exported');
    const ex = cli('export', out, '--out', exported);
    assert.equal(ex.status, 0, ex.stderr);
    assert.match(ex.stdout, new RegExp(`generator: ${exported}`));
    assert.deepEqual(readFileSync(join(exported, 'weights.bin')), readFileSync(join(out, 'generator', 'weights.bin')));
    const notRun = cli('export', t.dir);
    assert.equal(notRun.status, 1);
    assert.match(notRun.stderr, /is not a run dir \(no config\.json\)/);
  } finally {
    t.done();
  }
});

// Ctrl-C / SIGTERM as a user or a scheduler sends it: to the outer `synthset` process (the wrapper that
// re-executes node), which forwards it; the demo saves a checkpoint, exits 130, and a rerun resumes.
test('demo saves on SIGINT to the outer process and resumes when run again', { skip: SKIP_NATIVE, timeout: 300_000 }, async () => {
  const t = tempDir('synthset-demo-sig-');
  try {
    const out = join(t.dir, 'demo');
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.SYNTHSET_NO_REEXEC;
    const wrapper = spawn(process.execPath, [BIN, 'demo', '--quick', '--out', out, '--quiet', '--steps', '100000'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    wrapper.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((r) => wrapper.on('exit', r));
    const metrics = join(out, 'metrics.jsonl');
    const deadline = Date.now() + 200_000;
    while (!(existsSync(metrics) && readFileSync(metrics, 'utf8').split('\n').length > 3) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    wrapper.kill('SIGINT');
    assert.equal(await exited, 130, stdout);
    assert.match(stdout, /synthset demo: stopped by SIGINT at step (\d+); checkpoint saved/);
    const lines = readFileSync(metrics, 'utf8').trim().split('\n');
    const last = (JSON.parse(lines.at(-1)!) as { step: number }).step;
    const latest = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as { step: number };
    assert.equal(latest.step, last, 'the checkpoint is of the last step trained');
    const again = spawnSync(process.execPath, [BIN, 'demo', '--quick', '--out', out, '--quiet', '--steps', String(last + 2)],
      { env: { ...process.env, SYNTHSET_NO_REEXEC: '1' }, encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`resuming at step ${last} `));
    assert.equal((JSON.parse(readFileSync(metrics, 'utf8').trim().split('\n').at(-1)!) as { step: number }).step, last + 2);
  } finally {
    t.done();
  }
});
